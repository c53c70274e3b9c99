using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using PleoKeys.Web.Auth;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Pages.Account;

[EnableRateLimiting(SignInRateLimiting.Policy)]
public class LoginModel(SignInManager<AppUser> signIn, IPasswordHasher<AppUser> passwords, AppDbContext db, TimeProvider time) : PageModel
{
    private static string? _decoyHash;

    [BindProperty]
    public InputModel Input { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public sealed class InputModel
    {
        [Required(ErrorMessage = "Enter your email.")]
        [EmailAddress(ErrorMessage = "Enter a valid email address.")]
        [StringLength(256)]
        public string Email { get; set; } = "";

        [Required(ErrorMessage = "Enter your password.")]
        [DataType(DataType.Password)]
        [StringLength(256)]
        public string Password { get; set; } = "";
    }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid)
        {
            return Page();
        }

        var result = await signIn.PasswordSignInAsync(Input.Email, Input.Password, isPersistent: false, lockoutOnFailure: true);
        var ip = HttpContext.Connection.RemoteIpAddress?.ToString();
        var user = await signIn.UserManager.FindByEmailAsync(Input.Email);
        if (user is null || result.IsLockedOut)
        {
            // Identity checks no password for an unknown email or a locked account, so those would answer
            // measurably faster than a wrong password. One hash verification each keeps the three alike.
            _decoyHash ??= passwords.HashPassword(new AppUser(), "decoy " + Guid.NewGuid());
            passwords.VerifyHashedPassword(user ?? new AppUser(), _decoyHash, Input.Password);
        }

        db.AuditEvents.Add(new AuditEvent
        {
            AtUtc = time.GetUtcNow().UtcDateTime,
            Action = result.Succeeded ? AuditActions.SignedIn : AuditActions.SignInFailed,
            ActorUserId = user?.Id,
            ActorName = user?.DisplayName,
            IpAddress = ip,
            Detail = result.IsLockedOut ? "locked out" : null,
        });
        await db.SaveChangesAsync();

        if (!result.Succeeded)
        {
            // One message for a wrong password, an unknown email and a locked account: no user enumeration.
            ModelState.AddModelError(string.Empty, "Incorrect email or password. After 5 failed attempts the account is locked for 15 minutes.");
            return Page();
        }

        // Every sign-in starts in the user's default company.
        Response.Cookies.Delete(CurrentCompany.CookieName, CurrentCompany.CookieOptions(Request));
        return LocalRedirect(Pages.ReturnUrl.LocalOrStart(ReturnUrl));
    }
}
