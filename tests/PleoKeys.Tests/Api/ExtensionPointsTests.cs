using System.Collections.Concurrent;
using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Auth;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>
/// The app with two of the framework's extension points used as an application would: a claims transformation
/// (written as the docs show, https://learn.microsoft.com/aspnet/core/security/authentication/claims#extend-or-add-custom-claims-using-iclaimstransformation)
/// and an extra authorization handler for the requirement of the scope policies.
/// </summary>
public sealed class ExtensionPointsFactory : PleoKeysFactory
{
    public const string TransformedClaim = "pleokeys-test:transformed";

    /// <summary>Key ids the extra handler refuses, whatever their scopes.</summary>
    public ConcurrentDictionary<string, bool> RefusedKeyIds { get; } = new();

    /// <summary>Per key id, how many <see cref="TransformedClaim"/> claims each authorization saw, in order.</summary>
    public ConcurrentDictionary<string, ConcurrentQueue<int>> SeenByAuthorization { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services =>
        {
            services.AddTransient<IClaimsTransformation, MarksThePrincipal>();
            services.AddSingleton<IAuthorizationHandler>(new RefusesListedKeys(this));
        });
    }

    private sealed class MarksThePrincipal : IClaimsTransformation
    {
        public Task<ClaimsPrincipal> TransformAsync(ClaimsPrincipal principal)
        {
            // The docs' pattern: TransformAsync may run more than once per request, so clone and add only when missing.
            var clone = principal.Clone();
            var identity = (ClaimsIdentity)clone.Identity!;
            if (!clone.HasClaim(c => c.Type == TransformedClaim))
            {
                identity.AddClaim(new Claim(TransformedClaim, "yes"));
            }

            return Task.FromResult(clone);
        }
    }

    /// <summary>Fails the scope requirement for listed keys; writes down what it saw of the transformation.</summary>
    private sealed class RefusesListedKeys(ExtensionPointsFactory owner) : AuthorizationHandler<ClaimsAuthorizationRequirement>
    {
        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ClaimsAuthorizationRequirement requirement)
        {
            if (requirement.ClaimType == ApiKeyDefaults.ScopeClaim && context.User.FindFirst(ApiKeyDefaults.KeyIdClaim)?.Value is { } keyId)
            {
                owner.SeenByAuthorization.GetOrAdd(keyId, _ => new()).Enqueue(context.User.FindAll(TransformedClaim).Count());
                if (owner.RefusedKeyIds.ContainsKey(keyId))
                {
                    context.Fail(new AuthorizationFailureReason(this, "This key is refused by the application's own rule."));
                }
            }

            return Task.CompletedTask;
        }
    }
}

/// <summary>
/// Issue 13.3: scope policies are ordinary policies, so a claims transformation and every registered
/// authorization handler take part in API calls as the framework has them do.
/// </summary>
public sealed class ExtensionPointsTests(ExtensionPointsFactory factory) : IClassFixture<ExtensionPointsFactory>
{
    [Fact]
    public async Task ClaimsTransformation_OnApiCalls_Answers200_AndAuthorizationSeesItsClaimOncePerRequest()
    {
        var key = await factory.NewAdminKeyAsync("Transformed");
        var api = factory.NewClient();

        await api.ApiGetAsync("/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);
        await api.ApiGetAsync("/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);

        // Each request's principal is its own: the claim is there once, never carried over from an earlier request.
        Assert.Equal([1, 1], factory.SeenByAuthorization[TestKeys.KeyIdOf(key)]);
    }

    [Fact]
    public async Task ExtraAuthorizationHandler_ForTheScopeRequirement_TurnsA200Into403()
    {
        var refused = await factory.NewAdminKeyAsync("Refused by the app's rule");
        var allowed = await factory.NewAdminKeyAsync("Allowed by the app's rule");
        var api = factory.NewClient();
        await api.ApiGetAsync("/v1/vendors", refused).ExpectAsync(HttpStatusCode.OK);

        factory.RefusedKeyIds[TestKeys.KeyIdOf(refused)] = true;

        var response = await api.ApiGetAsync("/v1/vendors", refused).ExpectAsync(HttpStatusCode.Forbidden);
        Assert.Equal(403, (await response.ReadProblemAsync()).Status);
        await api.ApiGetAsync("/v1/vendors", allowed).ExpectAsync(HttpStatusCode.OK);
        // An endpoint without a scope policy has no ClaimsAuthorizationRequirement: the handler's rule does not reach it.
        await api.ApiGetAsync("/v1/installations/me", refused).ExpectAsync(HttpStatusCode.OK);
    }
}
