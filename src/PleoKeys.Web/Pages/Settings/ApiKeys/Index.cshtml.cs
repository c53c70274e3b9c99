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

    [TempData]
    public string? StatusMessage { get; set; }

    public sealed record KeyRow(
        Guid Id, string Name, string Fingerprint, AccessLevel AccessLevel, string[] Scopes,
        DateTime Created, string CreatedBy, DateOnly ExpiresOn, KeyStatus Status, DateTime? LastUsed, string? LastUsedIp);

    public async Task OnGetAsync(int p = 1)
    {
        View = (await current.GetAsync())!;
        var zone = TimeZoneInfo.FindSystemTimeZoneById(View.Company.TimeZoneId);
        var now = time.GetUtcNow().UtcDateTime;

        var query = db.ApiKeys.AsNoTracking().CoveringCompany(View);
        var (own, organisation) = db.ApiKeys.AsNoTracking().CoveringCompanyRanges(View);
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
                k.CreatedByName, k.ExpiresAtUtc, k.LastUsedAtUtc, k.LastUsedIp,
            })
            .ToListAsync();

        Keys = rows.Select(k => new KeyRow(
            k.Id, k.Name, ApiKeyFormat.Fingerprint(k.Environment, k.KeyId, k.Last4), k.AccessLevel,
            PleoKeys.Web.ApiKeys.Scopes.Split(k.Scopes),
            TimeZoneInfo.ConvertTimeFromUtc(k.CreatedAtUtc, zone), k.CreatedByName,
            Expiry.LastDay(k.ExpiresAtUtc, zone), KeyStatus.Of(k.ExpiresAtUtc, now),
            k.LastUsedAtUtc is { } used ? TimeZoneInfo.ConvertTimeFromUtc(used, zone) : null, k.LastUsedIp)).ToList();
    }
}
