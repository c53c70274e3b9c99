using System.Collections.Concurrent;
using System.Net;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.ApiKeys;

/// <summary>
/// Records when and from where each key was last used, off the request path: a call only notes it in memory,
/// and every <see cref="FlushInterval"/> the notes are written in one batch (at most one write per key per
/// minute per instance). A write that fails (a locked or unreachable database) is kept and retried at the next
/// flush; the host's stop flushes once more. A crash may lose the last minute, never a request.
/// </summary>
public sealed class LastUsedRecorder(IServiceScopeFactory scopes, TimeProvider time, ILogger<LastUsedRecorder> logger) : BackgroundService
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<Guid, Use> _pending = new();

    private sealed record Use(DateTime AtUtc, IPAddress? Address);

    /// <summary>Notes a call made with the key (by its row id) from the address; never waits.</summary>
    public void Record(Guid keyRowId, IPAddress? address)
    {
        var now = time.GetUtcNow().UtcDateTime;
        // A note from the same address within the second says the same thing: keep it rather than allocate another.
        if (_pending.TryGetValue(keyRowId, out var noted) && now - noted.AtUtc < TimeSpan.FromSeconds(1) && Equals(noted.Address, address))
        {
            return;
        }

        _pending[keyRowId] = new Use(now, address);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync writes what is left.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushAsync(cancellationToken);
    }

    private async Task FlushAsync(CancellationToken ct)
    {
        var batch = new List<KeyValuePair<Guid, Use>>();
        foreach (var pending in _pending)
        {
            // Only the note read: a newer one arriving meanwhile stays for the next flush.
            if (_pending.TryRemove(pending))
            {
                batch.Add(pending);
            }
        }

        if (batch.Count == 0)
        {
            return;
        }

        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            foreach (var (keyRowId, use) in batch)
            {
                var address = use.Address?.ToString();
                // Never backwards: another instance may have written a later use already.
                await db.ApiKeys.Where(k => k.Id == keyRowId && (k.LastUsedAtUtc == null || k.LastUsedAtUtc < use.AtUtc))
                    .ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAtUtc, use.AtUtc).SetProperty(k => k.LastUsedIp, address), ct);
            }

            await transaction.CommitAsync(ct);
        }
        catch (Exception e)
        {
            foreach (var (keyRowId, use) in batch)
            {
                _pending.TryAdd(keyRowId, use);
            }

            logger.LogWarning(e, "Could not write when {Count} API keys were last used; retrying in {Interval}", batch.Count, FlushInterval);
        }
    }
}
