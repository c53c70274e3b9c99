using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PleoKeys.Web.Auth;

namespace PleoKeys.Web.Pages.Account;

public class SwitchCompanyModel(CurrentCompany current) : PageModel
{
    public IActionResult OnGet() => RedirectToPage("/Index");

    /// <param name="openKey">True from the offer on a key page of another company (Pages/Status): go to that key's page.</param>
    public async Task<IActionResult> OnPostAsync(Guid companyId, string? returnUrl, bool openKey = false)
    {
        var view = await current.GetAsync();
        // Only a company the user belongs to can be chosen; anything else is ignored.
        if (view is not null && view.Choices.Any(c => c.Id == companyId))
        {
            Response.Cookies.Append(CurrentCompany.CookieName, companyId.ToString(), CurrentCompany.CookieOptions(Request));
        }

        // Key details belong to one company; after a switch, go back to the list, not to a key of the old one.
        var target = ReturnUrl.LocalOrStart(returnUrl);
        if (!openKey && target.StartsWith("/Settings/ApiKeys", StringComparison.OrdinalIgnoreCase))
        {
            target = "/Settings/ApiKeys";
        }

        return LocalRedirect(target);
    }
}
