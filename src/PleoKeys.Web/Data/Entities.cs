using Microsoft.AspNetCore.Identity;
using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Web.Data;

public sealed class AppUser : IdentityUser
{
    public string DisplayName { get; set; } = "";

    /// <summary>The company the user lands in after signing in.</summary>
    public Guid? DefaultCompanyId { get; set; }

    /// <summary>
    /// The language the user chose under Settings → Profile (one of <see cref="AppCultures.Supported"/>, such as "da");
    /// null when they have not chosen, and the browser's Accept-Language decides.
    /// </summary>
    [System.ComponentModel.DataAnnotations.MaxLength(16)]
    public string? Language { get; set; }
}

/// <summary>A business; a multi-entity organisation has several companies (entities).</summary>
public sealed class Organisation
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public List<Company> Companies { get; } = [];
}

/// <summary>An entity of an organisation. Pleo's API calls it a company.</summary>
public sealed class Company
{
    public Guid Id { get; set; }
    public Guid OrganisationId { get; set; }
    public Organisation Organisation { get; set; } = null!;
    public string Name { get; set; } = "";
    public string Country { get; set; } = "";

    /// <summary>IANA id; key expiry dates end at midnight in this zone.</summary>
    public string TimeZoneId { get; set; } = "UTC";

    /// <summary>The onboarding flag: set by Pleo (seed data or the operator command), never self-service.</summary>
    public bool ApiKeyAccess { get; set; }
}

public enum MemberRole
{
    Employee,
    Bookkeeper,
    Admin,
}

/// <summary>A user's role, either in one company or (CompanyId null) across the whole organisation.</summary>
public sealed class Membership
{
    public int Id { get; set; }
    public string UserId { get; set; } = "";
    public Guid OrganisationId { get; set; }
    public Guid? CompanyId { get; set; }
    public MemberRole Role { get; set; }
}

public enum AccessLevel
{
    Company,
    Organisation,
}

/// <summary>
/// A standalone API key. Only the BCrypt hash of the key is stored, beside the non-secret parts needed
/// to find it (KeyId) and show it (environment prefix, KeyId, last 4 characters).
/// A deleted key keeps its row and hash (DeletedAtUtc set) so its holder can be told it was deleted.
/// </summary>
public sealed class ApiKey
{
    public Guid Id { get; set; }
    public string KeyId { get; set; } = "";
    public KeyEnvironment Environment { get; set; }
    public string Last4 { get; set; } = "";
    public string SecretHash { get; set; } = "";

    /// <summary>
    /// HMAC-SHA-256 of the key under the server secret <see cref="DigestSecretId"/> names (see
    /// <see cref="ApiKeys.KeyDigests"/>): written at creation, or after the key's first BCrypt verify when it has
    /// none or one under a retired secret. Useless without the secret, which is never in the database.
    /// </summary>
    public byte[]? SecretDigest { get; set; }

    public string? DigestSecretId { get; set; }

    public string Name { get; set; } = "";

    /// <summary>
    /// The name in its case-folded search form (<see cref="ApiKeys.KeyName.Fold"/>: Unicode full case folding,
    /// NFC), so search ignores case in every alphabet and compares the same strings on every provider. Rows
    /// from before the folding (empty after the FoldedKeyNames migration) are filled in at start-up.
    /// </summary>
    public string NormalizedName { get; set; } = "";

    public AccessLevel AccessLevel { get; set; }

    /// <summary>The company the key was created in; for an entity key, the one it reaches.</summary>
    public Guid CompanyId { get; set; }

    public Company Company { get; set; } = null!;
    public Guid OrganisationId { get; set; }

    /// <summary>Space-separated scope strings, in catalogue order.</summary>
    public string Scopes { get; set; } = "";

    public DateTime CreatedAtUtc { get; set; }
    public string CreatedByUserId { get; set; } = "";
    public string CreatedByName { get; set; } = "";

    /// <summary>The end of the chosen expiry date in the company's time zone.</summary>
    public DateTime ExpiresAtUtc { get; set; }

    public DateTime? DeletedAtUtc { get; set; }
    public string? DeletedByUserId { get; set; }
    public DateTime? LastUsedAtUtc { get; set; }
    public string? LastUsedIp { get; set; }
    public DateTime? InstallationActivatedAtUtc { get; set; }

    /// <summary>
    /// The single-use id of the form submission that created the key (see <see cref="Auth.FormTicket"/>); unique,
    /// so a repeated submission of the same form cannot create a second key.
    /// </summary>
    public string? SubmissionId { get; set; }

