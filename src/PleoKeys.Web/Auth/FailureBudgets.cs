using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Web.Auth;

/// <summary>
/// Failed API authentications, counted per client address (the failing client pays; a key's owner never
/// does for someone else's wrong secrets) and per key id (for the audit trail only). Over its budget a client
/// is answered 429 without a lookup, unless it presents a key this instance knows to be good; one that was
/// guessing secrets of real keys waits for that answer (<see cref="PleoKeysOptions.ThrottledResponseDelay"/>,
/// a tarpit). Per instance, like the rate limiter.
/// </summary>
public sealed class FailureBudgets : IDisposable
{
    /// <summary>The window of every count and memory here.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private const int MaxRemembered = 100_000;

    private readonly TimeProvider _time;
    private readonly int _perKey;
    private readonly PartitionedRateLimiter<string> _perClient;

    /// <summary>
    /// Key lookups a client over its budget may still make per window (<see cref="LookupsWhileSpent"/>), so its own
    /// key is found on an instance that has not read it yet, while a flood of made-up keys costs no database reads.
    /// </summary>
    private readonly PartitionedRateLimiter<string> _lookupsWhileSpent;

    public const int LookupsWhileSpent = 10;

    /// <summary>How late, at most, the rate limiter's own timer refills a window, in milliseconds (it ticks every 100 ms).</summary>
    private const long ReplenishLag = 1_000;

    /// <summary>When a failure was last counted, as <see cref="Environment.TickCount64"/> (the limiters' own clock is real time too).</summary>
    private long _lastFailure = long.MinValue / 2;
    private readonly ConcurrentDictionary<string, DateTime> _guessing = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (int Failures, DateTime Ends)> _keyFailures = new(StringComparer.Ordinal);

    public FailureBudgets(IOptions<PleoKeysOptions> options, TimeProvider time)
    {
        _time = time;
        _perKey = Math.Max(1, options.Value.FailedAuthPerMinutePerKey);
        var perClient = Math.Max(1, options.Value.FailedAuthPerMinutePerClient);
        _perClient = PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetFixedWindowLimiter(client, _ =>
            new FixedWindowRateLimiterOptions { PermitLimit = perClient, Window = Window, QueueLimit = 0 }));
        _lookupsWhileSpent = PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetFixedWindowLimiter(client, _ =>
            new FixedWindowRateLimiterOptions { PermitLimit = LookupsWhileSpent, Window = Window, QueueLimit = 0 }));
    }

    /// <summary>For a client over its budget: true while it may still have a key looked up in the database this window.</summary>
    public bool TryLookUpWhileSpent(string client)
    {
        using var lease = _lookupsWhileSpent.AttemptAcquire(client);
        return lease.IsAcquired;
    }

    /// <summary>True when the client has spent its budget for the window: its unknown credentials are refused unread.</summary>
    public bool IsSpent(string client) => FailedRecently && _perClient.GetStatistics(client)?.CurrentAvailablePermits <= 0;

    /// <summary>
    /// False when no client has failed for longer than a window: then none can be over its budget, and a request need
    /// not look its client up (the limiter takes a lock per lookup). Read before working out the client's partition.
    /// </summary>
    public bool FailedRecently => Environment.TickCount64 - Volatile.Read(ref _lastFailure) <= (long)Window.TotalMilliseconds + ReplenishLag;

    /// <summary>Counts a failure of the client's; returns how long to wait when it went over the budget, else null.</summary>
    public TimeSpan? Spend(string client)
    {
        Volatile.Write(ref _lastFailure, Environment.TickCount64);
        using var lease = _perClient.AttemptAcquire(client);
        return lease.IsAcquired ? null : lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) ? retry : Window;
    }

    /// <summary>Marks a client that sent a wrong secret for a key that exists: guessing, not a typo.</summary>
    public void MarkGuessing(string client) => Remember(_guessing, client, _time.GetUtcNow().UtcDateTime + Window);

    public bool IsGuessing(string client) => _guessing.TryGetValue(client, out var until) && until > _time.GetUtcNow().UtcDateTime;

    /// <summary>
    /// Counts a failure against a key id; true exactly once per window, when the failures reach
    /// <see cref="PleoKeysOptions.FailedAuthPerMinutePerKey"/>: the caller audits that burst. Nobody is refused for it.
    /// </summary>
    public bool CountAgainstKey(string keyId)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        if (_keyFailures.Count > MaxRemembered)
        {
            _keyFailures.Clear();
        }

        var counted = _keyFailures.AddOrUpdate(keyId, (1, now + Window),
            (_, old) => old.Ends > now ? (old.Failures + 1, old.Ends) : (1, now + Window));
        return counted.Failures == _perKey;
    }

    private static void Remember(ConcurrentDictionary<string, DateTime> facts, string key, DateTime until)
    {
        if (facts.Count > MaxRemembered)
        {
            facts.Clear();
        }

        facts[key] = until;
    }

    public void Dispose()
    {
        _perClient.Dispose();
        _lookupsWhileSpent.Dispose();
    }
}
