using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Web.Api;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Auth;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Pages.Settings.ApiKeys;

public partial class DetailsModel(AppDbContext db, CurrentCompany current, TimeProvider time, FormTickets tickets, KeyRevocation revocation,
    Microsoft.Extensions.Localization.IStringLocalizer<SharedResource> t) : PageModel
{
    public const string AllowlistFormName = "key-allowlist";

    /// <summary>Unused scopes are suggested once the key has been in use this long (the issue's 7 days).</summary>
    public static readonly TimeSpan UnusedScopesAfter = TimeSpan.FromDays(7);

    /// <summary>The ticket the allowlist form carries.</summary>
    public string AllowlistTicket { get; private set; } = "";

    [BindProperty(Name = FormTicket.FieldName)]
    public string? Ticket { get; set; }

    /// <summary>The allowlist as typed: entries separated by line breaks, spaces or commas.</summary>
    [BindProperty]
    public string? AllowedNetworks { get; set; }

    [TempData]
    public string? StatusMessage { get; set; }

    /// <summary>The last 30 days (company days), oldest first.</summary>
    public IReadOnlyList<UsageDay> Days { get; private set; } = [];

    public UsageChart Chart { get; private set; } = null!;

    public long TotalRequests { get; private set; }

    public IReadOnlyList<(string Endpoint, long Requests, long Refused)> TopEndpoints { get; private set; } = [];

    public IReadOnlyList<(string Address, DateTime FirstSeenUtc, DateTime LastSeenUtc, long Requests)> Addresses { get; private set; } = [];

    /// <summary>Scopes the key holds but never used in its recorded history, once it has been in use 7 days; null before.</summary>
    public IReadOnlyList<string>? UnusedScopes { get; private set; }

    /// <summary>The scopes it did use, for "Roll with only the scopes it uses".</summary>
    public IReadOnlyList<string> UsedScopes { get; private set; } = [];

    /// <summary>How many days of recorded history the unused scopes are judged on.</summary>
    public int HistoryDays { get; private set; }

    /// <summary>The ticket the delete dialog's form carries (see <see cref="DeleteModel"/>).</summary>
    public string DeleteTicket { get; private set; } = "";

    public ApiKey Key { get; private set; } = null!;
    public bool CanDelete { get; private set; }
    public string AccessText { get; private set; } = "";
    public DateOnly ExpiresOn { get; private set; }
    public KeyStatus Status { get; private set; } = KeyStatus.Active;
    public IReadOnlyList<(DateTime AtUtc, string Text)> History { get; private set; } = [];

    /// <summary>The key that replaced this one, when it was rolled.</summary>
    public (Guid Id, string Fingerprint)? ReplacedBy { get; private set; }

    /// <summary>The key this one replaced, when it was issued by a roll, and when that key's old secret stops.</summary>
    public (Guid Id, string Fingerprint, DateTime StopsAtUtc)? Replaces { get; private set; }

    public DateTime NowUtc { get; private set; }

    public CompanyView View { get; private set; } = null!;

    public bool HasAllowlistError => AllowlistErrors.Any();

    /// <summary>Every problem with the submitted allowlist, one per bad entry.</summary>
    public IEnumerable<string> AllowlistErrors =>
        ModelState.TryGetValue(nameof(AllowedNetworks), out var entry) ? entry.Errors.Select(e => e.ErrorMessage) : [];

    private TimeZoneInfo _zone = TimeZoneInfo.Utc;

    public DateTime Local(DateTime utc) => TimeZoneInfo.ConvertTimeFromUtc(utc, _zone);

    public async Task<IActionResult> OnGetAsync(Guid id) =>
        await LoadAsync(id) ? Page() : NotFound();

    /// <summary>The key's daily usage as CSV: every day of the recorded history (90 days), oldest first.</summary>
    public async Task<IActionResult> OnGetCsvAsync(Guid id)
    {
        var view = (await current.GetAsync())!;
        var key = await db.ApiKeys.AsNoTracking().ReachableFrom(view).ShownOnDetails().Where(k => k.Id == id)
            .Select(k => new { k.Id, k.KeyId }).SingleOrDefaultAsync();
        if (key is null)
        {
            return NotFound();
        }

        var zone = TimeZoneInfo.FindSystemTimeZoneById(view.Company.TimeZoneId);
        var today = Expiry.Today(time, zone);
        var days = (await KeyUsage.DailyAsync(db, [key.Id], KeyUsage.FirstDay(today, (int)UsageRecorder.Retention.TotalDays), today, zone))[key.Id];
        return File(System.Text.Encoding.UTF8.GetBytes(KeyUsage.Csv(days)), "text/csv; charset=utf-8",
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"api-key-{key.KeyId}-daily-usage-{today:yyyy-MM-dd}.csv"));
    }

    /// <summary>
    /// Saves the key's IP allowlist. A key change like a roll (<see cref="ApiKey.MarkChanged"/> and
    /// <see cref="KeyRevocation"/>), so every instance applies it on the key's next request.
    /// </summary>
    public async Task<IActionResult> OnPostAllowlistAsync(Guid id)
    {
        var view = (await current.GetAsync())!;
        var ticket = tickets.Read(AllowlistFormName, Ticket, view);
        var key = await db.ApiKeys.CoveringCompany(view).SingleOrDefaultAsync(k => k.Id == id);
        if (key is null)
        {
            return NotFound();
        }

        if (!view.CanDelete(key.AccessLevel))
        {
            return Forbid();
        }

        if (ticket is null || ticket.CompanyId != view.Company.Id)
        {
            ModelState.AddModelError(nameof(AllowedNetworks), t["This form has expired or was opened for another company. Nothing was saved; check the list and save again."]);
        }

        var networks = PleoKeys.Web.ApiKeys.AllowedNetworks.Parse(AllowedNetworks, out var problems);
        foreach (var problem in problems)
        {
            ModelState.AddModelError(nameof(AllowedNetworks), ApiKeyMessages.Translate(t, problem));
        }

        if (!ModelState.IsValid)
        {
            await LoadAsync(id);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        var now = time.GetUtcNow().UtcDateTime;
        var stored = PleoKeys.Web.ApiKeys.AllowedNetworks.Join(networks!);
        if (stored != key.AllowedNetworks)
        {
            key.AllowedNetworks = stored;
            key.MarkChanged(now);
            db.AuditEvents.Add(new AuditEvent
            {
                AtUtc = now,
                Action = AuditActions.KeyAllowlistChanged,
                ActorUserId = view.UserId,
                ActorName = view.UserName,
                IpAddress = HttpContext.Connection.RemoteIpAddress?.ToString(),
                CompanyId = view.Company.Id,
                ApiKeyId = key.Id,
                KeyFingerprint = key.Fingerprint,
                Detail = stored.Length == 0 ? "any address" : stored,
            });
            await db.SaveChangesAsync();
            await revocation.KeyChangedAsync(key.KeyId);
        }

        StatusMessage = stored.Length == 0 ? t["API key “{0}” works from any address.", KeyName.Isolate(key.Name)]
            : networks!.Count == 1 ? t["API key “{0}” now works only from 1 allowed address.", KeyName.Isolate(key.Name)]
            : t["API key “{0}” now works only from {1} allowed addresses or ranges.", KeyName.Isolate(key.Name), networks.Count];
        return RedirectToPage(new { id });
    }

    private async Task<bool> LoadAsync(Guid id)
    {
        var view = View = (await current.GetAsync())!;
        var key = await db.ApiKeys.AsNoTracking().ReachableFrom(view).ShownOnDetails().SingleOrDefaultAsync(k => k.Id == id);
        if (key is null)
        {
            return false;
        }

        Key = key;
        _zone = TimeZoneInfo.FindSystemTimeZoneById(view.Company.TimeZoneId);
        CanDelete = view.CanDelete(key.AccessLevel) && key.DeletedAtUtc is null;
        DeleteTicket = CanDelete ? tickets.Issue(DeleteModel.FormName, view) : "";
        AllowlistTicket = CanDelete ? tickets.Issue(AllowlistFormName, view) : "";
        AllowedNetworks ??= string.Join('\n', PleoKeys.Web.ApiKeys.AllowedNetworks.Split(key.AllowedNetworks).Select(n => n.ToString()));
        AccessText = key.AccessLevel == AccessLevel.Organisation
            ? t["Organisation (all entities of {0})", view.OrganisationName]
            : t["This entity ({0})", view.Company.Name];
        ExpiresOn = Expiry.LastDay(key.ExpiresAtUtc, _zone);
        NowUtc = time.GetUtcNow().UtcDateTime;
        Status = KeyStatus.Of(key.ExpiresAtUtc, NowUtc);
        if (key.ReplacedByKeyId is { } replacedBy)
        {
            ReplacedBy = await db.ApiKeys.AsNoTracking().Where(k => k.Id == replacedBy)
                .Select(k => new { k.Id, k.Environment, k.KeyId, k.Last4 }).ToListAsync() is [var next]
                ? (next.Id, ApiKeyFormat.Fingerprint(next.Environment, next.KeyId, next.Last4))
                : null;
        }

        var previous = await db.ApiKeys.AsNoTracking().Where(k => k.ReplacedByKeyId == key.Id && k.DeletedAtUtc == null)
            .Select(k => new { k.Id, k.Environment, k.KeyId, k.Last4, k.SecretStopsAtUtc }).FirstOrDefaultAsync();
        if (previous is not null)
        {
            Replaces = (previous.Id, ApiKeyFormat.Fingerprint(previous.Environment, previous.KeyId, previous.Last4), previous.SecretStopsAtUtc!.Value);
        }

        var events = await db.AuditEvents.AsNoTracking()
            .Where(e => e.ApiKeyId == key.Id)
            .OrderByDescending(e => e.AtUtc).Take(50)
            .Select(e => new { e.AtUtc, e.Action, e.ActorName, e.IpAddress, e.Detail })
            .ToListAsync();
        History = events.Select(e => (e.AtUtc, (string)(e.Action switch
        {
            // The audit row's detail is a record (English, like the API's words); the sentence around it is the reader's language.
            AuditActions.KeyCreated => t["Created by {0} from {1}", KeyName.Isolate(e.ActorName), e.IpAddress ?? ""],
            AuditActions.KeyAuthFailures => t["Failed authentications: {0} (from {1})", FailuresDetail(e.Detail), e.IpAddress ?? ""],
            AuditActions.KeyRolled => t["Rolled by {0} from {1}: {2}", KeyName.Isolate(e.ActorName), e.IpAddress ?? "", RolledDetail(e.Detail)],
            AuditActions.KeySecretEnded => t["The old secret stopped working"],
            AuditActions.KeyReportedExposed => t["Revoked: reported as exposed (report from {0})", e.IpAddress ?? ""],
            AuditActions.KeyAllowlistChanged => t["IP allowlist set to {0} by {1}", e.Detail == "any address" ? t["any address (in a sentence)"] : e.Detail ?? "", KeyName.Isolate(e.ActorName)],
            AuditActions.KeyDeleted => t["Deleted by {0}", KeyName.Isolate(e.ActorName)],
            _ => t["{0} by {1}", e.Action, KeyName.Isolate(e.ActorName)],
        }))).ToList();
        await LoadUsageAsync(key);
        return true;
    }

    /// <summary>
    /// A roll's audit detail (Roll.cshtml.cs writes <c>"name" replaced by pleo_…; the old secret stops yyyy-MM-dd HH:mm:ss UTC</c>)
    /// said again in the reader's language, the time in the company's zone; a detail in another shape (an older row) as it is.
    /// Rows written from a Danish page before the roll wrote invariant times have "10.00.00" for the time.
    /// </summary>
    private string RolledDetail(string? detail) =>
        detail is not null && RolledPattern().Match(detail) is { Success: true } m
            && DateTime.TryParseExact(m.Groups["at"].Value.Replace('.', ':'), "yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var stops)
            ? t["replaced by {0}; the old secret stops at {1}", m.Groups["fingerprint"].Value, Show.Minute(Local(stops))]
            : detail ?? "";

    /// <summary>A burst of failed authentications (AuthFailureAudit writes <c>N in a minute; the key itself keeps working, …</c>) in the reader's language.</summary>
    private string FailuresDetail(string? detail) =>
        detail is not null && FailuresPattern().Match(detail) is { Success: true } m
            ? t["{0} in a minute; the key itself keeps working, the failing clients are throttled", m.Groups["count"].Value]
            : detail ?? "";

    [System.Text.RegularExpressions.GeneratedRegex(@"^"".*"" replaced by (?<fingerprint>[^\s;]+); the old secret stops (?<at>\d{4}-\d{2}-\d{2} \d{2}[:.]\d{2}[:.]\d{2}) UTC$",
        System.Text.RegularExpressions.RegexOptions.Singleline | System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex RolledPattern();

    [System.Text.RegularExpressions.GeneratedRegex(@"^(?<count>\d+) in a minute; the key itself keeps working, the failing clients are throttled$",
        System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex FailuresPattern();

    private async Task LoadUsageAsync(ApiKey key)
    {
        var today = Expiry.Today(time, _zone);
        var firstDay = KeyUsage.FirstDay(today, KeyUsage.ChartDays);
        Days = (await KeyUsage.DailyAsync(db, [key.Id], firstDay, today, _zone))[key.Id];
        Chart = new UsageChart(Days);
        TotalRequests = Days.Sum(d => d.Total);

        var since = TimeZoneInfo.ConvertTimeToUtc(firstDay.ToDateTime(TimeOnly.MinValue), _zone);
        var usage = db.KeyUsageHours.AsNoTracking().Where(u => u.ApiKeyId == key.Id);
        TopEndpoints = (await usage.Where(u => u.HourUtc >= since)
                .GroupBy(u => new { u.Endpoint, Refused = u.Outcome == UsageOutcome.Denied })
                .Select(g => new { g.Key.Endpoint, g.Key.Refused, Requests = g.Sum(u => u.Requests) })
                .ToListAsync())
            .GroupBy(r => r.Endpoint)
            .Select(g => (g.Key, g.Sum(r => r.Requests), g.Where(r => r.Refused).Sum(r => r.Requests)))
            .OrderByDescending(e => e.Item2).ThenBy(e => e.Key, StringComparer.Ordinal)
            .Take(10).ToList();
        Addresses = (await db.KeyUsageAddresses.AsNoTracking().Where(a => a.ApiKeyId == key.Id)
                .OrderByDescending(a => a.LastSeenUtc).Take(20)
                .Select(a => new { a.Address, a.FirstSeenUtc, a.LastSeenUtc, a.Requests })
                .ToListAsync())
            .Select(a => (a.Address, a.FirstSeenUtc, a.LastSeenUtc, a.Requests)).ToList();

        // "In use" from its first call that got through; a scope counts as used by any call its endpoint let in.
        var firstUse = await usage.Where(u => u.Outcome == UsageOutcome.Success).MinAsync(u => (DateTime?)u.HourUtc);
        if (firstUse is { } first && NowUtc - first >= UnusedScopesAfter)
        {
            var used = await usage.Where(u => u.Scope != "" && u.Outcome != UsageOutcome.Denied && u.Outcome != UsageOutcome.RateLimited)
                .Select(u => u.Scope).Distinct().ToListAsync();
            var held = Scopes.Split(key.Scopes);
            UsedScopes = [.. held.Where(used.Contains)];
            UnusedScopes = [.. held.Where(s => !used.Contains(s))];
            HistoryDays = (int)Math.Min(UsageRecorder.Retention.TotalDays, (NowUtc - first).TotalDays);
        }
    }
}
