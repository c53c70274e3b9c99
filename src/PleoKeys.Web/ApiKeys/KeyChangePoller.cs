using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.ApiKeys;

/// <summary>
/// Every <see cref="DatabaseOptions.KeyChangePollInterval"/>, reads the keys changed since the last poll (an
/// indexed range on <see cref="ApiKey.ChangedAtUtc"/>, which every change to a key or to its company's API
/// key access moves) and forgets their cached state. It is how a change made by another process (the operator
/// command, another instance) reaches this one on SQLite, and the fallback for a lost notification on
/// PostgreSQL (listener reconnecting, NOTIFY failed after the commit, LISTEN switched off): either way a
/// change of any kind is seen here within one interval.
/// </summary>
public sealed class KeyChangePoller(
    IServiceScopeFactory scopes,
    KeyCache cache,
    TimeProvider time,
    IOptions<DatabaseOptions> options,
    ILogger<KeyChangePoller> logger) : BackgroundService
{
    /// <summary>
    /// ChangedAtUtc is stamped by the writer's clock and committed a little later, so a change can land with a
    /// stamp older than the newest one already seen. Each poll looks back this far behind that watermark, so
    /// instance clocks must agree within it (NTP does far better). A change is acted on once: the change count
    /// of each key seen within the window is remembered, so the look-back costs a few rows read, not re-reads
    /// of the keys.
    /// </summary>
    public static readonly TimeSpan Overlap = TimeSpan.FromMinutes(2);

    /// <summary>Each key changed within the look-back window: its change count and stamp when this poller last acted on it.</summary>
    private readonly Dictionary<string, (int Count, DateTime At)> _seen = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.KeyChangePollInterval;
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
                logger.LogWarning(e, "Polling for changed keys failed; retrying in {Interval}", interval);
            }

            await Task.Delay(interval, time, stoppingToken);
        }
    }

    /// <summary>Invalidates the keys changed since <paramref name="watermark"/>; returns the new watermark.</summary>
    private async Task<DateTime?> PollAsync(DateTime? watermark, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        if (watermark is null)
        {
            // At start nothing is cached yet; changes from about now on are read by the next poll (the look-back
            // covers any made between a first request and this read).
            return await db.ApiKeys.MaxAsync(k => (DateTime?)k.ChangedAtUtc, ct) ?? DateTime.UnixEpoch;
        }

        var since = watermark.Value - Overlap;
        var changed = await db.ApiKeys.AsNoTracking()
            .Where(k => k.ChangedAtUtc > since)
            .Select(k => new { k.KeyId, k.ChangeCount, k.ChangedAtUtc })
            .ToListAsync(ct);
        foreach (var key in changed)
        {
            if (!_seen.TryGetValue(key.KeyId, out var seen) || seen.Count != key.ChangeCount)
            {
                cache.Invalidate(key.KeyId);
            }

            _seen[key.KeyId] = (key.ChangeCount, key.ChangedAtUtc);
        }

        var next = changed.Select(k => k.ChangedAtUtc).Append(watermark.Value).Max();
        foreach (var (keyId, seen) in _seen)
        {
            // Out of the next poll's window: a later change moves its stamp into the window again, with a new
            // count (removal while enumerating is allowed for Dictionary since .NET Core 3.0).
            if (seen.At <= next - Overlap)
            {
                _seen.Remove(keyId);
            }
        }

        return next;
    }
}
