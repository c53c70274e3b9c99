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
/// Shows a new key once. The Create handler leaves the key in a server-side <see cref="KeyReveals"/> entry and
/// redirects here; the first GET takes (deletes) the entry and shows the key, answered <c>no-store</c>. Every
/// later request for it (a reload, the back button, a second tab, a replayed URL or cookie, another user) finds
/// no entry and gets the page that says the key was shown once and how to make a new one.
/// </summary>
[ResponseCache(NoStore = true, Location = ResponseCacheLocation.None)]
public class RevealModel(AppDbContext db, CurrentCompany current, KeyReveals reveals, TimeProvider time, IOptions<IdentityOptions> identity,
    Microsoft.Extensions.Localization.IStringLocalizer<SharedResource> t) : PageModel
{
    public string Key { get; private set; } = "";
    public string KeyName { get; private set; } = "";
    public string AccessText { get; private set; } = "";
    public DateOnly ExpiresOn { get; private set; }
    public string CurlCommand { get; private set; } = "";
    public Guid ReachId { get; private set; }
    public string ReachName { get; private set; } = "";
    public string ReachKind { get; private set; } = "";

    /// <summary>Set when there is no key to show: the key the request named, when the user can see it.</summary>
    public bool ShownAlready { get; private set; }

    /// <summary>For a key issued by a roll: the key it replaces and when that key's old secret stops (company time).</summary>
    public (string Fingerprint, DateTime Stops, bool Stopped)? Replaces { get; private set; }

    public Guid? ShownKeyId { get; private set; }
    public string? ShownKeyName { get; private set; }

    /// <summary>
    /// HEAD would run the GET handler and take the reveal without showing anyone the key (a link checker, a
    /// proxy warming its cache): refused, and the reveal waits for the GET.
    /// </summary>
    public IActionResult OnHead()
    {
        Response.Headers.Allow = HttpMethods.Get;
        return StatusCode(StatusCodes.Status405MethodNotAllowed);
    }

    public async Task<IActionResult> OnGetAsync(Guid? id)
    {
        var view = (await current.GetAsync())!;
        // The reveal itself says whose it is (this user, this sign-in session): taken first, it shows the key in
        // whichever company the session has switched to since.
        var key = id is null ? null : await reveals.TakeAsync(db, id.Value, view.UserId, PleoSignInManager.SessionOf(User, identity.Value));
        var row = id is null ? null : await db.ApiKeys.AsNoTracking()
            .Where(k => k.Id == id && k.DeletedAtUtc == null)
            .Select(k => new
            {
                k.Id, k.Name, k.AccessLevel, k.ExpiresAtUtc, k.OrganisationId, k.CompanyId, CompanyName = k.Company.Name,
                OrganisationName = k.Company.Organisation.Name, k.Company.TimeZoneId,
            })
            .SingleOrDefaultAsync();
        if (key is null || row is null)
        {
            // Shown already, expired, or another user's or session's. The key is named only when this company covers it.
            var covered = id is null ? null : await db.ApiKeys.AsNoTracking().CoveringCompany(view)
                .Where(k => k.Id == id).Select(k => new { k.Id, k.Name }).SingleOrDefaultAsync();
            ShownAlready = true;
            ShownKeyId = covered?.Id;
            ShownKeyName = covered?.Name;
            Response.StatusCode = StatusCodes.Status410Gone;
            return Page();
        }

        var zone = TimeZoneInfo.FindSystemTimeZoneById(row.TimeZoneId);
        Key = key;
        KeyName = row.Name;
        ExpiresOn = Expiry.LastDay(row.ExpiresAtUtc, zone);
        var organisation = row.AccessLevel == AccessLevel.Organisation;
        AccessText = organisation ? t["Organisation (all entities of {0})", row.OrganisationName] : t["This entity ({0})", row.CompanyName];
        (ReachId, ReachName, ReachKind) = organisation
            ? (row.OrganisationId, row.OrganisationName, "Organisation")
            : (row.CompanyId, row.CompanyName, "Company");
        var old = await db.ApiKeys.AsNoTracking().Where(k => k.ReplacedByKeyId == row.Id)
            .Select(k => new { k.Environment, k.KeyId, k.Last4, k.SecretStopsAtUtc }).FirstOrDefaultAsync();
        if (old?.SecretStopsAtUtc is { } stops)
        {
            Replaces = (ApiKeyFormat.Fingerprint(old.Environment, old.KeyId, old.Last4), TimeZoneInfo.ConvertTimeFromUtc(stops, zone),
                stops <= time.GetUtcNow().UtcDateTime);
        }

        CurlCommand = $"curl -u '{key}:' {HttpContext.RequestServices.GetRequiredService<PublicUrls>().For("/v1/installations/me")}";
        return Page();
    }
}