    /// <summary>
    /// When anything a verifier caches about the key last changed: its own state (deleted, activated, …) or
    /// its company's API key access. Every instance polls "changed since …" on its index (KeyChangePoller), so
    /// no change kind can be missed. Set with <see cref="ChangeCount"/> by <see cref="MarkChanged"/> (or, in an
    /// ExecuteUpdate, both by hand); a new key gets its <see cref="CreatedAtUtc"/>. Last-used writes leave it
    /// alone: nothing cached depends on them.
    /// </summary>
    public DateTime ChangedAtUtc { get; set; }

    /// <summary>
    /// How many times the key has changed: tells two changes apart that carry the same clock time (clocks
    /// repeat, a test's stands still), so a poller that has seen one still sees the next.
    /// </summary>
    public int ChangeCount { get; set; }

    /// <summary>Records a change to the key, for every instance's poller to find.</summary>
    public void MarkChanged(DateTime nowUtc)
    {
        ChangedAtUtc = nowUtc;
        ChangeCount++;
    }

    /// <summary>When the key was rolled (Pages/Settings/ApiKeys/Roll): its secret was replaced by <see cref="ReplacedByKeyId"/>.</summary>
    public DateTime? RolledAtUtc { get; set; }

    /// <summary>The row of the key that replaced this one when it was rolled.</summary>
    public Guid? ReplacedByKeyId { get; set; }

    /// <summary>
    /// The instant a rolled key's secret stops working (the end of the grace period the roller chose, never after the
    /// key's expiry); judged against the clock on every request, like expiry.
    /// </summary>
    public DateTime? SecretStopsAtUtc { get; set; }

    /// <summary>Set when the end of a rolled key's secret was written to the audit trail (once, by whichever instance got there first).</summary>
    public DateTime? SecretEndAuditedAtUtc { get; set; }

    /// <summary>
    /// The IP allowlist: addresses and CIDR ranges in their canonical form (<see cref="ApiKeys.AllowedNetworks"/>),
    /// space-separated; empty, the key works from anywhere. A call from elsewhere is refused with 403.
    /// </summary>
    public string AllowedNetworks { get; set; } = "";

    /// <summary>
    /// When the key was revoked because someone reported it as exposed (POST /v1/credential-revocations); the API Keys
    /// list shows a banner for it until an Admin dismisses it.
    /// </summary>
    public DateTime? ReportedExposedAtUtc { get; set; }

    public string Fingerprint => ApiKeyFormat.Fingerprint(Environment, KeyId, Last4);
}

/// <summary>
/// A new key waiting to be shown once (see Pages/Settings/ApiKeys/Reveal): the key encrypted with Data Protection
/// (never in plaintext), bound to the user and sign-in session that created it, expiring within minutes and
/// deleted by the request that shows it.
/// </summary>
public sealed class KeyReveal
{
    /// <summary>The new key's row; one reveal per key.</summary>
    public Guid ApiKeyId { get; set; }

    public string UserId { get; set; } = "";

    /// <summary>
    /// The creating sign-in session: the user's security stamp (which signing out replaces) and the session's id
    /// (<see cref="Auth.PleoSignInManager.SessionOf"/>), so neither a signed-out cookie nor the user's other
    /// sessions can read the reveal.
    /// </summary>
    public string SessionStamp { get; set; } = "";

    /// <summary>The key, protected with the reveal's Data Protection purpose.</summary>
    public string ProtectedKey { get; set; } = "";

    public DateTime ExpiresAtUtc { get; set; }
}

/// <summary>
/// The expiry reminders of a key: 30, 7 and 1 day before it expires, and when it has expired. The values are the
/// days before expiry, so a later reminder has a smaller value.
/// </summary>
public enum ReminderThreshold
{
    Expired = 0,
    OneDay = 1,
    SevenDays = 7,
    ThirtyDays = 30,
}

/// <summary>
/// One expiry reminder of one key (see <see cref="Reminders.ExpiryReminders"/>). The row is recorded before the
/// email is sent, and its primary key (ApiKeyId, Threshold) lets it be recorded once, whatever the number of
/// instances; an instance claims the send by moving <see cref="NextAttemptAtUtc"/> ahead with a conditional update.
/// </summary>
public sealed class KeyReminder
{
    public Guid ApiKeyId { get; set; }
    public ReminderThreshold Threshold { get; set; }

    /// <summary>When the reminder was found due and recorded.</summary>
    public DateTime CreatedAtUtc { get; set; }

    /// <summary>
    /// When an instance may next try to send it: due at once when recorded, then moved ahead by the instance that
    /// claims it (a lease) or after a failed send (a back-off). Null once sent or given up.
    /// </summary>
    public DateTime? NextAttemptAtUtc { get; set; }

    /// <summary>The claim of the instance sending it now: only that instance may record the outcome.</summary>
    public Guid? ClaimToken { get; set; }

    public int Attempts { get; set; }

    /// <summary>When the SMTP server (or the pickup folder) accepted the email.</summary>
    public DateTime? SentAtUtc { get; set; }

