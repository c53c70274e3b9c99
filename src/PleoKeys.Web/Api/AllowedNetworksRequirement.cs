using Microsoft.AspNetCore.Authorization;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Auth;

namespace PleoKeys.Web.Api;

/// <summary>
/// The key's IP allowlist, as a requirement of every API policy (<see cref="PleoApi.AnyKeyPolicy"/> and each scope
/// policy), so the framework's authorization runs it. A call from an address outside the list fails it; the 403 that
/// names the caller's address is written by <see cref="ApiAuthorizationResultHandler"/>.
/// </summary>
public sealed class AllowedNetworksRequirement : IAuthorizationRequirement
{
    public static readonly AllowedNetworksRequirement Instance = new();
}

/// <summary>
/// Meets <see cref="AllowedNetworksRequirement"/> when the request's key has no allowlist or the client address (after
/// the forwarded-headers rules) is in it. It reads the key's state the verifier holds, so a saved list bites on the
/// next request on every instance, like any key change.
/// </summary>
public sealed class AllowedNetworksHandler : AuthorizationHandler<AllowedNetworksRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, AllowedNetworksRequirement requirement)
    {
        if (context.Resource is HttpContext http && ApiKeyFeature.Find(http) is { } key)
        {
            // Outside the list the requirement is left unmet (not Fail()ed), so the failure names it among the failed
            // requirements, where ApiAuthorizationResultHandler looks.
            if (AllowedNetworks.Allows(key.AllowedNetworks, http.Connection.RemoteIpAddress))
            {
                context.Succeed(requirement);
            }
        }
        else if (context.Resource is HttpContext)
        {
            // Not a key's request (an unauthenticated one fails its other requirement and is challenged).
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
