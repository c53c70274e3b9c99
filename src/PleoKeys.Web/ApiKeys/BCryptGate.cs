namespace PleoKeys.Web.ApiKeys;

/// <summary>
/// The only way to run BCrypt: verification (<see cref="KeyVerifier"/>) and creation (the Create page) queue
/// for the same slots, at most <c>ProcessorCount - 1</c> at once (one on a single core), so a burst of either
/// cannot take every core from the API requests that need no BCrypt.
/// </summary>
public sealed class BCryptGate(IKeySecretHasher hasher) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(Math.Max(1, Environment.ProcessorCount - 1));

    /// <summary>Hashes a new key (about 160 ms of a core at work factor 11).</summary>
    /// <exception cref="OperationCanceledException">The request was aborted while waiting for a slot.</exception>
    public Task<string> HashAsync(string key, CancellationToken ct = default) => RunAsync(() => hasher.Hash(key), ct);

    /// <summary>Verifies a presented key against its stored hash.</summary>
    public Task<bool> VerifyAsync(string key, string hash, CancellationToken ct = default) => RunAsync(() => hasher.Verify(key, hash), ct);

    private async Task<T> RunAsync<T>(Func<T> work, CancellationToken ct)
    {
        await _slots.WaitAsync(ct);
        try
        {
            return work();
        }
        finally
        {
            _slots.Release();
        }
    }

    public void Dispose() => _slots.Dispose();
}
