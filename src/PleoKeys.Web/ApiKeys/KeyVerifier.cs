using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.ApiKeys;

/// <summary>What verification needs to know of a stored key: everything but the plaintext.</summary>
public sealed record KeySnapshot(
    Guid Id,
    string KeyId,
    string SecretHash,
    string Last4,
    KeyEnvironment Environment,
    AccessLevel AccessLevel,
    Guid CompanyId,
    Guid OrganisationId,
    string[] Scopes,
    DateTime CreatedAtUtc,
    DateTime ExpiresAtUtc,
    DateTime? DeletedAtUtc,
    string TimeZoneId)
{
    public string Fingerprint => ApiKeyFormat.Fingerprint(Environment, KeyId, Last4);

    /// <summary>The key's name, which the installation answers with.</summary>
    public string Name { get; init; } = "";

    public DateTime? InstallationActivatedAtUtc { get; init; }
}

/// <summary>Reads one key's row by its public key id (one indexed lookup).</summary>
public interface IKeyStore
{
    Task<KeySnapshot?> FindAsync(string keyId, CancellationToken ct);
}

public enum VerifyOutcome
{
    Valid,
    Malformed,
    BadChecksum,
    WrongEnvironment,
    UnknownOrWrongSecret,
    Expired,
    Deleted,
    Throttled,
}

public sealed record VerifyResult(VerifyOutcome Outcome, KeySnapshot? Key = null, KeyEnvironment? PresentedEnvironment = null, TimeSpan? RetryAfter = null)
{
    public bool Succeeded => Outcome == VerifyOutcome.Valid;
}

/// <summary>
/// Verifies presented keys while paying BCrypt once per key per process instead of once per request.
/// <list type="bullet">
/// <item>Format and checksum are checked first, without the database or BCrypt.</item>
/// <item>After one successful BCrypt verify, an HMAC-SHA-256 of the key under a random per-process secret
/// is kept with the key's state; a later request whose digest matches skips BCrypt (about a microsecond).
/// The digest is useless outside this process, unlike a plain hash of the key.</item>
/// <item>Concurrent first uses of the same key share one BCrypt verify (single flight).</item>
/// <item>The key's state (expiry, deletion, scopes) is re-read from the database as soon as
/// <see cref="Invalidate"/> is called, so deletion bites on the next request; expiry is checked
/// against the clock on every request.</item>
/// <item>Failures are budgeted per client address and per key id; over budget, BCrypt is not even
/// tried, and at most one BCrypt runs at a time so valid (cached) traffic keeps a core.</item>
/// </list>
/// </summary>
public sealed class KeyVerifier : IDisposable
{
    private const int MaxRememberedFailures = 100_000;

    private readonly IKeyStore _store;
    private readonly IKeySecretHasher _hasher;
    private readonly TimeProvider _time;
    private readonly KeyEnvironment _environment;
    private readonly byte[] _digestKey = RandomNumberGenerator.GetBytes(32);

    // One HMAC instance per thread, reused: the one-shot HMACSHA256.HashData sets up a new OpenSSL
    // context on every call, which cost more than the rest of a cached verification.
    private readonly ThreadLocal<IncrementalHash> _hmac;
    private readonly ConcurrentDictionary<string, Entry> _verified = new(StringComparer.Ordinal);
    // Lazy, because GetOrAdd may run its factory on several racing threads and keep only one result:
    // a factory that started the verify directly would start one BCrypt per racing thread.
    private readonly ConcurrentDictionary<string, Lazy<Task<VerifyResult>>> _inFlight = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTime> _knownBad = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _bcryptGate;
    private readonly PartitionedRateLimiter<string> _failuresPerClient;
    private readonly PartitionedRateLimiter<string> _failuresPerKey;

