using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Auth;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Pages.Settings.ApiKeys;

/// <summary>
/// Shows a new key once: the Create handler leaves it in TempData (a Data Protection-encrypted
/// cookie, like Identity's recovery codes), and reading it here deletes it, so a reload, the back
/// button or a later visit finds nothing.
/// </summary>
[ResponseCache(NoStore = true, Location = ResponseCacheLocation.None)]
public class RevealModel(AppDbContext db, CurrentCompany current) : PageModel
{
    [TempData]
    public string? NewKey { get; set; }

    [TempData]
    public Guid? NewKeyRowId { get; set; }

    [TempData]
    public string? StatusMessage { get; set; }

    public string Key { get; private set; } = "";
    public string KeyName { get; private set; } = "";
    public string AccessText { get; private set; } = "";
    public DateOnly ExpiresOn { get; private set; }
    public string CurlCommand { get; private set; } = "";
    public Guid ReachId { get; private set; }
    public string ReachName { get; private set; } = "";
    public string ReachKind { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync()
    {
        var view = (await current.GetAsync())!;
        var key = NewKey;
        if (key is null || NewKeyRowId is not { } rowId)
        {
            StatusMessage = "A key is shown only once, right after it is created. To get a new one, create another key.";
            return RedirectToPage("Index");
        }

        var row = await db.ApiKeys.AsNoTracking().CoveringCompany(view)
            .Where(k => k.Id == rowId)
            .Select(k => new { k.Name, k.AccessLevel, k.ExpiresAtUtc, k.OrganisationId })
            .SingleOrDefaultAsync();
        if (row is null)
        {
            // Switched company, or deleted in the meantime: the key is no longer this page's to show.
            return RedirectToPage("Index");
        }

        var zone = TimeZoneInfo.FindSystemTimeZoneById(view.Company.TimeZoneId);
        Key = key;
        KeyName = row.Name;
        ExpiresOn = Expiry.LastDay(row.ExpiresAtUtc, zone);
        var organisation = row.AccessLevel == AccessLevel.Organisation;
        AccessText = organisation ? $"Organisation (all entities of {view.OrganisationName})" : $"This entity ({view.Company.Name})";
        (ReachId, ReachName, ReachKind) = organisation
            ? (row.OrganisationId, view.OrganisationName, "Organisation")
            : (view.Company.Id, view.Company.Name, "Company");
        CurlCommand = $"curl -u '{key}:' {HttpContext.RequestServices.GetRequiredService<PublicUrls>().For("/v1/installations/me")}";
        return Page();
    }
}
