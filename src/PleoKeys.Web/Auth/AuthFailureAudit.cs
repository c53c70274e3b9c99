using Microsoft.Extensions.Options;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Auth;

/// <summary>
/// Writes one audit event when failed authentications against a key id reach
/// <see cref="PleoKeysOptions.FailedAuthPerMinutePerKey"/> in a minute, so the key's history shows that someone is
/// guessing at it. <see cref="FailureBudgets"/> decides when a burst starts (once per key per window); this only
/// writes it down.
/// </summary>
public sealed class AuthFailureAudit(
    IServiceScopeFactory scopes,
    TimeProvider time,
    IOptions<PleoKeysOptions> options,
    ILogger<AuthFailureAudit> logger)
{
    /// <summary>Writes the burst's audit row; never throws (a failure is logged), so callers need not wait for it.</summary>
    public async Task RecordBurstAsync(KeySnapshot key, string? clientAddress)
    {
        logger.LogWarning("Failed authentications against API key {KeyFingerprint} ({KeyRowId}) reached {Count} in a minute; from {ClientAddress}",
            key.Fingerprint, key.Id, options.Value.FailedAuthPerMinutePerKey, clientAddress);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            db.AuditEvents.Add(new AuditEvent
            {
                AtUtc = time.GetUtcNow().UtcDateTime,
                Action = AuditActions.KeyAuthFailures,
                IpAddress = clientAddress,
                CompanyId = key.CompanyId,
                ApiKeyId = key.Id,
                KeyFingerprint = key.Fingerprint,
                Detail = $"{options.Value.FailedAuthPerMinutePerKey} in a minute; the key itself keeps working, the failing clients are throttled",
            });
            await db.SaveChangesAsync();
        }
        catch (Exception e)
        {
            logger.LogError(e, "Could not write the audit row for failed authentications against API key {KeyFingerprint}", key.Fingerprint);
        }
    }
}
