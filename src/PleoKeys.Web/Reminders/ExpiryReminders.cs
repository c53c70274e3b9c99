using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MimeKit;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Auth;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Reminders;

/// <summary>
/// Finds the expiry reminders that are due, records each once in the database, and sends the recorded ones.
/// <para>
/// Due: a key that is not deleted gets its 30-day reminder when it expires within 30 days, the 7-day one within 7
/// days, the 1-day one within a day, and the expired one once it has expired (for <see cref="ExpiredWindow"/>).
/// Only the latest reminder due is recorded: a key already 5 days from expiry when it is first seen (a new install,
/// a key created with a short expiry, an app down for weeks) gets the 7-day reminder, not the 30-day one as well.
/// </para>
/// <para>
/// Once: the row's primary key (ApiKeyId, Threshold) admits one record per reminder whatever the number of
/// instances (INSERT … ON CONFLICT DO NOTHING); to send it an instance claims it with a conditional UPDATE that moves
/// NextAttemptAtUtc <see cref="Lease"/> ahead, so exactly one instance holds it at a time. Only the holder records
/// the outcome: sent, or a failure to be retried after a back-off. A process that dies while holding it leaves
/// the lease to run out, and another instance sends it then.
/// </para>
/// </summary>
public sealed class ExpiryReminders(
    IServiceScopeFactory scopes,
    IMailSender sender,
    TimeProvider time,
    IOptions<EmailOptions> email,
    IOptions<PleoKeysOptions> pleoKeys,
    PublicUrls publicUrls,
    Microsoft.Extensions.Localization.IStringLocalizer<SharedResource> t,
    ILogger<ExpiryReminders> logger)
{
    /// <summary>The reminders, earliest first, with how long before expiry each is due.</summary>
    public static readonly IReadOnlyList<ReminderThreshold> Thresholds =
        [ReminderThreshold.ThirtyDays, ReminderThreshold.SevenDays, ReminderThreshold.OneDay, ReminderThreshold.Expired];

    /// <summary>
    /// How long after expiry the expired reminder is still sent: a key that expired long before this service first
    /// ran (or was down) gets no email; it is on the list with its Expired badge.
    /// </summary>
    public static readonly TimeSpan ExpiredWindow = TimeSpan.FromDays(7);

    /// <summary>How long a claim holds: far longer than a send can take (<see cref="SmtpMailSender.Timeout"/> per step).</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(10);

    /// <summary>Reminders sent per scan at most, so a backlog is worked off over several scans rather than in one burst.</summary>
    public const int BatchSize = 200;

    /// <summary>The reminder due for a key expiring at <paramref name="expiresAtUtc"/>, or null when none is.</summary>
    public static ReminderThreshold? DueAt(DateTime expiresAtUtc, DateTime nowUtc)
    {
        var left = expiresAtUtc - nowUtc;
        return left <= TimeSpan.Zero ? (-left < ExpiredWindow ? ReminderThreshold.Expired : null)
            : left <= TimeSpan.FromDays(1) ? ReminderThreshold.OneDay
            : left <= TimeSpan.FromDays(7) ? ReminderThreshold.SevenDays
            : left <= TimeSpan.FromDays(30) ? ReminderThreshold.ThirtyDays
            : null;
    }

    /// <summary>After a failed send: 1, 2, 4 … minutes, at most an hour (the next scan picks it up once this has passed).</summary>
    public static TimeSpan RetryDelay(int attempts) =>
        TimeSpan.FromMinutes(Math.Min(60, Math.Pow(2, Math.Clamp(attempts - 1, 0, 6))));

    /// <summary>One scan: records the reminders now due, then sends the recorded ones whose time has come. Returns how many were sent.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await RecordDueAsync(db, ct);

        var now = time.GetUtcNow().UtcDateTime;
        var pending = await db.KeyReminders.AsNoTracking()
            .Where(r => r.NextAttemptAtUtc != null && r.NextAttemptAtUtc <= now)
            .OrderBy(r => r.NextAttemptAtUtc)
            .Select(r => new { r.ApiKeyId, r.Threshold })
            .Take(BatchSize)
            .ToListAsync(ct);
        var sent = 0;
        foreach (var r in pending)
        {
            if (await TrySendAsync(db, r.ApiKeyId, r.Threshold, ct))
            {
                sent++;
            }
        }

        return sent;
    }

    /// <summary>
    /// Records, per threshold, the keys in its expiry range that have neither this reminder nor a later one: an
    /// indexed range on ExpiresAtUtc and a primary-key probe per key, so a scan with nothing to do reads nothing.
    /// </summary>
    private async Task RecordDueAsync(AppDbContext db, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        foreach (var threshold in Thresholds)
        {
            var (after, upTo) = threshold switch
            {
                ReminderThreshold.ThirtyDays => (now.AddDays(7), now.AddDays(30)),
                ReminderThreshold.SevenDays => (now.AddDays(1), now.AddDays(7)),
                ReminderThreshold.OneDay => (now, now.AddDays(1)),
                _ => (now - ExpiredWindow, now),
            };
            var due = await db.ApiKeys.AsNoTracking()
                .Where(k => k.DeletedAtUtc == null && k.RolledAtUtc == null && k.ExpiresAtUtc > after && k.ExpiresAtUtc <= upTo)
                .Where(k => !db.KeyReminders.Any(r => r.ApiKeyId == k.Id && r.Threshold <= threshold))
                .Select(k => k.Id)
                .ToListAsync(ct);
            foreach (var keyId in due)
            {
                // Both providers speak ON CONFLICT (SQLite 3.24+, PostgreSQL 9.5+): another instance's record wins quietly.
                var recorded = await db.Database.ExecuteSqlAsync(
                    $"""
                    INSERT INTO "KeyReminders" ("ApiKeyId", "Threshold", "CreatedAtUtc", "NextAttemptAtUtc", "Attempts", "RecipientCount")
                    VALUES ({keyId}, {(int)threshold}, {now}, {now}, 0, 0) ON CONFLICT DO NOTHING
                    """,
                    ct);
                if (recorded == 1)
                {
                    logger.LogInformation("Expiry reminder {Threshold} recorded for API key {ApiKeyId}", threshold, keyId);
                }
            }
        }
    }

    /// <summary>Claims one recorded reminder and sends it; false when another instance holds it or it was not sent.</summary>
    private async Task<bool> TrySendAsync(AppDbContext db, Guid keyId, ReminderThreshold threshold, CancellationToken ct)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var token = Guid.NewGuid();
        var leaseEnd = now + Lease;
        var claimed = await db.KeyReminders
            .Where(r => r.ApiKeyId == keyId && r.Threshold == threshold && r.NextAttemptAtUtc != null && r.NextAttemptAtUtc <= now)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.NextAttemptAtUtc, leaseEnd)
                .SetProperty(r => r.ClaimToken, token)
                .SetProperty(r => r.Attempts, r => r.Attempts + 1), ct);
        if (claimed == 0)
        {
            return false;
        }

        var key = await db.ApiKeys.AsNoTracking()
            .Where(k => k.Id == keyId)
            .Select(k => new
            {
                k.Id, k.Name, k.Environment, k.KeyId, k.Last4, k.CompanyId, k.OrganisationId,
                k.ExpiresAtUtc, k.LastUsedAtUtc, k.DeletedAtUtc, k.RolledAtUtc, CompanyName = k.Company.Name, k.Company.TimeZoneId,
            })
            .SingleAsync(ct);
        // Deleted since it was recorded, or held up (SMTP down) until a later reminder became due: that one is sent instead.
        // A deleted key needs no reminder, nor one rolled (renewed) since: its replacement has reminders of its own.
        if (key.DeletedAtUtc is not null || key.RolledAtUtc is not null || DueAt(key.ExpiresAtUtc, now) != threshold)
        {
            await FinishAsync(db, keyId, threshold, token, sentAt: null, 0, key.DeletedAtUtc is not null ? "Key deleted." : key.RolledAtUtc is not null ? "Key rolled." : "Superseded by a later reminder.", ct);
            return false;
        }

        var recipients = await RecipientsAsync(db, key.OrganisationId, key.CompanyId, ct);
        if (recipients.Count == 0)
        {
            logger.LogWarning("Expiry reminder {Threshold} for API key {ApiKeyId} has no recipient with a work email; not sent", threshold, keyId);
            await FinishAsync(db, keyId, threshold, token, sentAt: null, 0, "No Admin or Bookkeeper with a work email.", ct);
            return false;
        }

        // One email per language, each in its recipients' own (their Settings → Profile choice, else English). The
        // English one keeps the reminder's Message-Id; another language's adds its name, so each is still one id for
        // every attempt (a retry after a partial send repeats ids the mail systems already know).
        var reminderKey = new ReminderKey(key.Id, key.Name, ApiKeyFormat.Fingerprint(key.Environment, key.KeyId, key.Last4), key.CompanyName,
            key.TimeZoneId, key.ExpiresAtUtc, key.LastUsedAtUtc);
        var messages = recipients.GroupBy(r => AppCultures.IsSupported(r.Language) ? r.Language! : AppCultures.Default)
            .OrderBy(g => g.Key == AppCultures.Default ? "" : g.Key, StringComparer.Ordinal)
            .Select(g => AppCultures.With(g.Key, () =>
            {
                var message = ReminderEmail.Compose(reminderKey, threshold, MailboxAddress.Parse(email.Value.From), g.Select(r => r.Address), publicUrls.BaseUrl, t);
                if (g.Key != AppCultures.Default)
                {
                    message.MessageId = message.MessageId!.Replace("@", "." + g.Key + "@", StringComparison.Ordinal);
                }

                return message;
            }))
            .ToList();
        try
        {
            foreach (var message in messages)
            {
                await sender.SendAsync(message, ct);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            var attempts = await db.KeyReminders.Where(r => r.ApiKeyId == keyId && r.Threshold == threshold)
                .Select(r => r.Attempts).SingleAsync(CancellationToken.None);
            var retryAt = time.GetUtcNow().UtcDateTime + RetryDelay(attempts);
            var error = $"{e.GetType().Name}: {e.Message}";
            await db.KeyReminders
                .Where(r => r.ApiKeyId == keyId && r.Threshold == threshold && r.ClaimToken == token)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.NextAttemptAtUtc, retryAt)
                    .SetProperty(r => r.ClaimToken, (Guid?)null)
                    .SetProperty(r => r.LastError, error.Length > 500 ? error[..500] : error), CancellationToken.None);
            logger.LogWarning(e, "Expiry reminder {Threshold} for API key {ApiKeyId} was not sent (attempt {Attempts}); retrying after {RetryAt:o}",
                threshold, keyId, attempts, retryAt);
            return false;
        }

        // The server has the email: record it even if the scan is being stopped, or it would be sent again.
        await FinishAsync(db, keyId, threshold, token, time.GetUtcNow().UtcDateTime, recipients.Count, null, CancellationToken.None);
        logger.LogInformation("Expiry reminder {Threshold} for API key {ApiKeyId} sent to {RecipientCount} recipient(s)", threshold, keyId, recipients.Count);
        return true;
    }

    private static Task<int> FinishAsync(
        AppDbContext db, Guid keyId, ReminderThreshold threshold, Guid token, DateTime? sentAt, int recipientCount, string? reason, CancellationToken ct) =>
        db.KeyReminders
            .Where(r => r.ApiKeyId == keyId && r.Threshold == threshold && r.ClaimToken == token)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.NextAttemptAtUtc, (DateTime?)null)
                .SetProperty(r => r.SentAtUtc, sentAt)
                .SetProperty(r => r.RecipientCount, recipientCount)
                .SetProperty(r => r.LastError, reason), ct);

    /// <summary>
    /// The key's creator and the Admins and Bookkeepers of its company (company-level members of that company and
    /// organisation-level members of its organisation), each with a work email. The creator is reached as one of
    /// them: a creator who has since left the company or become an Employee can neither see nor renew the key, and
    /// gets nothing, as Employees and accounts on a personal email domain (<c>PleoKeys:PersonalEmailDomains</c>) don't.
    /// </summary>
    private async Task<List<(MailboxAddress Address, string? Language)>> RecipientsAsync(
        AppDbContext db, Guid organisationId, Guid companyId, CancellationToken ct)
    {
        var members = await (
                from m in db.Memberships.AsNoTracking()
                where m.OrganisationId == organisationId && (m.CompanyId == null || m.CompanyId == companyId)
                      && (m.Role == MemberRole.Admin || m.Role == MemberRole.Bookkeeper)
                join u in db.Users.AsNoTracking() on m.UserId equals u.Id
                select new { u.Id, u.Email, u.DisplayName, u.Language })
            .ToListAsync(ct);
        var personal = pleoKeys.Value.PersonalEmailDomains;
        return members
            .Where(u => !string.IsNullOrWhiteSpace(u.Email) && !CurrentCompany.IsPersonalEmail(u.Email, personal))
            .DistinctBy(u => u.Email!.ToUpperInvariant())
            .OrderBy(u => u.Email, StringComparer.OrdinalIgnoreCase)
            .Select(u => (new MailboxAddress(u.DisplayName, u.Email), (string?)u.Language))
            .ToList();
    }
}
