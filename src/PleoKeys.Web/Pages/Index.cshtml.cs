using Microsoft.AspNetCore.Mvc.RazorPages;
using PleoKeys.Web.Auth;

namespace PleoKeys.Web.Pages;

public class IndexModel(CurrentCompany current) : PageModel
{
    public CompanyView? View { get; private set; }

    public async Task OnGetAsync() => View = await current.GetAsync();
}
