using System.Globalization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Auth;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Pages.Settings.ApiKeys;

/// <summary>
/// Roll key (and Renew, from the list's Expires soon / Expired badge): issues a new secret for the same name, scopes
/// and access level, as a new key row, shown once through <see cref="KeyReveals"/> like a created key. The old row
/// records when it was rolled, its replacement and when its secret stops (the grace period the user chose, never
/// after its expiry); the API judges that instant on every request. The form carries a <see cref="FormTicket"/>
/// (the company it showed; its submission id is stored on the new key, so a repeated submission rolls nothing),
/// and the roll is one conditional update of the old row (<c>WHERE RolledAtUtc IS NULL AND DeletedAtUtc IS NULL</c>)
/// in the transaction that inserts the new key and the audit rows, so two concurrent rolls make one replacement.
/// </summary>
[ResponseCache(NoStore = true, Location = ResponseCacheLocation.None)]
public class RollModel(
    AppDbContext db,
    CurrentCompany current,
    TimeProvider time,
    BCryptGate bcrypt,
    KeyDigests digests,
    FormTickets tickets,
    KeyReveals reveals,
    KeyCreationLimits limits,
    KeyRevocation revocation,
    IOptions<PleoKeysOptions> options,
    IOptions<IdentityOptions> identity,
    Microsoft.Extensions.Localization.IStringLocalizer<SharedResource> t,
    ILogger<RollModel> logger) : PageModel
{
    public const string FormName = "roll-key";

    /// <summary>How long the old secret keeps working after a roll: the choices the form offers and the server accepts (labels are resource keys).</summary>
    public static readonly IReadOnlyList<(string Value, string Label, TimeSpan Length)> GracePeriods =
    [
        ("now", "Now", TimeSpan.Zero),
        ("1h", "1 hour", TimeSpan.FromHours(1)),
        ("24h", "24 hours", TimeSpan.FromHours(24)),
        ("7d", "7 days", TimeSpan.FromDays(7)),
    ];

    [BindProperty]
    public InputModel Input { get; set; } = new();

    [BindProperty(Name = FormTicket.FieldName)]
    public string? Ticket { get; set; }

    public string NewTicket { get; private set; } = "";

    public CompanyView View { get; private set; } = null!;
    public DateOnly Today { get; private set; }
    public Guid Id { get; private set; }
    public ApiKey Key { get; private set; } = null!;
    public bool Expired { get; private set; }
    public DateOnly ExpiresOn { get; private set; }

    /// <summary>Why the form was not acted on (another company, rolled or deleted already); shown instead of the form.</summary>
    public string? Error { get; private set; }

    /// <summary>The key that replaced this one, when it was rolled already.</summary>
    public (Guid Id, string Name, string Fingerprint)? Replacement { get; private set; }

    /// <summary>Set when this very form was submitted before: the key it issued, and whether its reveal still waits.</summary>
    public (Guid Id, string Name, bool RevealPending)? AlreadyRolled { get; private set; }

    public sealed class InputModel
    {
        public string? Expiration { get; set; }
        public string? CustomDate { get; set; }
        public string? Grace { get; set; } = "24h";

        /// <summary>The new key's scopes: the old key's, or fewer ("Roll with only the scopes it uses" on Details).</summary>
        public List<string> Scopes { get; set; } = [];

        /// <summary>Set by the form that offers the scopes, so "none ticked" is told apart from a post without the field.</summary>
        public bool ScopesOffered { get; set; }

        /// <summary>The new key's IP allowlist, as typed; null (not posted) keeps the old key's.</summary>
        public string? AllowedNetworks { get; set; }
    }

    /// <summary>Every message of a field (the allowlist has one per bad entry).</summary>
    public IEnumerable<string> ErrorsOf(string key) =>
        ModelState.TryGetValue(key, out var entry) ? entry.Errors.Select(e => e.ErrorMessage) : [];

    public bool HasError(string key) =>
        ModelState.TryGetValue(key, out var entry) && entry.Errors.Count > 0;

    public DateOnly QuickChoiceDate(int days) => ExpirationField.QuickChoiceDate(Today, days);

    private TimeZoneInfo _zone = TimeZoneInfo.Utc;

    public DateTime Local(DateTime utc) => TimeZoneInfo.ConvertTimeFromUtc(utc, _zone);

    /// <param name="scopes">Narrower scopes to pre-fill (Details' "Roll with only the scopes it uses"); only ones the key holds are kept.</param>
    public async Task<IActionResult> OnGetAsync(Guid id, [FromQuery(Name = "scopes")] string[]? scopes = null)
    {
        await LoadViewAsync(id);
        var key = await db.ApiKeys.AsNoTracking().CoveringCompany(View).SingleOrDefaultAsync(k => k.Id == id);
        if (key is null)
        {
            return NotFound();
        }

        if (!View.CanDelete(key.AccessLevel))
        {
            return Forbid();
        }

        SetKey(key);
        if (key.RolledAtUtc is not null)
        {
            await AlreadyRolledByAnotherAsync(key, StatusCodes.Status200OK);
            return Page();
        }

        // Renew means "the same again": the length the key had, from today.
        (Input.Expiration, Input.CustomDate) = ExpirationField.SameLength(key.CreatedAtUtc, key.ExpiresAtUtc, _zone, Today);
        var held = PleoKeys.Web.ApiKeys.Scopes.Split(key.Scopes);
        var narrower = (scopes ?? []).Where(held.Contains).ToList();
        Input.Scopes = narrower.Count > 0 ? narrower : [.. held];
        Input.AllowedNetworks = string.Join('\n', AllowedNetworks.Split(key.AllowedNetworks).Select(n => n.ToString()));
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(Guid id)
    {
        await LoadViewAsync(id);
        ModelState.Clear();

        // A form rendered for another company than the session's now (a second tab switched) acts on nothing.
        var ticket = tickets.Read(FormName, Ticket, View);
        if (ticket is not null && ticket.CompanyId != View.Company.Id)
        {
            var formCompany = View.Choices.FirstOrDefault(c => c.Id == ticket.CompanyId)?.Name ?? t["another company"];
            return Refused(StatusCodes.Status409Conflict, t["This form was opened for {0}, but you have since switched to {1}. Nothing was rolled. Switch back to {0} to roll the key there.",
                formCompany, View.Company.Name]);
        }

        var key = await db.ApiKeys.AsNoTracking().ReachableFrom(View).SingleOrDefaultAsync(k => k.Id == id);
        if (key is null)
        {
            return NotFound();
        }

        if (!View.CanDelete(key.AccessLevel))
        {
            return Forbid();
        }

        SetKey(key);
        // A second submission of the same form (a double click, a reload, a replayed request) rolls nothing.
        if (ticket is not null && await ShowAlreadyRolledAsync(ticket.SubmissionId))
        {
            return Page();
        }

        if (key.DeletedAtUtc is not null)
        {
            return Refused(StatusCodes.Status409Conflict, t["API key “{0}” was deleted. Nothing was rolled; create a new key instead.", key.Name]);
        }

        if (key.RolledAtUtc is not null)
        {
            return await AlreadyRolledByAnotherAsync(key, StatusCodes.Status409Conflict);
        }

        if (ticket is null)
        {
            ModelState.AddModelError("", t["This form has expired or was not made for you. Nothing was rolled; check the fields and submit again."]);
            return Rejected(StatusCodes.Status400BadRequest);
        }

        var expiresOn = ExpirationField.Parse(Input.Expiration, Input.CustomDate, Today, ModelState, t);
        var grace = GracePeriods.FirstOrDefault(g => g.Value == Input.Grace);
        if (grace.Value is null && !Expired)
        {
            ModelState.AddModelError("Input.Grace", t["Choose when the old secret stops working."]);
        }

        // The new key holds the old key's scopes or fewer: a roll never widens a key.
        var heldScopes = PleoKeys.Web.ApiKeys.Scopes.Split(key.Scopes);
        var chosenScopes = Input.ScopesOffered
            ? Input.Scopes.Where(s => !string.IsNullOrWhiteSpace(s)).Distinct(StringComparer.Ordinal).ToList()
            : [.. heldScopes];
        if (chosenScopes.Count == 0)
        {
            ModelState.AddModelError("Input.Scopes", t["Keep at least one permission."]);
        }
        else if (chosenScopes.FirstOrDefault(s => !heldScopes.Contains(s)) is { } wider)
        {
            ModelState.AddModelError("Input.Scopes", t["The new key can keep only permissions this key holds; {0} is not one of them.", wider.Length > 40 ? wider[..40] + "…" : wider]);
        }

        var networks = Input.AllowedNetworks is null
            ? AllowedNetworks.Split(key.AllowedNetworks)
            : AllowedNetworks.Parse(Input.AllowedNetworks, out var networkProblems) is { } parsed ? [.. parsed] : ReportNetworkProblems(networkProblems);

        if (!ModelState.IsValid)
        {
            return Rejected(StatusCodes.Status400BadRequest);
        }

        var now = time.GetUtcNow().UtcDateTime;
        // The old secret stops at the end of the grace period, never after the key would have expired, and at once
        // for a key that has expired already (its renewal needs no grace).
        var stops = Expired ? now : Min(now + grace.Length, key.ExpiresAtUtc);
        if (stops < now)
        {
            stops = now;
        }

        // A roll with a grace period adds a working secret until the grace ends, so it counts against the same limit
        // as Create; a roll whose old secret stops now swaps one working secret for another.
        if (stops > now)
        {
            var working = await db.ApiKeys.WorkingIn(key.CompanyId, now).CountAsync();
            if (working >= options.Value.MaxActiveKeysPerCompany)
            {
                ModelState.AddModelError("", t["{0} has {1} active API keys, the most it can have. Choose “{2}” so the old secret stops as the new one starts, or delete keys that are no longer used.",
                    View.Company.Name, working, t["Now"]]);
                return Rejected(StatusCodes.Status409Conflict);
            }
        }

        if (limits.TryCreate(View.UserId) is { } wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            ModelState.AddModelError("", t["You have created {0} keys within a minute, the most allowed. Try again in {1} seconds; nothing was rolled.",
                options.Value.KeyCreationsPerMinutePerUser, seconds]);
            Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return Rejected(StatusCodes.Status429TooManyRequests);
        }

        // BCrypt before the transaction: the old row is locked only for the writes.
        var secret = ApiKeyFormat.Generate(options.Value.Environment);
        var row = new ApiKey
        {
            Id = Guid.NewGuid(),
            KeyId = secret.KeyId,
            Environment = secret.Environment,
            Last4 = secret.Last4,
            SecretHash = await bcrypt.HashAsync(secret.Key, HttpContext.RequestAborted),
            SecretDigest = digests.Compute(secret.Key),
            DigestSecretId = digests.SecretId,
            Name = key.Name,
            NormalizedName = key.NormalizedName,
            AccessLevel = key.AccessLevel,
            CompanyId = key.CompanyId,
            OrganisationId = key.OrganisationId,
            Scopes = PleoKeys.Web.ApiKeys.Scopes.Join(chosenScopes),
            AllowedNetworks = AllowedNetworks.Join(networks),
            CreatedAtUtc = now,
            CreatedByUserId = View.UserId,
            CreatedByName = View.UserName,
            ExpiresAtUtc = Expiry.EndOfDayUtc(expiresOn!.Value, _zone),
            SubmissionId = ticket.SubmissionId,
        };
        var endsNow = stops <= now;
        var ip = HttpContext.Connection.RemoteIpAddress?.ToString();
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            var rolled = await db.ApiKeys
                .Where(k => k.Id == key.Id && k.RolledAtUtc == null && k.DeletedAtUtc == null)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(k => k.RolledAtUtc, now)
                    .SetProperty(k => k.ReplacedByKeyId, row.Id)
                    .SetProperty(k => k.SecretStopsAtUtc, stops)
                    .SetProperty(k => k.SecretEndAuditedAtUtc, endsNow ? now : null)
                    // Recorded for every instance's poller (see ApiKey.MarkChanged).
                    .SetProperty(k => k.ChangedAtUtc, now)
                    .SetProperty(k => k.ChangeCount, k => k.ChangeCount + 1));
            if (rolled == 0)
            {
                // Another request (this form again, a second tab, a colleague) rolled or deleted it first.
                await transaction.RollbackAsync();
                return await ExplainLostRaceAsync(id, ticket.SubmissionId);
            }

            db.ApiKeys.Add(row);
            db.KeyReveals.Add(reveals.Create(row.Id, View.UserId, SessionStamp, secret.Key));
            db.AuditEvents.Add(Audit(AuditActions.KeyCreated, row.Id, row.Fingerprint,
                string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{row.AccessLevel} key \"{row.Name}\" with {row.Scopes}, expires {expiresOn:yyyy-MM-dd}; replaces {key.Fingerprint}")));
            db.AuditEvents.Add(Audit(AuditActions.KeyRolled, key.Id, key.Fingerprint,
                // A record, not a sentence: the invariant culture (a Danish request would write the time 10.00.00).
                string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"\"{key.Name}\" replaced by {row.Fingerprint}; the old secret stops {stops:yyyy-MM-dd HH:mm:ss} UTC")));
            if (endsNow)
            {
                db.AuditEvents.Add(RolledSecretEnds.SecretEnded(key.Id, key.Fingerprint, key.CompanyId, now, $"\"{key.Name}\": rolled with no grace period"));
            }

            await db.SaveChangesAsync();
            await transaction.CommitAsync();
        }
        catch (DbUpdateException)
        {
            // The same submission id was stored by a racing request (the unique index refused this one).
            db.ChangeTracker.Clear();
            if (await ShowAlreadyRolledAsync(ticket.SubmissionId))
            {
                return Page();
            }

            throw;
        }

        logger.LogInformation("API key {KeyFingerprint} ({KeyRowId}) rolled by {UserId} to {NewKeyFingerprint} ({NewKeyRowId}); old secret stops at {StopsAtUtc:o}",
            key.Fingerprint, key.Id, View.UserId, row.Fingerprint, row.Id, stops);
        // Every instance re-reads the old key's state, with its stop time, on its next request.
        await revocation.KeyChangedAsync(key.KeyId);
        await reveals.SweepAsync(db);
        return RedirectToPage("Reveal", new { id = row.Id });

        AuditEvent Audit(string action, Guid keyRowId, string fingerprint, string detail) => new()
        {
            AtUtc = now,
            Action = action,
            ActorUserId = View.UserId,
            ActorName = View.UserName,
            IpAddress = ip,
            CompanyId = View.Company.Id,
            ApiKeyId = keyRowId,
            KeyFingerprint = fingerprint,
            Detail = detail,
        };
    }

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    private System.Net.IPNetwork[] ReportNetworkProblems(IReadOnlyList<string> problems)
    {
        foreach (var problem in problems)
        {
            ModelState.AddModelError("Input.AllowedNetworks", ApiKeyMessages.Translate(t, problem));
        }

        return [];
    }

    private string SessionStamp => PleoSignInManager.SessionOf(User, identity.Value);

    private async Task LoadViewAsync(Guid id)
    {
        Id = id;
        View = (await current.GetAsync())!;
        _zone = TimeZoneInfo.FindSystemTimeZoneById(View.Company.TimeZoneId);
        Today = Expiry.Today(time, _zone);
        NewTicket = tickets.Issue(FormName, View);
    }

    private void SetKey(ApiKey key)
    {
        Key = key;
        Expired = key.ExpiresAtUtc <= time.GetUtcNow().UtcDateTime;
        ExpiresOn = Expiry.LastDay(key.ExpiresAtUtc, _zone);
    }

    /// <summary>The conditional update found the key rolled or deleted: by this very form (a racing twin) or by another.</summary>
    private async Task<IActionResult> ExplainLostRaceAsync(Guid id, string submissionId)
    {
        db.ChangeTracker.Clear();
        if (await ShowAlreadyRolledAsync(submissionId))
        {
            return Page();
        }

        var key = await db.ApiKeys.AsNoTracking().SingleAsync(k => k.Id == id);
        SetKey(key);
        return key.DeletedAtUtc is not null
            ? Refused(StatusCodes.Status409Conflict, t["API key “{0}” was deleted. Nothing was rolled; create a new key instead.", key.Name])
            : await AlreadyRolledByAnotherAsync(key, StatusCodes.Status409Conflict);
    }

    private async Task<IActionResult> AlreadyRolledByAnotherAsync(ApiKey key, int status)
    {
        var replacement = await db.ApiKeys.AsNoTracking().Where(k => k.Id == key.ReplacedByKeyId)
            .Select(k => new { k.Id, k.Name, k.Environment, k.KeyId, k.Last4 }).SingleOrDefaultAsync();
        if (replacement is not null)
        {
            Replacement = (replacement.Id, replacement.Name, ApiKeyFormat.Fingerprint(replacement.Environment, replacement.KeyId, replacement.Last4));
        }

        var stops = key.SecretStopsAtUtc!.Value;
        return Refused(status, stops <= time.GetUtcNow().UtcDateTime
            ? t["API key “{0}” was already rolled on {1}; its old secret stopped at {2}. Nothing was rolled now.", key.Name, Show.Minute(Local(key.RolledAtUtc!.Value)), Show.Minute(Local(stops))]
            : t["API key “{0}” was already rolled on {1}; its old secret stops at {2}. Nothing was rolled now.", key.Name, Show.Minute(Local(key.RolledAtUtc!.Value)), Show.Minute(Local(stops))]);
    }

    /// <summary>Answers 409 with the key this submission id already issued, when there is one.</summary>
    private async Task<bool> ShowAlreadyRolledAsync(string submissionId)
    {
        AlreadyRolled = await reveals.IssuedBySubmissionAsync(db, submissionId, View.UserId, SessionStamp);
        if (AlreadyRolled is null)
        {
            return false;
        }

        Response.StatusCode = StatusCodes.Status409Conflict;
        return true;
    }

    private PageResult Refused(int status, string error)
    {
        Error = error;
        Response.StatusCode = status;
        return Page();
    }

    /// <summary>The form again, with its messages and a fresh ticket for the company the session is in.</summary>
    private PageResult Rejected(int status)
    {
        Response.StatusCode = status;
        return Page();
    }
}