    public int RecipientCount { get; set; }

    /// <summary>Why the last attempt failed, or why the reminder was given up; never a secret.</summary>
    public string? LastError { get; set; }
}

/// <summary>The outcome buckets of a key's recorded API requests.</summary>
public enum UsageOutcome
{
    /// <summary>1xx, 2xx and 3xx.</summary>
    Success,

    /// <summary>401 and 403.</summary>
    Denied,

    /// <summary>429.</summary>
    RateLimited,

    /// <summary>Any other 4xx.</summary>
    ClientError,

    /// <summary>5xx.</summary>
    ServerError,
}

/// <summary>
/// A key's API requests in one UTC hour to one endpoint with one outcome (see <see cref="Api.UsageRecorder"/>): counted
/// in memory and added here in batches by every instance, so instances add up. Kept 90 days.
/// </summary>
public sealed class KeyUsageHour
{
    public Guid ApiKeyId { get; set; }

    /// <summary>The start of the hour, UTC.</summary>
    public DateTime HourUtc { get; set; }

    /// <summary>The route, such as <c>GET /v1/vendors</c>; <c>other</c> for a path no endpoint serves.</summary>
    public string Endpoint { get; set; } = "";

    /// <summary>The scope's resource (<c>vendors</c>, <c>accounts</c>, …), or the path's first segment for an endpoint without a scope.</summary>
    public string EndpointGroup { get; set; } = "";

    /// <summary>The scope the endpoint requires; empty when any key may call it.</summary>
    public string Scope { get; set; } = "";

    public UsageOutcome Outcome { get; set; }

    public long Requests { get; set; }
}

/// <summary>An address a key was used from (authenticated requests only), with when it was first and last seen. Kept 90 days after last seen.</summary>
public sealed class KeyUsageAddress
{
    public Guid ApiKeyId { get; set; }

    /// <summary>The client address after the forwarded-headers rules; an IPv4-mapped IPv6 address is written as IPv4.</summary>
    public string Address { get; set; } = "";

    public DateTime FirstSeenUtc { get; set; }
    public DateTime LastSeenUtc { get; set; }
    public long Requests { get; set; }
}

/// <summary>Append-only: the application inserts audit rows and never updates or deletes them.</summary>
public sealed class AuditEvent
{
    public long Id { get; set; }
    public DateTime AtUtc { get; set; }
    public string Action { get; set; } = "";
    public string? ActorUserId { get; set; }
    public string? ActorName { get; set; }
    public string? IpAddress { get; set; }
    public Guid? CompanyId { get; set; }
    public Guid? ApiKeyId { get; set; }
    public string? KeyFingerprint { get; set; }
    public string? Detail { get; set; }
}

public static class AuditActions
{
    public const string KeyCreated = "api-key.created";
    public const string KeyDeleted = "api-key.deleted";
    public const string KeyRolled = "api-key.rolled";
    public const string KeySecretEnded = "api-key.secret-ended";
    public const string KeyAuthFailures = "api-key.auth-failures";

    /// <summary>Revoked because someone reported it as exposed (POST /v1/credential-revocations).</summary>
    public const string KeyReportedExposed = "api-key.reported-exposed";

    /// <summary>The key's IP allowlist was changed (detail: the new list).</summary>
    public const string KeyAllowlistChanged = "api-key.allowlist-changed";

    /// <summary>The operator command switched a company's API key access (detail: old → new, keys suspended or restored).</summary>
    public const string ApiKeyAccessSwitched = "company.api-key-access-switched";
    public const string SignedIn = "user.signed-in";
    public const string SignInFailed = "user.sign-in-failed";
}

// The demo data the API serves.
public sealed class Employee
{
    public Guid Id { get; set; }
    public Guid CompanyId { get; set; }
    public string FirstName { get; set; } = "";
    public string LastName { get; set; } = "";
    public string Email { get; set; } = "";
    public string? JobTitle { get; set; }
}

public sealed class Vendor
{
    public Guid Id { get; set; }
    public Guid CompanyId { get; set; }
    public string Name { get; set; } = "";
    public string? Country { get; set; }
    public string? TaxRegistrationNumber { get; set; }
    public DateTime CreatedAtUtc { get; set; }
}

public sealed class Account
{
    public Guid Id { get; set; }
    public Guid CompanyId { get; set; }
    public string Code { get; set; } = "";
    public string Name { get; set; } = "";
    public string Type { get; set; } = "";
    public DateTime CreatedAtUtc { get; set; }
}

public sealed class ExportJob
{
    public Guid Id { get; set; }
    public Guid CompanyId { get; set; }
    public string Status { get; set; } = "";
    public DateTime? PeriodFrom { get; set; }
    public DateTime? PeriodTo { get; set; }
    public DateTime CreatedAtUtc { get; set; }
}