    public KeyVerifier(IKeyStore store, IKeySecretHasher hasher, TimeProvider time, IOptions<PleoKeysOptions> options)
    {
        _hmac = new ThreadLocal<IncrementalHash>(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _digestKey), trackAllValues: true);
        _store = store;
        _hasher = hasher;
        _time = time;
        var o = options.Value;
        _environment = o.Environment;
        _bcryptGate = new SemaphoreSlim(Math.Max(1, Environment.ProcessorCount - 1));
        _failuresPerClient = FailureBudget(o.FailedAuthPerMinutePerClient);
        _failuresPerKey = FailureBudget(o.FailedAuthPerMinutePerKey);
    }

    private sealed class Entry(KeySnapshot snapshot, byte[] digest)
    {
        public KeySnapshot Snapshot { get; set; } = snapshot;
        public byte[] Digest { get; } = digest;
        public volatile bool Stale;
    }

    /// <summary>Counts the BCrypt verifies this verifier ran (for tests and the benchmark).</summary>
    public long BCryptVerifies => Interlocked.Read(ref _bcryptVerifies);

    private long _bcryptVerifies;

    public async Task<VerifyResult> VerifyAsync(string presented, string? client, CancellationToken ct = default)
    {
        var formatError = ApiKeyFormat.TryParse(presented, out var parsed);
        if (formatError != KeyFormatError.None)
        {
            return Fail(formatError == KeyFormatError.BadChecksum ? VerifyOutcome.BadChecksum : VerifyOutcome.Malformed, client, null);
        }

        if (parsed!.Environment != _environment)
        {
            return Fail(VerifyOutcome.WrongEnvironment, client, null, parsed.Environment);
        }

        var digest = Digest(presented);
        if (_verified.TryGetValue(parsed.KeyId, out var entry) && CryptographicOperations.FixedTimeEquals(entry.Digest, digest))
        {
            if (entry.Stale)
            {
                // Re-read the state only; the secret was verified already and the hash does not change.
                entry.Stale = false;
                var fresh = await _store.FindAsync(parsed.KeyId, ct);
                if (fresh is null || fresh.SecretHash != entry.Snapshot.SecretHash)
                {
                    _verified.TryRemove(parsed.KeyId, out _);
                    return Fail(VerifyOutcome.UnknownOrWrongSecret, client, parsed.KeyId);
                }

                entry.Snapshot = fresh;
            }

            return Judge(entry.Snapshot);
        }

        var flightKey = parsed.KeyId + ":" + Convert.ToBase64String(digest);
        if (_knownBad.TryGetValue(flightKey, out var badUntil) && badUntil > Now)
        {
            return Fail(VerifyOutcome.UnknownOrWrongSecret, client, parsed.KeyId);
        }

        // Over budget, do not spend BCrypt on this client or key id at all.
        if (Exhausted(_failuresPerClient, client ?? "-") is { } clientWait)
        {
            return new VerifyResult(VerifyOutcome.Throttled, RetryAfter: clientWait);
        }

        if (Exhausted(_failuresPerKey, parsed.KeyId) is { } keyWait)
        {
            return new VerifyResult(VerifyOutcome.Throttled, RetryAfter: keyWait);
        }

        var flight = _inFlight.GetOrAdd(flightKey, _ => new Lazy<Task<VerifyResult>>(() => VerifySlowAsync(parsed, digest, flightKey)));
        var result = await flight.Value.WaitAsync(ct);
        return result.Succeeded || result.Outcome is VerifyOutcome.Expired or VerifyOutcome.Deleted
            ? result
            : Fail(result.Outcome, client, parsed.KeyId);
    }

    /// <summary>Forgets what is known of the key's state, so the next request re-reads it.</summary>
    public void Invalidate(string keyId)
    {
        if (_verified.TryGetValue(keyId, out var entry))
        {
            entry.Stale = true;
        }
    }

    /// <summary>Forgets every key's state (a lost notification, a reconnect).</summary>
    public void InvalidateAll()
    {
        foreach (var entry in _verified.Values)
        {
            entry.Stale = true;
        }
    }

    private async Task<VerifyResult> VerifySlowAsync(ParsedApiKey parsed, byte[] digest, string flightKey)
    {
        try
        {
            // Let the caller's GetOrAdd finish before doing work, so every concurrent caller joins this task.
            await Task.Yield();

            // A flight that finished between this caller's cache miss and its GetOrAdd has left its answer
            // (unless the key changed since, which the full path below re-reads).
            if (_verified.TryGetValue(parsed.KeyId, out var done) && !done.Stale && CryptographicOperations.FixedTimeEquals(done.Digest, digest))
            {
                return Judge(done.Snapshot);
            }

            var snapshot = await _store.FindAsync(parsed.KeyId, CancellationToken.None);
            if (snapshot is null)
            {
                Remember(flightKey);
                return new VerifyResult(VerifyOutcome.UnknownOrWrongSecret);
            }

            bool matches;
            await _bcryptGate.WaitAsync();
            try
            {
                Interlocked.Increment(ref _bcryptVerifies);
                matches = _hasher.Verify(parsed.Key, snapshot.SecretHash);
            }
            finally
            {
                _bcryptGate.Release();
            }

            if (!matches)
            {
                Remember(flightKey);
                return new VerifyResult(VerifyOutcome.UnknownOrWrongSecret);
            }

            _verified[parsed.KeyId] = new Entry(snapshot, digest);
            return Judge(snapshot);
        }
        finally
        {
            _inFlight.TryRemove(flightKey, out _);
        }
    }

    private VerifyResult Judge(KeySnapshot key) =>
        key.DeletedAtUtc is not null ? new VerifyResult(VerifyOutcome.Deleted, key)
        : Now >= key.ExpiresAtUtc ? new VerifyResult(VerifyOutcome.Expired, key)
        : new VerifyResult(VerifyOutcome.Valid, key);

    private VerifyResult Fail(VerifyOutcome outcome, string? client, string? keyId, KeyEnvironment? environment = null)
    {
        // Each failure spends budget; once a budget is spent the answer becomes 429 with Retry-After.
        using var clientLease = _failuresPerClient.AttemptAcquire(client ?? "-");
        if (!clientLease.IsAcquired)
        {
            return new VerifyResult(VerifyOutcome.Throttled, RetryAfter: RetryAfterOf(clientLease));
        }

        if (keyId is not null)
        {
            using var keyLease = _failuresPerKey.AttemptAcquire(keyId);
            if (!keyLease.IsAcquired)
            {
                return new VerifyResult(VerifyOutcome.Throttled, RetryAfter: RetryAfterOf(keyLease));
            }
        }

        return new VerifyResult(outcome, PresentedEnvironment: environment);
    }

    private static TimeSpan? Exhausted(PartitionedRateLimiter<string> limiter, string partition) =>
        limiter.GetStatistics(partition)?.CurrentAvailablePermits <= 0 ? TimeSpan.FromSeconds(60) : null;

    private static TimeSpan RetryAfterOf(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) ? retry : TimeSpan.FromSeconds(60);

    private void Remember(string flightKey)
    {
        if (_knownBad.Count > MaxRememberedFailures)
        {
            _knownBad.Clear();
        }

        _knownBad[flightKey] = Now.AddMinutes(1);
    }

    private DateTime Now => _time.GetUtcNow().UtcDateTime;

    private byte[] Digest(string presented)
    {
        Span<byte> ascii = stackalloc byte[ApiKeyFormat.Length];
        var n = Encoding.ASCII.GetBytes(presented, ascii);
        var hmac = _hmac.Value!;
        hmac.AppendData(ascii[..n]);
        return hmac.GetHashAndReset();
    }

    private static PartitionedRateLimiter<string> FailureBudget(int perMinute) =>
        PartitionedRateLimiter.Create<string, string>(partition => RateLimitPartition.GetFixedWindowLimiter(partition, _ =>
            new FixedWindowRateLimiterOptions { PermitLimit = Math.Max(1, perMinute), Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));

    public void Dispose()
    {
        _bcryptGate.Dispose();
        _failuresPerClient.Dispose();
        _failuresPerKey.Dispose();
        foreach (var hmac in _hmac.Values)
        {
            hmac.Dispose();
        }

        _hmac.Dispose();
    }
}
