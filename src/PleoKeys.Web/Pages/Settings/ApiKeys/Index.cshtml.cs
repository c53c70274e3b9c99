using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Auth;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Pages.Settings.ApiKeys;

public class IndexModel(AppDbContext db, CurrentCompany current, TimeProvider time) : PageModel
{
    public const int PageSize = 25;

    public CompanyView View { get; private set; } = null!;
    public IReadOnlyList<KeyRow> Keys { get; private set; } = [];
    public int Total { get; private set; }
    public int PageNumber { get; private set; } = 1;
    public int PageCount => Math.Max(1, (Total + PageSize - 1) / PageSize);

    [BindProperty(SupportsGet = true)]
    public string? Q { get; set; }

    /// <summary>Only the keys that expire within <see cref="ExpiringWithinDays"/> days (the banner's link).</summary>
    [BindProperty(SupportsGet = true)]
    public bool Expiring { get; set; }

    public const int ExpiringWithinDays = 7;

    /// <summary>How many of the listed keys expire within <see cref="ExpiringWithinDays"/> days (not yet expired).</summary>
    public int ExpiringCount { get; private set; }

    [TempData]
    public string? StatusMessage { get; set; }

    public sealed record KeyRow(
        Guid Id, string Name, string Fingerprint, AccessLevel AccessLevel, string[] Scopes,
        DateTime Created, string CreatedBy, DateOnly ExpiresOn, KeyStatus Status, DateTime? LastUsed, string? LastUsedIp)
    {
        /// <summary>The fingerprint of the key this one replaced when it was rolled.</summary>
        public string? Replaces { get; init; }

        /// <summary>When the replaced key's old secret stops, while its grace period lasts (company time).</summary>
        public DateTime? OldSecretStops { get; init; }

        /// <summary>Set on a rolled key listed because its replacement was deleted: when its own secret stops (company time).</summary>
        public DateTime? SecretStops { get; init; }

        /// <summary>The user may roll (renew) this key: the same reach as deleting it.</summary>
        public bool CanRenew { get; init; }

        /// <summary>The IP allowlist in its stored form (space-separated ranges); empty, any address.</summary>
        public string AllowedNetworks { get; init; } = "";

        /// <summary>The key's requests per day over the last 30 days, oldest first.</summary>
        public IReadOnlyList<UsageDay> Usage { get; init; } = [];
    }

    /// <summary>Keys revoked in the last 30 days because someone reported them exposed (the banner), newest first.</summary>
    public IReadOnlyList<(Guid Id, string Name, string Fingerprint, DateTime ReportedAt)> ReportedExposed { get; private set; } = [];

    public const int ReportedExposedBannerDays = 30;

