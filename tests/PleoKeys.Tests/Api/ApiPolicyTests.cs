using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Api;
using PleoKeys.Web.Auth;

namespace PleoKeys.Tests.Api;

/// <summary>
/// The policy the framework's authorization builds for each API endpoint (its group's and its own, combined as the
/// AuthorizationMiddleware combines them): every key requirement once, so a call runs each handler once.
/// </summary>
public sealed class ApiPolicyTests : IClassFixture<PleoKeysFactory>
{
    private readonly PleoKeysFactory _factory;

    public ApiPolicyTests(PleoKeysFactory factory) => _factory = factory;

    [Fact]
    public async Task EveryKeyEndpoint_RequiresAKey_ItsAllowlist_AndItsScope_EachOnce()
    {
        var provider = _factory.Services.GetRequiredService<IAuthorizationPolicyProvider>();
        var endpoints = _factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            // The API's key endpoints, and any endpoint anywhere that asks for a scope (a scope policy alone checks
            // neither the key nor its allowlist: it must come with the API groups' policy).
            .Where(e => (e.RoutePattern.RawText is { } path && (path.StartsWith("/v1/", StringComparison.Ordinal) || path.StartsWith("/v2/", StringComparison.Ordinal))
                    && e.Metadata.GetMetadata<IAllowAnonymous>() is null)
                || e.Metadata.GetMetadata<RequiredScopeMetadata>() is not null
                || e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy?.StartsWith(PleoApi.ScopePolicy(""), StringComparison.Ordinal) == true))
            .ToList();
        Assert.True(endpoints.Count >= 10, $"Expected the API's key endpoints, found {endpoints.Count}.");

        foreach (var endpoint in endpoints)
        {
            var name = $"{endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods[0]} {endpoint.RoutePattern.RawText}";
            var policy = await AuthorizationPolicy.CombineAsync(provider, endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>());
            Assert.True(policy is not null, $"{name} has no policy.");
            var requirements = policy.Requirements;
            Assert.True(requirements.OfType<DenyAnonymousAuthorizationRequirement>().Count() == 1, $"{name}: {Describe(requirements)}");
            Assert.True(requirements.OfType<AllowedNetworksRequirement>().Count() == 1, $"{name}: {Describe(requirements)}");
            var scopes = requirements.OfType<ClaimsAuthorizationRequirement>().Where(r => r.ClaimType == ApiKeyDefaults.ScopeClaim).ToList();
            if (endpoint.Metadata.GetMetadata<RequiredScopeMetadata>() is { } scope)
            {
                Assert.True(scopes.Count == 1 && scopes[0].AllowedValues!.SequenceEqual([scope.Scope]), $"{name}: {Describe(requirements)}");
                Assert.Equal(3, requirements.Count);
            }
            else
            {
                Assert.True(scopes.Count == 0, $"{name}: {Describe(requirements)}");
                Assert.Equal(2, requirements.Count);
            }
        }
    }

    private static string Describe(IEnumerable<IAuthorizationRequirement> requirements) =>
        string.Join(", ", requirements.Select(r => r.GetType().Name));
}
