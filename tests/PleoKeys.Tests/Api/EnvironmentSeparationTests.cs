using System.Net;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>Staging and Production are separate deployments: a key works only where it was created.</summary>
public sealed class EnvironmentSeparationTests : IClassFixture<PleoKeysFactory>, IClassFixture<LiveKeysFactory>
{
    private const string Me = "/v1/installations/me";

    private readonly PleoKeysFactory _staging;
    private readonly LiveKeysFactory _production;

    public EnvironmentSeparationTests(PleoKeysFactory staging, LiveKeysFactory production)
    {
        _staging = staging;
        _production = production;
    }

    [Fact]
    public async Task ProductionKey_PresentedToStaging_Returns401NamingProduction()
    {
        var admin = await _production.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync("Live key");
        Assert.True(key.StartsWith("pleo_live_", StringComparison.Ordinal), "a Production key starts with pleo_live_");
        await _production.NewClient().ApiSendAsync(HttpMethod.Get, Me, key).ExpectAsync(HttpStatusCode.OK);
        var verifies = _staging.Hasher.Verifies;

        var response = await _staging.NewClient().ApiSendAsync(HttpMethod.Get, Me, key).ExpectAsync(HttpStatusCode.Unauthorized);

        var problem = await response.ReadProblemAsync();
        Assert.StartsWith("This API key was created in Production and only works there.", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("WWW-Authenticate", response.Headers.Select(h => h.Key));
        Assert.Equal(verifies, _staging.Hasher.Verifies);
    }

    [Fact]
    public async Task StagingKey_PresentedToProduction_Returns401NamingStaging()
    {
        var admin = await _staging.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync("Test key");
        Assert.True(key.StartsWith("pleo_test_", StringComparison.Ordinal), "a Staging key starts with pleo_test_");

        var response = await _production.NewClient().ApiSendAsync(HttpMethod.Get, Me, key).ExpectAsync(HttpStatusCode.Unauthorized);

        var problem = await response.ReadProblemAsync();
        Assert.StartsWith("This API key was created in Staging and only works there.", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProductionKeyFormat_WithUnknownId_StillSaysOtherEnvironment()
    {
        // The environment is read from the key's prefix, without the database: the answer cannot tell
        // whether such a key exists in the other deployment.
        var response = await _staging.NewClient().ApiSendAsync(HttpMethod.Get, Me, ApiKeyFormat.Generate(KeyEnvironment.Production).Key);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("This API key was created in Production", (await response.ReadProblemAsync()).Detail, StringComparison.Ordinal);
    }
}
