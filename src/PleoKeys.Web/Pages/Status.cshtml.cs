using Microsoft.AspNetCore.Mvc.RazorPages;
using PleoKeys.Web.Auth;

namespace PleoKeys.Web.Pages;

/// <summary>Re-executed by UseStatusCodePagesWithReExecute for error answers that have no body of their own.</summary>
[Microsoft.AspNetCore.Mvc.IgnoreAntiforgeryToken]
public class StatusModel(CurrentCompany current, Microsoft.Extensions.Localization.IStringLocalizer<SharedResource> t) : PageModel
{
    public string Title { get; private set; } = "";
    public string Message { get; private set; } = "";

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
            403 => (t["You can't open this page"], await ForbiddenMessageAsync()),
            404 => (t["Not found"], t["There is nothing here. It may have been deleted, or it belongs to another company."]),
            405 => (t["Not allowed"], t["This page does not accept that kind of request."]),
            429 => (t["Too many requests"], t["Too many attempts in a short time. Wait a minute and try again."]),
            _ => (t["Something went wrong"], t["The request could not be completed. Try again; if it keeps failing, contact support."]),
        };
    }

    /// <summary>Re-executed with the failed request's verb, whatever it was: every verb gets this page.</summary>
    public override void OnPageHandlerSelected(Microsoft.AspNetCore.Mvc.Filters.PageHandlerSelectedContext context) =>
        context.HandlerMethod ??= context.ActionDescriptor.HandlerMethods.Single(h => h.HttpMethod == "Get");

    private async Task<string> ForbiddenMessageAsync()
    {
        var view = await current.GetAsync();
        return view is { CanManageKeys: false }
            ? view.DenialMessageIn(t)
            : t["Your role in this company does not allow this."];
    }
}
