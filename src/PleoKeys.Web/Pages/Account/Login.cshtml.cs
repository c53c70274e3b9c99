using Microsoft.AspNetCore.Authentication;
using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PleoKeys.Web.Auth;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Pages.Account;

[EnableRateLimiting(SignInRateLimiting.Policy)]
public class LoginModel(
    SignInManager<AppUser> signIn, IPasswordHasher<AppUser> passwords, IOptions<IdentityOptions> identity, AppDbContext db, TimeProvider time,
    Microsoft.Extensions.Localization.IStringLocalizer<SharedResource> t)
    : PageModel
{
    /// <summary>Verified instead of a password hash when there is none to check: same algorithm, same cost.</summary>
    private static string? _decoyHash;

    /// <summary>The Id of no account: failed attempts that count against nobody update no row, by the same statement.</summary>
    private const string NoAccount = "";

    [BindProperty]
    public InputModel Input { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public sealed class InputModel
    {
        [Required(ErrorMessage = "Enter your email.")]
        [EmailAddress(ErrorMessage = "Enter a valid email address.")]
        [StringLength(256, ErrorMessage = "Use at most {1} characters.")]
        public string Email { get; set; } = "";

        [Required(ErrorMessage = "Enter your password.")]
        [DataType(DataType.Password)]
        [StringLength(256, ErrorMessage = "Use at most {1} characters.")]
        public string Password { get; set; } = "";
    }

    public void OnGet()
    {
    }

    /// <summary>
    /// An unknown email, a wrong password and a locked account do the same work, so the answer's timing tells
    /// nothing: one user lookup, one password hash verification (a decoy hash where there is no hash to check),
    /// one failed-attempt UPDATE (matching no row for an unknown or locked account) and one audit INSERT.
    /// Identity's own PasswordSignInAsync skips the hash for the first and the counter write for both, which
    /// measured about 1.7 ms apart on loopback.
    /// </summary>
    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid)
        {
            return Page();
        }

        var users = signIn.UserManager;
        var user = await users.FindByEmailAsync(Input.Email);
        var locked = user is not null && await users.IsLockedOutAsync(user);
        var checkable = user is { PasswordHash: not null } && !locked;
        _decoyHash ??= passwords.HashPassword(new AppUser(), "decoy " + Guid.NewGuid());
        var verified = passwords.VerifyHashedPassword(user ?? new AppUser(), checkable ? user!.PasswordHash! : _decoyHash, Input.Password);
        var succeeded = checkable && verified != PasswordVerificationResult.Failed && await signIn.CanSignInAsync(user!);
        if (!succeeded)
        {
            await CountFailureAsync(checkable ? user!.Id : NoAccount);
        }

        db.AuditEvents.Add(new AuditEvent
        {
            AtUtc = time.GetUtcNow().UtcDateTime,
            Action = succeeded ? AuditActions.SignedIn : AuditActions.SignInFailed,
            ActorUserId = user?.Id,
            ActorName = user?.DisplayName,
            IpAddress = HttpContext.Connection.RemoteIpAddress?.ToString(),
            Detail = locked ? "locked out" : null,
        });
        await db.SaveChangesAsync();

        if (!succeeded)
        {
            // One message for a wrong password, an unknown email and a locked account: no user enumeration.
            ModelState.AddModelError(string.Empty, t["Incorrect email or password. After {0} failed attempts the account is locked for {1} minutes.",
                identity.Value.Lockout.MaxFailedAccessAttempts, (int)identity.Value.Lockout.DefaultLockoutTimeSpan.TotalMinutes]);
            return Page();
        }

        if (verified == PasswordVerificationResult.SuccessRehashNeeded)
        {
            // As Identity does: a hash made with older settings is replaced by one made with the current ones.
            user!.PasswordHash = passwords.HashPassword(user, Input.Password);
            await users.UpdateAsync(user);
        }

        if (user!.AccessFailedCount > 0)
        {
            await users.ResetAccessFailedCountAsync(user);
        }

        // The cookie handler redirects by itself when it signs in on the sign-in path, to the raw ?ReturnUrl= unless
        // the properties name one: Kestrel refuses a Location header with non-ASCII in it (500), so name the safe one.
        var returnTo = Pages.ReturnUrl.LocalOrStart(ReturnUrl);
        await signIn.SignInAsync(user, new AuthenticationProperties { RedirectUri = returnTo, IsPersistent = false });
        // Every sign-in starts in the user's default company, and in their own language (or the browser's, with no choice).
        Response.Cookies.Delete(CurrentCompany.CookieName, CurrentCompany.CookieOptions(Request));
        if (AppCultures.IsSupported(user.Language))
        {
            Response.Cookies.Append(AppCultures.CookieName, AppCultures.CookieValue(user.Language!), AppCultures.CookieOptions(Request));
        }
        else
        {
            Response.Cookies.Delete(AppCultures.CookieName, AppCultures.CookieOptions(Request));
        }
        return LocalRedirect(returnTo);
    }

    /// <summary>
    /// Identity's lockout rule (Lockout:MaxFailedAccessAttempts failures lock the account for
    /// DefaultLockoutTimeSpan, and the count starts again) as one atomic UPDATE: failures racing each other are
    /// all counted and none fails on the row's concurrency stamp, which Identity's read-modify-write would.
    /// The end is on the system clock, as Identity's <c>IsLockedOutAsync</c> compares it with.
    /// </summary>
    private Task<int> CountFailureAsync(string userId)
    {
        var lockout = identity.Value.Lockout;
        var max = lockout.MaxFailedAccessAttempts;
        DateTimeOffset? until = DateTimeOffset.UtcNow + lockout.DefaultLockoutTimeSpan;
        return db.Users.Where(u => u.Id == userId && u.LockoutEnabled)
            .ExecuteUpdateAsync(s => s
                .SetProperty(u => u.LockoutEnd, u => u.AccessFailedCount + 1 >= max ? until : u.LockoutEnd)
                .SetProperty(u => u.AccessFailedCount, u => u.AccessFailedCount + 1 >= max ? 0 : u.AccessFailedCount + 1));
    }
}
