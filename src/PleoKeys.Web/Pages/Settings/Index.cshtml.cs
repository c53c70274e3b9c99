using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PleoKeys.Web.Auth;

namespace PleoKeys.Web.Pages.Settings;

public class IndexModel(CurrentCompany current) : PageModel
{
    public CompanyView? View { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        View = await current.GetAsync();
        return View is null ? Forbid() : Page();
    }
}
