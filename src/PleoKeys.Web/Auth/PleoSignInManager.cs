using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Auth;

/// <summary>
/// Identity's sign-in manager, with one rule added to the security stamp check that every page request makes
/// (<see cref="SecurityStampValidatorOptions.ValidationInterval"/> is zero): a locked-out user's sessions are
/// refused as well, not only those whose stamp changed. A deleted user has no stamp to match and is refused
/// by the framework already.
/// </summary>
public sealed class PleoSignInManager(
    UserManager<AppUser> userManager,
    IHttpContextAccessor contextAccessor,
    IUserClaimsPrincipalFactory<AppUser> claimsFactory,
    IOptions<IdentityOptions> optionsAccessor,
    ILogger<SignInManager<AppUser>> logger,
    IAuthenticationSchemeProvider schemes,
    IUserConfirmation<AppUser> confirmation)
    : SignInManager<AppUser>(userManager, contextAccessor, claimsFactory, optionsAccessor, logger, schemes, confirmation)
{
    /// <summary>True when the stamp matches and the user is not locked out (the lockout is read from the same row).</summary>
    public override async Task<bool> ValidateSecurityStampAsync(AppUser? user, string? securityStamp) =>
        await base.ValidateSecurityStampAsync(user, securityStamp) && !await UserManager.IsLockedOutAsync(user!);
}
