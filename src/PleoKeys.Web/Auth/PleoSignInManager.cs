using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Auth;

/// <summary>
/// Identity's sign-in manager, with a session id in every sign-in (<see cref="SessionClaim"/>: what a one-time
/// reveal is bound to, so another session of the same user cannot read it) and one rule added to the security stamp check that every page request makes
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
    /// <summary>The claim naming one sign-in session: a random id made at sign-in, kept when the principal is refreshed.</summary>
    public const string SessionClaim = "pleokeys:session";

    /// <summary>Every sign-in gets a session id of its own (128 random bits).</summary>
    public override Task SignInWithClaimsAsync(AppUser user, AuthenticationProperties? authenticationProperties, IEnumerable<System.Security.Claims.Claim> additionalClaims) =>
        base.SignInWithClaimsAsync(user, authenticationProperties,
            additionalClaims.Append(new System.Security.Claims.Claim(SessionClaim, System.Security.Cryptography.RandomNumberGenerator.GetHexString(32, lowercase: true))));

    /// <summary>
    /// The session a request belongs to: its security stamp (replaced by signing out) and its session id; what a
    /// one-time reveal is bound to.
    /// </summary>
    public static string SessionOf(System.Security.Claims.ClaimsPrincipal user, IdentityOptions options) =>
        (user.FindFirst(options.ClaimsIdentity.SecurityStampClaimType)?.Value ?? "") + ":" + (user.FindFirst(SessionClaim)?.Value ?? "");

    /// <summary>True when the stamp matches and the user is not locked out (the lockout is read from the same row).</summary>
    public override async Task<bool> ValidateSecurityStampAsync(AppUser? user, string? securityStamp) =>
        await base.ValidateSecurityStampAsync(user, securityStamp) && !await UserManager.IsLockedOutAsync(user!);
}
