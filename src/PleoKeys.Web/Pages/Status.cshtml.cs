using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Web.Auth;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Pages;

/// <summary>Re-executed by UseStatusCodePagesWithReExecute for error answers that have no body of their own.</summary>
[Microsoft.AspNetCore.Mvc.IgnoreAntiforgeryToken]
public partial class StatusModel(CurrentCompany current, AppDbContext db, Microsoft.Extensions.Localization.IStringLocalizer<SharedResource> t) : PageModel
{
    public string Title { get; private set; } = "";
    public string Message { get; private set; } = "";

    /// <summary>
    /// On a 404 or 403 of a key's page (an emailed Renew or Details link, say) opened while working in another company:
    /// a company where the user may do what the page does with the key (<see cref="KeyCompanyAsync"/>), offered as a
    /// switch (a form, so a link alone changes nothing).
    /// </summary>
    public CompanyChoice? KeyCompany { get; private set; }

    /// <summary>The key page to open after the switch (the failed request's path).</summary>
    public string? KeyPage { get; private set; }

    private string _workingIn = "";

    public async Task OnGetAsync()
    {
        // Read from the route, not bound: a failed request's body (re-executed with it) may be unreadable.
        var code = int.Parse((string)RouteData.Values["code"]!, System.Globalization.CultureInfo.InvariantCulture);
        // Keep the original status (a direct GET of /Status/403 answers 403 too).
        Response.StatusCode = code is >= 400 and < 600 ? code : 404;
        (Title, Message) = code switch
        {
            // A form posted without its antiforgery token (or with a stale one), or one the form reader refuses
            // (a NUL character, too many fields), lands here.
            400 => (t["The request was not accepted"],
                t["The form was incomplete, had expired, or held characters that can't be accepted. Go back, reload the page and submit it again."]),
            403 when await KeyCompanyAsync() is { } other => OfferIn(other, await ForbiddenMessageAsync()),
            403 => (t["You can't open this page"], await ForbiddenMessageAsync()),
            404 when await KeyCompanyAsync() is { } other => OfferIn(other, ""),
            404 => (t["Not found"], t["There is nothing here. It may have been deleted, or it belongs to another company."]),
            405 => (t["Not allowed"], t["This page does not accept that kind of request."]),
            429 => (t["Too many requests"], t["Too many attempts in a short time. Wait a minute and try again."]),
            _ => (t["Something went wrong"], t["The request could not be completed. Try again; if it keeps failing, contact support."]),
        };
    }

    /// <summary>The title and message of a key page opened in the wrong company, after what the current company says (a 403's reason).</summary>
    private (string Title, string Message) OfferIn(CompanyChoice other, string reason) =>
        (t["This API key belongs to {0}", other.Name],
            (reason.Length > 0 ? reason + " " : "")
            + t["You are working in {0}. The key you opened belongs to {1}, another of your companies: switch to it to open the key.", _workingIn, other.Name]);

    /// <summary>Re-executed with the failed request's verb, whatever it was: every verb gets this page.</summary>
    public override void OnPageHandlerSelected(Microsoft.AspNetCore.Mvc.Filters.PageHandlerSelectedContext context) =>
        context.HandlerMethod ??= context.ActionDescriptor.HandlerMethods.Single(h => h.HttpMethod == "Get");

    [GeneratedRegex("^/Settings/ApiKeys/(?<page>Details|Roll|Delete)/(?<id>[0-9a-fA-F-]{36})$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex KeyPagePath();

    /// <summary>
    /// The company where the user could open the key a GET of its page did not find (404) or was not let see here
    /// (403: the current company's keys are not the user's to manage): for a company key its own company, for an
    /// organisation key the first company of its organisation the user works in (its own first); one where the user
    /// may do what the page does (see it, or for Roll and Delete act on it: <see cref="ApiKeyQueries.CanDelete"/>).
    /// </summary>
    private async Task<CompanyChoice?> KeyCompanyAsync()
    {
        var original = HttpContext.Features.Get<Microsoft.AspNetCore.Diagnostics.IStatusCodeReExecuteFeature>();
        if (!HttpMethods.IsGet(Request.Method) || original?.OriginalPath is not { } path
            || KeyPagePath().Match(path) is not { Success: true } match || !Guid.TryParse(match.Groups["id"].Value, out var id)
            || await current.GetAsync() is not { } here)
        {
            return null;
        }

        // Details also shows a key deleted because it was reported as exposed (the exposed-key email links to it).
        var details = match.Groups["page"].Value.Equals("Details", StringComparison.OrdinalIgnoreCase);
        var keys = db.ApiKeys.AsNoTracking();
        var key = await (details ? keys.ShownOnDetails() : keys.Where(k => k.DeletedAtUtc == null))
            .Where(k => k.Id == id)
            .Select(k => new { k.CompanyId, k.OrganisationId, k.AccessLevel })
            .SingleOrDefaultAsync();
        if (key is null)
        {
            return null;
        }

        var candidates = key.AccessLevel == AccessLevel.Company
            ? [key.CompanyId]
            : here.Choices.Select(c => c.Id).Where(c => c != key.CompanyId).Prepend(key.CompanyId);
        foreach (var companyId in candidates.Where(c => c != here.Company.Id))
        {
            if (await current.ForAsync(companyId) is { } there && there.Company.OrganisationId == key.OrganisationId
                && (details ? there.CanManageKeys : there.CanDelete(key.AccessLevel)))
            {
                KeyPage = path;
                _workingIn = here.Company.Name;
                KeyCompany = new CompanyChoice(there.Company.Id, there.Company.Name);
                return KeyCompany;
            }
        }

        return null;
    }

    private async Task<string> ForbiddenMessageAsync()
    {
        var view = await current.GetAsync();
        return view is { CanManageKeys: false }
            ? view.DenialMessageIn(t)
            : t["Your role in this company does not allow this."];
    }
}
