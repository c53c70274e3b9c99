using System.Net;
using System.Text.Json;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Pages;

/// <summary>Staging (the default): badge in the header, keys start with pleo_test_ and work only here.</summary>
public sealed class StagingEnvironmentTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    [Theory]
    [InlineData("/Account/Login")]
    [InlineData("/Settings/ApiKeys")]
    public async Task Header_ShowsTheStagingBadge(string path)
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);

        var page = await client.GetDocumentAsync(path);

        Assert.Equal("Staging", page.QuerySelector("header .env-badge").Text());
    }

    [Fact]
    public async Task Create_KeyStartsWithPleoTestAndWorksHere()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);

        var key = await client.CreateKeyAsync(PageHelpers.UniqueName("Staging key"));

        Assert.StartsWith("pleo_test_", key, StringComparison.Ordinal);
        Assert.Equal(KeyEnvironment.Staging, (await factory.KeyRowAsync(key)).Environment);
        Assert.Equal(HttpStatusCode.OK, (await factory.NewClient().ApiGetAsync("/v1/installations/me", key)).StatusCode);
    }

    [Fact]
    public async Task Api_SameKeyUnderTheLivePrefix_IsRefusedAsWrongEnvironment()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await client.CreateKeyAsync(PageHelpers.UniqueName("Staging key"));

        var response = await factory.NewClient().ApiGetAsync("/v1/installations/me", TestKeys.InEnvironment(key, "pleo_live_"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Wrong environment", await ProblemTitleAsync(response));
    }

    [Fact]
    public async Task List_ShowsTestFingerprints()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);

        var rows = (await client.GetDocumentAsync("/Settings/ApiKeys")).KeyTableRows();

        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.StartsWith("pleo_test_", r["Key"], StringComparison.Ordinal));
    }

    internal static async Task<string?> ProblemTitleAsync(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("title").GetString();
    }
}

/// <summary>The same app configured as Production.</summary>
public sealed class ProductionEnvironmentTests(LiveKeysFactory factory) : IClassFixture<LiveKeysFactory>
{
    [Fact]
    public async Task Header_ShowsTheProductionBadge()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);

        var page = await client.GetDocumentAsync("/Settings/ApiKeys");

        Assert.Equal("Production", page.QuerySelector("header .env-badge").Text());
    }

    [Fact]
    public async Task Create_KeyStartsWithPleoLiveAndWorksHere()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);

        var key = await client.CreateKeyAsync(PageHelpers.UniqueName("Live key"));

        Assert.StartsWith("pleo_live_", key, StringComparison.Ordinal);
        Assert.Equal(KeyEnvironment.Production, (await factory.KeyRowAsync(key)).Environment);
        Assert.Equal(HttpStatusCode.OK, (await factory.NewClient().ApiGetAsync("/v1/installations/me", key)).StatusCode);
    }

    [Fact]
    public async Task Api_SameKeyUnderTheTestPrefix_IsRefusedAsWrongEnvironment()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await client.CreateKeyAsync(PageHelpers.UniqueName("Live key"));

        var response = await factory.NewClient().ApiGetAsync("/v1/installations/me", TestKeys.InEnvironment(key, "pleo_test_"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Wrong environment", await StagingEnvironmentTests.ProblemTitleAsync(response));
    }

    [Fact]
    public async Task List_ShowsLiveFingerprints()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);

        var rows = (await client.GetDocumentAsync("/Settings/ApiKeys")).KeyTableRows();

        Assert.NotEmpty(rows);
        Assert.All(rows, r => Assert.StartsWith("pleo_live_", r["Key"], StringComparison.Ordinal));
    }
}