    public async Task OnGetAsync(int p = 1)
    {
        View = (await current.GetAsync())!;
        var zone = TimeZoneInfo.FindSystemTimeZoneById(View.Company.TimeZoneId);
        var now = time.GetUtcNow().UtcDateTime;

        // A rolled key is listed once, as its replacement's row (which says what it replaces); on its own only while
        // its old secret still works and its replacement was deleted, so no working secret is ever out of the list.
        var keys = db.ApiKeys.AsNoTracking();
        System.Linq.Expressions.Expression<Func<ApiKey, bool>> listed = k => k.RolledAtUtc == null
            || (k.SecretStopsAtUtc > now && keys.Any(r => r.Id == k.ReplacedByKeyId && r.DeletedAtUtc != null));
        var query = keys.CoveringCompany(View).Where(listed);
        var (own, organisation) = keys.CoveringCompanyRanges(View);
        own = own.Where(listed);
        organisation = organisation.Where(listed);
        var soon = now.AddDays(ExpiringWithinDays);
        ExpiringCount = await query.CountAsync(k => k.ExpiresAtUtc > now && k.ExpiresAtUtc <= soon);
        if (Expiring)
        {
            query = query.Where(k => k.ExpiresAtUtc > now && k.ExpiresAtUtc <= soon);
            own = own.Where(k => k.ExpiresAtUtc > now && k.ExpiresAtUtc <= soon);
            organisation = organisation.Where(k => k.ExpiresAtUtc > now && k.ExpiresAtUtc <= soon);
        }

        Q = Q?.Trim();
        if (!string.IsNullOrEmpty(Q))
        {
            // Both sides in Unicode full case folding (KeyName.Fold), compared ordinally: the same on SQLite and
            // PostgreSQL. Contains becomes instr()/strpos(), not LIKE, so % and _ are plain characters.
            var term = KeyName.Fold(Q);
            query = query.Where(k => k.NormalizedName.Contains(term));
            own = own.Where(k => k.NormalizedName.Contains(term));
            organisation = organisation.Where(k => k.NormalizedName.Contains(term));
        }

        Total = await query.CountAsync();
        PageNumber = Math.Clamp(p, 1, PageCount);
        // Newest first from each range, then merged: see CoveringCompanyRanges.
        var upTo = PageNumber * PageSize;
        var rows = await own.OrderByDescending(k => k.CreatedAtUtc).ThenBy(k => k.Id).Take(upTo)
            .Concat(organisation.OrderByDescending(k => k.CreatedAtUtc).ThenBy(k => k.Id).Take(upTo))
            .OrderByDescending(k => k.CreatedAtUtc).ThenBy(k => k.Id)
            .Skip((PageNumber - 1) * PageSize).Take(PageSize)
            .Select(k => new
            {
                k.Id, k.Name, k.Environment, k.KeyId, k.Last4, k.AccessLevel, k.Scopes, k.CreatedAtUtc,
                k.CreatedByName, k.ExpiresAtUtc, k.LastUsedAtUtc, k.LastUsedIp, k.SecretStopsAtUtc, k.AllowedNetworks,
            })
            .ToListAsync();

        var ids = rows.Select(k => k.Id).ToList();
        var replaced = (await db.ApiKeys.AsNoTracking()
                .Where(k => k.ReplacedByKeyId != null && ids.Contains(k.ReplacedByKeyId.Value) && k.DeletedAtUtc == null)
                .Select(k => new { ReplacedBy = k.ReplacedByKeyId!.Value, k.Environment, k.KeyId, k.Last4, Stops = k.SecretStopsAtUtc!.Value })
                .ToListAsync())
            .ToDictionary(k => k.ReplacedBy);

        var today = Expiry.Today(time, zone);
        var usage = await KeyUsage.DailyAsync(db, ids, KeyUsage.FirstDay(today, KeyUsage.ChartDays), today, zone);
        var reportedSince = now.AddDays(-ReportedExposedBannerDays);
        ReportedExposed = (await db.ApiKeys.AsNoTracking().ReachableFrom(View).Where(k => k.ReportedExposedAtUtc > reportedSince)
                .OrderByDescending(k => k.ReportedExposedAtUtc).Take(10)
                .Select(k => new { k.Id, k.Name, k.Environment, k.KeyId, k.Last4, Reported = k.ReportedExposedAtUtc!.Value })
                .ToListAsync())
            .Select(k => (k.Id, k.Name, ApiKeyFormat.Fingerprint(k.Environment, k.KeyId, k.Last4), TimeZoneInfo.ConvertTimeFromUtc(k.Reported, zone)))
            .ToList();

        Keys = rows.Select(k => new KeyRow(
            k.Id, k.Name, ApiKeyFormat.Fingerprint(k.Environment, k.KeyId, k.Last4), k.AccessLevel,
            PleoKeys.Web.ApiKeys.Scopes.Split(k.Scopes),
            TimeZoneInfo.ConvertTimeFromUtc(k.CreatedAtUtc, zone), k.CreatedByName,
            Expiry.LastDay(k.ExpiresAtUtc, zone), KeyStatus.Of(k.ExpiresAtUtc, now),
            k.LastUsedAtUtc is { } used ? TimeZoneInfo.ConvertTimeFromUtc(used, zone) : null, k.LastUsedIp)
        {
            Replaces = replaced.TryGetValue(k.Id, out var old) ? ApiKeyFormat.Fingerprint(old.Environment, old.KeyId, old.Last4) : null,
            OldSecretStops = old is not null && old.Stops > now ? TimeZoneInfo.ConvertTimeFromUtc(old.Stops, zone) : null,
            CanRenew = View.CanDelete(k.AccessLevel),
            SecretStops = k.SecretStopsAtUtc is { } own ? TimeZoneInfo.ConvertTimeFromUtc(own, zone) : null,
            AllowedNetworks = k.AllowedNetworks,
            Usage = usage[k.Id],
        }).ToList();
    }
}
