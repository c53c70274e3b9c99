using System.Diagnostics;
using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Bench.Hooks;

/// <summary>BCrypt calls since the process started, for <c>GET /bench/stats</c>.</summary>
public sealed class BenchCounters
{
    private long _verifies;
    private long _hashes;

    public long BCryptVerifies => Interlocked.Read(ref _verifies);

    public long BCryptHashes => Interlocked.Read(ref _hashes);

    internal void Verified() => Interlocked.Increment(ref _verifies);

    internal void Hashed() => Interlocked.Increment(ref _hashes);
}

/// <summary>
/// The app's BCrypt hasher, counted: every verify and hash in the process, and the hashing time of the current
/// page request (for its <c>Server-Timing</c> header, see <see cref="BenchStartupFilter"/>).
/// </summary>
public sealed class CountingHasher(IKeySecretHasher inner, BenchCounters counters) : IKeySecretHasher
{
    /// <summary>The timing of the page request running on this async flow, if any.</summary>
    internal static readonly AsyncLocal<RequestTiming?> Current = new();

    public string Hash(string key)
    {
        var started = Stopwatch.GetTimestamp();
        var hash = inner.Hash(key);
        counters.Hashed();
        if (Current.Value is { } timing)
        {
            timing.Hashed(Stopwatch.GetElapsedTime(started));
        }

        return hash;
    }

    public bool Verify(string key, string hash)
    {
        counters.Verified();
        return inner.Verify(key, hash);
    }
}

/// <summary>One request's server time and the BCrypt hashing inside it.</summary>
internal sealed class RequestTiming(long started)
{
    private long _hashes;
    private long _hashTicks;

    public long Started { get; } = started;

    public long Hashes => Interlocked.Read(ref _hashes);

    public TimeSpan HashTime => TimeSpan.FromTicks(Interlocked.Read(ref _hashTicks));

    public void Hashed(TimeSpan time)
    {
        Interlocked.Increment(ref _hashes);
        Interlocked.Add(ref _hashTicks, time.Ticks);
    }
}
