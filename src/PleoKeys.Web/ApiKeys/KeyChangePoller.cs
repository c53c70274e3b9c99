using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.ApiKeys;

/// <summary>
/// The fallback to LISTEN/NOTIFY: every <see cref="DatabaseOptions.RevocationPollSeconds"/> seconds, reads the
/// keys deleted or rolled since the last poll (indexed ranges on DeletedAtUtc and RolledAtUtc) and forgets their
/// cached state. A lost
/// notification (listener reconnecting, NOTIFY failed after the commit) so keeps a deleted key usable on this
/// instance for one interval at most.
/// </summary>
public sealed class KeyChangePoller(
    IServiceScopeFactory scopes,
    KeyVerifier verifier,
    TimeProvider time,
    IOptions<DatabaseOptions> options,
    ILogger<KeyChangePoller> logger) : BackgroundService
{
    /// <summary>
    /// DeletedAtUtc is stamped by the deleting instance's clock and committed a little later, so a deletion
    /// can land with a stamp older than the newest one already seen. Each poll looks back this far behind
    /// that watermark, so instance clocks must agree within it (NTP does far better); re-invalidating a key
    /// costs one database read on its next request, nothing more.
    /// </summary>
    public static readonly TimeSpan Overlap = TimeSpan.FromMinutes(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(Math.Max(1, options.Value.RevocationPollSeconds));
        DateTime? watermark = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                watermark = await PollAsync(watermark, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A failed poll is retried at the next tick; the loop must not die with the database's hiccup.
                logger.LogWarning(e, "Polling for deleted keys failed; retrying in {Interval}", interval);
            }

            await Task.Delay(interval, time, stoppingToken);
        }
    }

    /// <summary>Invalidates the keys deleted or rolled since <paramref name="watermark"/>; returns the new watermark.</summary>
    private async Task<DateTime?> PollAsync(DateTime? watermark, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        if (watermark is null)
        {
            // At start nothing is cached yet, so only deletions from now on matter.
            var deletedUpTo = await db.ApiKeys.MaxAsync(k => k.DeletedAtUtc, ct) ?? DateTime.UnixEpoch;
            var rolledUpTo = await db.ApiKeys.MaxAsync(k => k.RolledAtUtc, ct) ?? DateTime.UnixEpoch;
            return deletedUpTo > rolledUpTo ? deletedUpTo : rolledUpTo;
        }

        var since = watermark.Value - Overlap;
        var deleted = await db.ApiKeys.AsNoTracking()
            .Where(k => k.DeletedAtUtc > since)
            .Select(k => new { k.KeyId, ChangedAtUtc = k.DeletedAtUtc!.Value })
            .ToListAsync(ct);
        var rolled = await db.ApiKeys.AsNoTracking()
            .Where(k => k.RolledAtUtc > since)
            .Select(k => new { k.KeyId, ChangedAtUtc = k.RolledAtUtc!.Value })
            .ToListAsync(ct);
        foreach (var key in deleted.Concat(rolled))
        {
            verifier.Invalidate(key.KeyId);
        }

        return deleted.Concat(rolled).Select(k => k.ChangedAtUtc).Append(watermark.Value).Max();
    }
}
