using Microsoft.AspNetCore.Authorization;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Auth;

namespace PleoKeys.Web.Api;

/// <summary>
/// The key's IP allowlist, as a requirement of every API policy (<see cref="PleoApi.AnyKeyPolicy"/>, which each
/// <c>/v1</c> and <c>/v2</c> endpoint carries), so the framework's authorization runs it. It is its own handler (the
/// framework's pattern for a requirement that needs no services, as DenyAnonymousAuthorizationRequirement is), run by
/// the framework's PassThroughAuthorizationHandler; registered handlers run beside it as for any policy. A call from an
/// address outside the list fails it; the 403 that names the caller's address is written by
/// <see cref="ApiAuthorizationResultHandler"/>. It reads the key's state the verifier holds, so a saved list bites on
/// the next request on every instance, like any key change.
/// </summary>
public sealed class AllowedNetworksRequirement : IAuthorizationHandler, IAuthorizationRequirement
{
    public static readonly AllowedNetworksRequirement Instance = new();

    private AllowedNetworksRequirement()
    {
    }

    /// <summary>
    /// Handles this requirement only (the pass-through handler calls it when a policy holds it), without the
    /// <c>AuthorizationHandler&lt;T&gt;</c> base's search of the policy's requirements: it runs on every API call.
    /// </summary>
    public Task HandleAsync(AuthorizationHandlerContext context)
    {
        if (context.Resource is HttpContext http)
        {
            // Outside the list the requirement is left unmet (not Fail()ed), so the failure names it among the failed
            // requirements, where ApiAuthorizationResultHandler looks. A request no key authenticated fails its
            // other requirement and is challenged.
            if (ApiKeyFeature.Find(http) is not { } key || AllowedNetworks.Allows(key.AllowedNetworks, http.Connection.RemoteIpAddress))
            {
                context.Succeed(this);
            }
        }

        return Task.CompletedTask;
    }
}
