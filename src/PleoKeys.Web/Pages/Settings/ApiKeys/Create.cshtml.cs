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
/// Create API Key. The form carries a <see cref="FormTicket"/>: the key is created for the company the form
/// showed, and once per rendered form (the ticket's submission id is stored with the key under a unique index).
/// The new key goes to the one-time reveal through <see cref="KeyReveals"/>, never through the client.
/// </summary>
[ResponseCache(NoStore = true, Location = ResponseCacheLocation.None)]
public class CreateModel(
    AppDbContext db,
    CurrentCompany current,
    TimeProvider time,
    BCryptGate bcrypt,
    KeyDigests digests,
    FormTickets tickets,
    KeyReveals reveals,
    KeyCreationLimits limits,
    IOptions<PleoKeysOptions> options,
    IOptions<IdentityOptions> identity,
    Microsoft.Extensions.Localization.IStringLocalizer<SharedResource> t,
    ILogger<CreateModel> logger) : PageModel
{
    public const int MaxNameLength = KeyName.MaxLength;
    public const string FormName = "create-key";

    [BindProperty]
    public InputModel Input { get; set; } = new();

    /// <summary>The ticket the submitted form carried.</summary>
    [BindProperty(Name = FormTicket.FieldName)]
    public string? Ticket { get; set; }

    /// <summary>The ticket the rendered form carries: a new one on every render.</summary>
    public string NewTicket { get; private set; } = "";

    public CompanyView View { get; private set; } = null!;
    public DateOnly Today { get; private set; }

    /// <summary>Set when this very form was submitted before: the key it created, and whether its reveal still waits.</summary>
    public (Guid Id, string Name, bool RevealPending)? AlreadyCreated { get; private set; }

    /// <summary>Everything is a string so that nothing a client sends can fail model binding silently.</summary>
    public sealed class InputModel
    {
        public string? Name { get; set; }
        public string? Expiration { get; set; } = "90";
        public string? CustomDate { get; set; }
        public string? AccessLevel { get; set; } = "Company";
        public List<string> Scopes { get; set; } = [];

        /// <summary>The optional IP allowlist, as typed (see <see cref="ApiKeys.AllowedNetworks"/>).</summary>
        public string? AllowedNetworks { get; set; }
    }

    /// <summary>Every message of a field (the allowlist has one per bad entry).</summary>
    public IEnumerable<string> ErrorsOf(string key) =>
        ModelState.TryGetValue(key, out var entry) ? entry.Errors.Select(e => e.ErrorMessage) : [];

    public bool HasError(string key) =>
        ModelState.TryGetValue(key, out var entry) && entry.Errors.Count > 0;

    public DateOnly QuickChoiceDate(int days) => ExpirationField.QuickChoiceDate(Today, days);

    public async Task OnGetAsync() => await LoadAsync();

    public async Task<IActionResult> OnPostAsync()
    {
        await LoadAsync();
        var zone = TimeZoneInfo.FindSystemTimeZoneById(View.Company.TimeZoneId);

        // Bound values are re-checked here against the same lists the form was rendered from.
        ModelState.Clear();

        // The form must be one this app rendered for this user, for the company the session is in now.
        var ticket = tickets.Read(FormName, Ticket, View);
        if (ticket is null)
        {
            ModelState.AddModelError("", t["This form has expired or was not made for you. Nothing was created; check the fields and submit again."]);
            return Rejected(StatusCodes.Status400BadRequest);
        }

        if (ticket.CompanyId != View.Company.Id)
        {
            var formCompany = View.Choices.FirstOrDefault(c => c.Id == ticket.CompanyId)?.Name ?? t["another company"];
            ModelState.AddModelError("", t["This form was opened for {0}, but you have since switched to {1}. Nothing was created. Check the fields, now for {1}, and submit again.",
                formCompany, View.Company.Name]);
            return Rejected(StatusCodes.Status409Conflict);
        }

        // A second submission of the same form (a double click, a reload, a replayed request) creates nothing.
        if (await ShowAlreadyCreatedAsync(ticket.SubmissionId))
        {
            return Page();
        }
        var name = (Input.Name ?? "").Trim();
        // Length in code points, control, direction and invisible characters, stacked marks: see KeyName.
        if (KeyName.Problem(name) is { } nameProblem)
        {
            ModelState.AddModelError("Input.Name", ApiKeyMessages.Translate(t, nameProblem));
        }

        var expiresOn = ExpirationField.Parse(Input.Expiration, Input.CustomDate, Today, ModelState, t);

        var accessLevel = Input.AccessLevel switch
        {
            "Company" => AccessLevel.Company,
            "Organisation" when View.CanUseOrganisationKeys => AccessLevel.Organisation,
            "Organisation" => (AccessLevel?)null,
            _ => null,
        };
        if (accessLevel is null)
        {
            ModelState.AddModelError("Input.AccessLevel", Input.AccessLevel == "Organisation"
                ? t["Only Admins and Bookkeepers of the whole organisation can create organisation keys."]
                : t["Choose an access level."]);
        }

        var scopes = Input.Scopes.Where(s => !string.IsNullOrWhiteSpace(s)).Distinct(StringComparer.Ordinal).ToList();
        var unknown = scopes.Where(s => !PleoKeys.Web.ApiKeys.Scopes.IsKnown(s)).ToList();
        if (scopes.Count == 0)
        {
            ModelState.AddModelError("Input.Scopes", t["Choose at least one permission."]);
        }
        else if (unknown.Count > 0)
        {
            var shown = string.Join(", ", unknown.Take(3).Select(s => s.Length > 40 ? s[..40] + "…" : s));
            ModelState.AddModelError("Input.Scopes", t["Unknown permission: {0}. Choose from the list.", shown]);
        }

        var networks = PleoKeys.Web.ApiKeys.AllowedNetworks.Parse(Input.AllowedNetworks, out var networkProblems);
        foreach (var problem in networkProblems)
        {
            ModelState.AddModelError("Input.AllowedNetworks", ApiKeyMessages.Translate(t, problem));
        }

        if (!ModelState.IsValid)
        {
            // The form comes back with its messages, as 400 so a client or a proxy sees the rejection.
            return Rejected(StatusCodes.Status400BadRequest);
        }

        var now = time.GetUtcNow().UtcDateTime;
        // Checked here before the BCrypt work, and again under the company's lock below.
        if (await AtMaxActiveKeysAsync(now))
        {
            return Rejected(StatusCodes.Status409Conflict);
        }

        if (limits.TryCreate(View.UserId) is { } wait)
        {
            ModelState.AddModelError("", t["You have created {0} keys within a minute, the most allowed. Try again in {1} seconds; nothing was created.",
                options.Value.KeyCreationsPerMinutePerUser, Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))]);
            Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return Rejected(StatusCodes.Status429TooManyRequests);
        }

        var key = ApiKeyFormat.Generate(options.Value.Environment);
        var row = new ApiKey
        {
            Id = Guid.NewGuid(),
            KeyId = key.KeyId,
            Environment = key.Environment,
            Last4 = key.Last4,
            SecretHash = await bcrypt.HashAsync(key.Key, HttpContext.RequestAborted),
            SecretDigest = digests.Compute(key.Key),
            DigestSecretId = digests.SecretId,
            Name = name,
            NormalizedName = KeyName.Fold(name),
            AccessLevel = accessLevel!.Value,
            CompanyId = View.Company.Id,
            OrganisationId = View.Company.OrganisationId,
            Scopes = PleoKeys.Web.ApiKeys.Scopes.Join(scopes),
            CreatedAtUtc = now,
            CreatedByUserId = View.UserId,
            CreatedByName = View.UserName,
            ExpiresAtUtc = Expiry.EndOfDayUtc(expiresOn!.Value, zone),
            SubmissionId = ticket.SubmissionId,
            AllowedNetworks = PleoKeys.Web.ApiKeys.AllowedNetworks.Join(networks!),
        };
        db.ApiKeys.Add(row);
        db.KeyReveals.Add(reveals.Create(row.Id, View.UserId, SessionStamp, key.Key));
        db.AuditEvents.Add(new AuditEvent
        {
            AtUtc = now,
            Action = AuditActions.KeyCreated,
            ActorUserId = View.UserId,
            ActorName = View.UserName,
            IpAddress = HttpContext.Connection.RemoteIpAddress?.ToString(),
            CompanyId = View.Company.Id,
            ApiKeyId = row.Id,
            KeyFingerprint = row.Fingerprint,
            Detail = string.Create(CultureInfo.InvariantCulture, $"{row.AccessLevel} key \"{KeyName.Isolate(row.Name)}\" with {row.Scopes}, expires {expiresOn:yyyy-MM-dd}{(row.AllowedNetworks.Length > 0 ? ", only from " + row.AllowedNetworks : "")}"),
        });
        await using var transaction = await db.Database.BeginTransactionAsync();
        try
        {
            // Creations in one company queue here (a row lock on PostgreSQL, the write lock on SQLite), so the
            // count is the one this insert commits against: concurrent creates cannot pass the maximum together.
            await db.Companies.Where(c => c.Id == View.Company.Id).ExecuteUpdateAsync(s => s.SetProperty(c => c.Name, c => c.Name));
            if (await AtMaxActiveKeysAsync(now))
            {
                await transaction.RollbackAsync();
                db.ChangeTracker.Clear();
                return Rejected(StatusCodes.Status409Conflict);
            }

            await db.SaveChangesAsync();
            await transaction.CommitAsync();
        }
        catch (DbUpdateException)
        {
            // The same form, submitted twice at once: the other submission's key was committed first
            // (the unique submission id refused this one). Anything else is not this handler's to explain.
            await transaction.RollbackAsync();
            db.ChangeTracker.Clear();
            if (await ShowAlreadyCreatedAsync(ticket.SubmissionId))
            {
                return Page();
            }

            throw;
        }

        logger.LogInformation("API key {KeyFingerprint} ({KeyRowId}) created by {UserId}", row.Fingerprint, row.Id, View.UserId);
        await reveals.SweepAsync(db);
        return RedirectToPage("Reveal", new { id = row.Id });
    }

    private string SessionStamp => PleoSignInManager.SessionOf(User, identity.Value);

    /// <summary>True, with the form's message, when the company has <c>PleoKeys:MaxActiveKeysPerCompany</c> keys whose secret works.</summary>
    private async Task<bool> AtMaxActiveKeysAsync(DateTime now)
    {
        // A rolled key counts until its grace period ends.
        var active = await db.ApiKeys.WorkingIn(View.Company.Id, now).CountAsync();
        if (active < options.Value.MaxActiveKeysPerCompany)
        {
            return false;
        }

        ModelState.AddModelError("", t["{0} has {1} active API keys, the most it can have. Delete keys that are no longer used, then create this one.", View.Company.Name, active]);
        return true;
    }

    /// <summary>The form again, with its messages and a fresh ticket for the company the session is in.</summary>
    private PageResult Rejected(int status)
    {
        Response.StatusCode = status;
        return Page();
    }

    /// <summary>Answers 409 with the key this submission id already created, when there is one.</summary>
    private async Task<bool> ShowAlreadyCreatedAsync(string submissionId)
    {
        AlreadyCreated = await reveals.IssuedBySubmissionAsync(db, submissionId, View.UserId, SessionStamp);
        if (AlreadyCreated is null)
        {
            return false;
        }

        Response.StatusCode = StatusCodes.Status409Conflict;
        return true;
    }

    private async Task LoadAsync()
    {
        View = (await current.GetAsync())!;
        Today = Expiry.Today(time, TimeZoneInfo.FindSystemTimeZoneById(View.Company.TimeZoneId));
        NewTicket = tickets.Issue(FormName, View);
    }
}
