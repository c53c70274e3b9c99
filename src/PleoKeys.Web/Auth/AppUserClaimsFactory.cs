using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Auth;

/// <summary>
/// Identity's principal, plus the user's chosen language (<see cref="AppCultures.LanguageClaim"/>). The security
/// stamp check rebuilds the principal with this factory on every page request, so the claim is the user row's
/// value, on every instance, and choosing a language costs no query of its own.
/// </summary>
public sealed class AppUserClaimsFactory(UserManager<AppUser> users, RoleManager<IdentityRole> roles, IOptions<IdentityOptions> options)
    : UserClaimsPrincipalFactory<AppUser, IdentityRole>(users, roles, options)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(AppUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        if (AppCultures.IsSupported(user.Language))
        {
            identity.AddClaim(new Claim(AppCultures.LanguageClaim, user.Language!));
        }

        return identity;
    }
}
