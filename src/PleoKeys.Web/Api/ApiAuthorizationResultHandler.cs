using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using PleoKeys.Web.Auth;

namespace PleoKeys.Web.Api;

/// <summary>
/// Turns a failed scope policy on an API endpoint into a 403 that names the missing scope;
/// everything else (the pages, 401 challenges) goes to the framework's default handling.
/// </summary>
public sealed class ApiAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    // Not async on the way through, so the allowed request (every successful API call) costs no extra state machine.
    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult) =>
        authorizeResult.Forbidden && ApiKeyFeature.Find(context) is not null
            ? ForbidWithMissingScopeAsync(context, authorizeResult)
            : _default.HandleAsync(next, context, policy, authorizeResult);

    private static Task ForbidWithMissingScopeAsync(HttpContext context, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.AuthorizationFailure?.FailedRequirements.OfType<AllowedNetworksRequirement>().Any() == true)
        {
            var address = context.Connection.RemoteIpAddress is { } ip ? ApiKeys.AllowedNetworks.Normalize(ip).ToString() : "an unknown address";
            return ApiKeyAuthenticationHandler.WriteProblemAsync(context, StatusCodes.Status403Forbidden, "Address not allowed",
                $"This API key may be used only from the addresses in its IP allowlist, and this request came from {address}. " +
                "An Admin can change the allowlist on the key's page under Settings → API Keys.");
        }

        var missing = authorizeResult.AuthorizationFailure?.FailedRequirements
            .OfType<ClaimsAuthorizationRequirement>()
            .Where(r => r.ClaimType == ApiKeyDefaults.ScopeClaim)
            .SelectMany(r => r.AllowedValues ?? [])
            .FirstOrDefault();
        var detail = missing is null
            ? "This API key may not do this."
            : $"This API key lacks the scope {missing}. Create a key with that permission under Settings → API Keys.";
        return ApiKeyAuthenticationHandler.WriteProblemAsync(context, StatusCodes.Status403Forbidden, "Insufficient scope", detail);
    }
}
