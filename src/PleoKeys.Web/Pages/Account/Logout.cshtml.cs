using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Pages.Account;

public class LogoutModel(SignInManager<AppUser> signIn, UserManager<AppUser> users) : PageModel
{
    public IActionResult OnGet() => RedirectToPage("/Index");

    public async Task<IActionResult> OnPostAsync()
    {
        // Deleting the cookie only asks the browser to forget it; a copy would still work. A new security stamp
        // makes every cookie issued before it worthless on every instance (each page request compares the
        // stamp), so signing out ends this user's sessions everywhere.
        if (await users.GetUserAsync(User) is { } user)
        {
            await users.UpdateSecurityStampAsync(user);
        }

        await signIn.SignOutAsync();
        return RedirectToPage("/Account/Login");
    }
}
