using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Pages.Settings;

/// <summary>
/// The signed-in user's own profile: their language, stored on the user (<see cref="AppUser.Language"/>), so it
/// follows them to every session and instance. An empty choice hands the decision back to the browser's
/// Accept-Language. The value is re-checked against <see cref="AppCultures.Supported"/>, the list the form shows.
/// </summary>
public class ProfileModel(UserManager<AppUser> users, IStringLocalizer<SharedResource> t) : PageModel
{
    /// <summary>The form value for "no choice": the browser's language, then English.</summary>
    public const string BrowserLanguage = "";

    [BindProperty]
    public InputModel Input { get; set; } = new();

    public string DisplayName { get; private set; } = "";
    public string Email { get; private set; } = "";

    [TempData]
    public string? StatusMessage { get; set; }

    public sealed class InputModel
    {
        /// <summary>One of <see cref="AppCultures.Supported"/>, or empty for the browser's language.</summary>
        public string? Language { get; set; }
    }

    public async Task<IActionResult> OnGetAsync()
    {
        if (await users.GetUserAsync(User) is not { } user)
        {
            return Challenge();
        }

        Show(user);
        Input.Language = user.Language ?? BrowserLanguage;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (await users.GetUserAsync(User) is not { } user)
        {
            return Challenge();
        }

        var language = Input.Language ?? BrowserLanguage;
        if (language != BrowserLanguage && !AppCultures.IsSupported(language))
        {
            ModelState.AddModelError("Input.Language", t["Choose one of the languages in the list."]);
        }

        if (!ModelState.IsValid)
        {
            Show(user);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        user.Language = language == BrowserLanguage ? null : language;
        var result = await users.UpdateAsync(user);
        if (!result.Succeeded)
        {
            // Another request changed the user row in between (its concurrency stamp): nothing was saved.
            ModelState.AddModelError("", t["Your profile was changed elsewhere at the same time. Nothing was saved; choose again."]);
            Show(user);
            Response.StatusCode = StatusCodes.Status409Conflict;
            return Page();
        }

        // The sign-in page after sign-out speaks the same language (the cookie is only a reminder: the user row decides while signed in).
        if (user.Language is { } chosen)
        {
            Response.Cookies.Append(AppCultures.CookieName, AppCultures.CookieValue(chosen), AppCultures.CookieOptions(Request));
        }
        else
        {
            Response.Cookies.Delete(AppCultures.CookieName, AppCultures.CookieOptions(Request));
        }

        // Said in the language just chosen, which the next page is shown in.
        var next = user.Language ?? AppCultures.FromAcceptLanguage(Request);
        StatusMessage = AppCultures.With(next,
            () => user.Language is null ? t["Pages are now shown in your browser's language."].Value : t["Pages are now shown in {0}.", System.Globalization.CultureInfo.GetCultureInfo(user.Language).NativeName].Value);
        return RedirectToPage();
    }

    private void Show(AppUser user)
    {
        DisplayName = user.DisplayName;
        Email = user.Email ?? "";
    }
}
