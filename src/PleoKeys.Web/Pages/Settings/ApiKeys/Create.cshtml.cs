using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Auth;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Pages.Settings.ApiKeys;

public class CreateModel(
    AppDbContext db,
    CurrentCompany current,
    TimeProvider time,
    IKeySecretHasher hasher,
    IOptions<PleoKeysOptions> options,
    ILogger<CreateModel> logger) : PageModel
{
    public const int MaxNameLength = KeyName.MaxLength;

    [BindProperty]
    public InputModel Input { get; set; } = new();

    public CompanyView View { get; private set; } = null!;
    public DateOnly Today { get; private set; }

    /// <summary>The one-time reveal reads this on the next request (Post/Redirect/Get), then it is gone.</summary>
    [TempData]
    public string? NewKey { get; set; }

    [TempData]
    public Guid? NewKeyRowId { get; set; }

    /// <summary>Everything is a string so that nothing a client sends can fail model binding silently.</summary>
    public sealed class InputModel
    {
        public string? Name { get; set; }
        public string? Expiration { get; set; } = "90";
        public string? CustomDate { get; set; }
        public string? AccessLevel { get; set; } = "Company";
        public List<string> Scopes { get; set; } = [];
    }

    public bool HasError(string key) =>
        ModelState.TryGetValue(key, out var entry) && entry.Errors.Count > 0;

    public DateOnly QuickChoiceDate(int days) => days == 365 ? Expiry.Latest(Today) : Today.AddDays(days);

    public async Task OnGetAsync() => await LoadAsync();

    public async Task<IActionResult> OnPostAsync()
    {
        await LoadAsync();
        var zone = TimeZoneInfo.FindSystemTimeZoneById(View.Company.TimeZoneId);

        // Bound values are re-checked here against the same lists the form was rendered from.
        ModelState.Clear();
        var name = (Input.Name ?? "").Trim();
        // Length in code points, control, direction and invisible characters, stacked marks: see KeyName.
        if (KeyName.Problem(name) is { } nameProblem)
        {
            ModelState.AddModelError("Input.Name", nameProblem);
        }

        var expiresOn = ParseExpiration();

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
                ? "Only Admins and Bookkeepers of the whole organisation can create organisation keys."
                : "Choose an access level.");
        }

        var scopes = Input.Scopes.Where(s => !string.IsNullOrWhiteSpace(s)).Distinct(StringComparer.Ordinal).ToList();
        var unknown = scopes.Where(s => !PleoKeys.Web.ApiKeys.Scopes.IsKnown(s)).ToList();
        if (scopes.Count == 0)
        {
            ModelState.AddModelError("Input.Scopes", "Choose at least one permission.");
        }
        else if (unknown.Count > 0)
        {
            var shown = string.Join(", ", unknown.Take(3).Select(s => s.Length > 40 ? s[..40] + "…" : s));
            ModelState.AddModelError("Input.Scopes", $"Unknown permission: {shown}. Choose from the list.");
        }

        if (!ModelState.IsValid)
        {
            // The form comes back with its messages, as 400 so a client or a proxy sees the rejection.
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        var now = time.GetUtcNow().UtcDateTime;
        var key = ApiKeyFormat.Generate(options.Value.Environment);
        var row = new ApiKey
        {
            Id = Guid.NewGuid(),
            KeyId = key.KeyId,
            Environment = key.Environment,
            Last4 = key.Last4,
            SecretHash = hasher.Hash(key.Key),
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
        };
        db.ApiKeys.Add(row);
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
            Detail = $"{row.AccessLevel} key \"{KeyName.Isolate(row.Name)}\" with {row.Scopes}, expires {expiresOn:yyyy-MM-dd}",
        });
        await db.SaveChangesAsync();
        logger.LogInformation("API key {KeyFingerprint} ({KeyRowId}) created by {UserId}", row.Fingerprint, row.Id, View.UserId);

        NewKey = key.Key;
        NewKeyRowId = row.Id;
        return RedirectToPage("Reveal");

        DateOnly? ParseExpiration()
        {
            if (Input.Expiration == "custom")
            {
                if (string.IsNullOrWhiteSpace(Input.CustomDate))
                {
                    ModelState.AddModelError("Input.CustomDate", "Enter the expiration date.");
                    return null;
                }

                if (!DateOnly.TryParseExact(Input.CustomDate.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var custom))
                {
                    ModelState.AddModelError("Input.CustomDate", "Enter the date as YYYY-MM-DD, for example " + Today.AddDays(30).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + ".");
                    return null;
                }

                if (custom <= Today)
                {
                    ModelState.AddModelError("Input.CustomDate", "Choose a date after today.");
                    return null;
                }

                if (custom > Expiry.Latest(Today))
                {
                    ModelState.AddModelError("Input.CustomDate", "Choose a date at most one year ahead (" + Expiry.Latest(Today).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + " at the latest).");
                    return null;
                }

                return custom;
            }

            if (int.TryParse(Input.Expiration, NumberStyles.None, CultureInfo.InvariantCulture, out var days) && Expiry.QuickChoices.Contains(days))
            {
                return QuickChoiceDate(days);
            }

            ModelState.AddModelError("Input.Expiration", "Choose when the key expires.");
            return null;
        }
    }

    private async Task LoadAsync()
    {
        View = (await current.GetAsync())!;
        Today = Expiry.Today(time, TimeZoneInfo.FindSystemTimeZoneById(View.Company.TimeZoneId));
    }
}
