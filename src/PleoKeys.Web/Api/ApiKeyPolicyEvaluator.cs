using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Auth;

namespace PleoKeys.Web.Api;

/// <summary>
/// The authorization middleware's policy evaluator, with a shortcut for the API's own policies. A policy
/// that asks only for an authenticated user and scope claims is decided for a verified API key straight
/// from the key's scopes: the same answer the framework's evaluator gives (a key's identity holds exactly
/// its scopes as <c>scope</c> claims), without building an <see cref="IAuthorizationService"/>, its
/// handlers and a handler context on every API call. Everything else, and every refusal (whose failed
/// requirements name the missing scope), goes to the framework's <see cref="PolicyEvaluator"/>.
/// </summary>
public sealed class ApiKeyPolicyEvaluator(IHttpContextAccessor accessor) : IPolicyEvaluator
{
    /// <summary>The framework's evaluator, over the request's own authorization service.</summary>
    private readonly PolicyEvaluator _framework = new(new RequestAuthorizationService(accessor));

    private static readonly Task<PolicyAuthorizationResult> Allowed = Task.FromResult(PolicyAuthorizationResult.Success());
    private static readonly Task<PolicyAuthorizationResult> Challenged = Task.FromResult(PolicyAuthorizationResult.Challenge());

    /// <summary>Per policy (policies are built once and cached by the framework): the scope sets it requires, or null when it asks more.</summary>
    private static readonly ConditionalWeakTable<AuthorizationPolicy, ScopeDemand> Demands = new();

    private sealed class ScopeDemand(IReadOnlyList<string>[]? anyOf, bool authenticatedUser = false)
    {
        /// <summary>The policy requires an authenticated user, so an anonymous one is always challenged.</summary>
        public bool AuthenticatedUser { get; } = authenticatedUser;

        /// <summary>Each entry: one requirement, met by any one of its scopes. Null: not a key-and-scopes policy.</summary>
        public IReadOnlyList<string>[]? AnyOf { get; } = anyOf;

        public static ScopeDemand Of(AuthorizationPolicy policy)
        {
            if (policy.AuthenticationSchemes.Count > 0)
            {
                return new ScopeDemand(null);
            }

            var anyOf = new List<IReadOnlyList<string>>();
            var authenticatedUser = false;
            foreach (var requirement in policy.Requirements)
            {
                switch (requirement)
                {
                    case DenyAnonymousAuthorizationRequirement:
                        authenticatedUser = true;
                        break;
                    case ClaimsAuthorizationRequirement { ClaimType: ApiKeyDefaults.ScopeClaim, AllowedValues: { } values } when values.Any():
                        anyOf.Add([.. values]);
                        break;
                    default:
                        return new ScopeDemand(null);
                }
            }

            return new ScopeDemand([.. anyOf], authenticatedUser);
        }
    }

    public Task<AuthenticateResult> AuthenticateAsync(AuthorizationPolicy policy, HttpContext context) =>
        _framework.AuthenticateAsync(policy, context);

    public Task<PolicyAuthorizationResult> AuthorizeAsync(
        AuthorizationPolicy policy, AuthenticateResult authenticationResult, HttpContext context, object? resource)
    {
        var demand = Demands.GetValue(policy, ScopeDemand.Of);
        if (demand.AnyOf is not { } anyOf)
        {
            return _framework.AuthorizeAsync(policy, authenticationResult, context, resource);
        }

        if (authenticationResult.Succeeded
            && ApiKeyFeature.Find(context) is { } key
            && anyOf.All(scopes => scopes.Any(key.Scopes.Contains)))
        {
            return Allowed;
        }

        // A failed or missing key on an API endpoint: the framework's answer is always a challenge (an
        // unauthenticated user fails DenyAnonymous), so it is given without evaluating the policy.
        if (!authenticationResult.Succeeded && demand.AuthenticatedUser && context.User.Identity?.IsAuthenticated != true)
        {
            return Challenged;
        }

        return _framework.AuthorizeAsync(policy, authenticationResult, context, resource);
    }

    /// <summary>The authorization service of the request being evaluated (it is scoped: its handlers may be).</summary>
    private sealed class RequestAuthorizationService(IHttpContextAccessor accessor) : IAuthorizationService
    {
        public Task<AuthorizationResult> AuthorizeAsync(System.Security.Claims.ClaimsPrincipal user, object? resource, IEnumerable<IAuthorizationRequirement> requirements) =>
            Current.AuthorizeAsync(user, resource, requirements);

        public Task<AuthorizationResult> AuthorizeAsync(System.Security.Claims.ClaimsPrincipal user, object? resource, string policyName) =>
            Current.AuthorizeAsync(user, resource, policyName);

        private IAuthorizationService Current =>
            (accessor.HttpContext ?? throw new InvalidOperationException("Authorization is evaluated outside a request."))
            .RequestServices.GetRequiredService<IAuthorizationService>();
    }
}
