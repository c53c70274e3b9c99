using Microsoft.AspNetCore.Authorization;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Auth;

namespace PleoKeys.Web.Api;

/// <summary>
/// The key's IP allowlist, as a requirement of every API policy (<see cref="PleoApi.AnyKeyPolicy"/> and each scope
/// policy), so the framework's authorization runs it. It is its own handler (the framework's pattern for a
/// requirement that needs no services, as DenyAnonymousAuthorizationRequirement is), run by the framework's
/// PassThroughAuthorizationHandler; registered handlers run beside it as for any policy. A call from an address outside
/// the list fails it; the 403 that names the caller's address is written by <see cref="ApiAuthorizationResultHandler"/>.
/// It reads the key's state the verifier holds, so a saved list bites on the next request on every instance, like any
/// key change.
/// </summary>
public sealed class AllowedNetworksRequirement : AuthorizationHandler<AllowedNetworksRequirement>, IAuthorizationRequirement
{
    public static readonly AllowedNetworksRequirement Instance = new();

    private AllowedNetworksRequirement()
    {
    }

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
