using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace PleoKeys.Web.ApiKeys;

/// <summary>
/// Key creations per user per minute (<see cref="PleoKeysOptions.KeyCreationsPerMinutePerUser"/>), counted in this
/// instance: each creation costs a BCrypt hash, so one user scripting the form cannot keep the BCrypt slots busy.
/// A sliding window of one-second segments, so no 60 seconds hold more (a fixed window allows twice the limit
/// across its boundary).
/// </summary>
public sealed class KeyCreationLimits(IOptions<PleoKeysOptions> options) : IDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly PartitionedRateLimiter<string> _perUser = PartitionedRateLimiter.Create<string, string>(user =>
        RateLimitPartition.GetSlidingWindowLimiter(user, _ => new SlidingWindowRateLimiterOptions
        {
            PermitLimit = Math.Max(1, options.Value.KeyCreationsPerMinutePerUser),
            Window = Window,
            SegmentsPerWindow = 60,
            QueueLimit = 0,
        }));

    /// <summary>Takes one creation from the user's minute; null when allowed, else how long until the next is.</summary>
    public TimeSpan? TryCreate(string userId)
    {
        using var lease = _perUser.AttemptAcquire(userId);
        return lease.IsAcquired ? null
            : lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) ? retry : Window;
    }

    public void Dispose() => _perUser.Dispose();
}
