using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Auth;

/// <summary>
/// Writes one audit event when failed authentications against a key id exceed its budget, so the key's
/// history shows that someone is guessing at it. The verifier decides when a burst starts (at most one per
/// key per window); this only writes it down.
/// </summary>
public sealed class AuthFailureAudit(
    IServiceScopeFactory scopes,
    TimeProvider time,
    IOptions<PleoKeysOptions> options,
    ILogger<AuthFailureAudit> logger)
{
    public async Task RecordBurstAsync(string keyId, string? clientAddress)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var key = await db.ApiKeys.AsNoTracking()
            .Where(k => k.KeyId == keyId)
            .Select(k => new { k.Id, k.CompanyId, k.Environment, k.KeyId, k.Last4 })
            .SingleOrDefaultAsync();
        if (key is null)
        {
            // A made-up key id has no history to write to; the per-client budget still throttles it.
            return;
        }

        var fingerprint = ApiKeyFormat.Fingerprint(key.Environment, key.KeyId, key.Last4);
        db.AuditEvents.Add(new AuditEvent
        {
            AtUtc = time.GetUtcNow().UtcDateTime,
            Action = AuditActions.KeyAuthFailures,
            IpAddress = clientAddress,
            CompanyId = key.CompanyId,
            ApiKeyId = key.Id,
            KeyFingerprint = fingerprint,
            Detail = $"more than {options.Value.FailedAuthPerMinutePerKey} in a minute; further attempts are answered 429",
        });
        await db.SaveChangesAsync();
        logger.LogWarning("Failed authentications against API key {KeyFingerprint} ({KeyRowId}) exceeded its budget; from {ClientAddress}",
            fingerprint, key.Id, clientAddress);
    }
}
