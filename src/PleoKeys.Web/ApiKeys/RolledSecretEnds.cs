using Microsoft.EntityFrameworkCore;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.ApiKeys;

/// <summary>
/// Writes the audit row for the end of a rolled key's grace period once it has passed. The end itself needs no
/// job: every request judges <see cref="ApiKey.SecretStopsAtUtc"/> against the clock, so the old secret stops at
/// the exact instant on every instance. This only records it, within <see cref="Interval"/> of the end, once:
/// each row is claimed with a conditional update (<c>WHERE SecretEndAuditedAtUtc IS NULL</c>) in the transaction
/// that inserts its audit row, so of several instances exactly one writes it. A roll whose grace is "now" records
/// the end itself, in the roll's transaction.
/// </summary>
public sealed class RolledSecretEnds(IServiceScopeFactory scopes, TimeProvider time, ILogger<RolledSecretEnds> logger) : BackgroundService
{
    /// <summary>How often ended grace periods are looked for.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RecordEndedAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Retried at the next tick: an end not yet recorded stays unrecorded until then, nothing more.
                logger.LogWarning(e, "Recording the end of rolled keys' grace periods failed; retrying in {Interval}", Interval);
            }

            await Task.Delay(Interval, time, stoppingToken);
        }
    }

    /// <summary>Records every grace period that has ended and is not yet recorded; returns how many this call recorded.</summary>
    public async Task<int> RecordEndedAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var now = time.GetUtcNow().UtcDateTime;
        var ended = await db.ApiKeys.AsNoTracking()
            .Where(k => k.SecretEndAuditedAtUtc == null && k.SecretStopsAtUtc <= now)
            .OrderBy(k => k.SecretStopsAtUtc).Take(500)
            .Select(k => new { k.Id, k.Environment, k.KeyId, k.Last4, k.Name, k.CompanyId, k.SecretStopsAtUtc, k.DeletedAtUtc })
            .ToListAsync(ct);
        var recorded = 0;
        foreach (var key in ended)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var claimed = await db.ApiKeys.Where(k => k.Id == key.Id && k.SecretEndAuditedAtUtc == null)
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.SecretEndAuditedAtUtc, now), ct);
            if (claimed == 0)
            {
                continue;
            }

            db.AuditEvents.Add(SecretEnded(key.Id, ApiKeyFormat.Fingerprint(key.Environment, key.KeyId, key.Last4), key.CompanyId,
                key.SecretStopsAtUtc!.Value, key.DeletedAtUtc is null ? $"\"{key.Name}\": grace period over" : $"\"{key.Name}\": grace period over (deleted before)"));
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            db.ChangeTracker.Clear();
            recorded++;
        }

        return recorded;
    }

    /// <summary>The audit row for the end of a rolled key's old secret, dated when it stopped working.</summary>
    public static AuditEvent SecretEnded(Guid keyRowId, string fingerprint, Guid companyId, DateTime stoppedAtUtc, string detail) => new()
    {
        AtUtc = stoppedAtUtc,
        Action = AuditActions.KeySecretEnded,
        ActorName = "PleoKeys",
        CompanyId = companyId,
        ApiKeyId = keyRowId,
        KeyFingerprint = fingerprint,
        Detail = detail,
    };
}
