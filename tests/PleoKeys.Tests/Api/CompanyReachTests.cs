using System.Net;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>
/// Which companies a key reaches: an entity key its own company (company_id optional), an
/// organisation key every entity of its organisation (company_id required), nobody else's.
/// </summary>
public sealed class CompanyReachTests : IClassFixture<PleoKeysFactory>
{
    private static readonly string[] AllReads =
        [Scopes.CompaniesRead, Scopes.UsersRead, Scopes.VendorsRead, Scopes.AccountsRead, Scopes.ExportJobsRead,
         Scopes.VendorsWrite, Scopes.AccountsWrite, Scopes.ExportJobsWrite];

    private readonly PleoKeysFactory _factory;

    public CompanyReachTests(PleoKeysFactory factory) => _factory = factory;

    public static TheoryData<string> CompanyScopedLists() => new() { "/v1/employees", "/v1/vendors", "/v1/accounts", "/v2/export-jobs" };

    private async Task<string> EntityKeyAsync()
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        return await admin.CreateKeyAsync("Entity key", scopes: AllReads);
    }

    private async Task<string> OrganisationKeyAsync()
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        return await admin.CreateKeyAsync("Organisation key", accessLevel: "Organisation", scopes: AllReads);
    }

    private static string With(string path, Guid companyId) => $"{path}?company_id={companyId}";

    private static IEnumerable<Guid> CompanyIds(System.Text.Json.JsonElement page) =>
        page.GetProperty("data").EnumerateArray().Select(e => e.GetProperty("companyId").GetGuid()).Distinct();

    [Theory]
    [MemberData(nameof(CompanyScopedLists))]
    public async Task EntityKey_WithoutCompanyId_ListsItsOwnCompany(string path)
    {
        var key = await EntityKeyAsync();

        var response = await _factory.NewClient().ApiSendAsync(HttpMethod.Get, path, key).ExpectAsync(HttpStatusCode.OK);

        var page = await response.ReadJsonAsync();
        Assert.NotEmpty(page.GetProperty("data").EnumerateArray());
        Assert.Equal([DemoData.NordicCoffeeApSId], CompanyIds(page));
    }

    [Theory]
    [MemberData(nameof(CompanyScopedLists))]
    public async Task EntityKey_WithItsOwnCompanyId_Returns200(string path)
    {
        var key = await EntityKeyAsync();

        var response = await _factory.NewClient().ApiSendAsync(HttpMethod.Get, With(path, DemoData.NordicCoffeeApSId), key).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal([DemoData.NordicCoffeeApSId], CompanyIds(await response.ReadJsonAsync()));
    }

    [Theory]
    [MemberData(nameof(CompanyScopedLists))]
    public async Task EntityKey_WithSisterEntity_Returns403(string path)
    {
        var key = await EntityKeyAsync();

        var response = await _factory.NewClient().ApiSendAsync(HttpMethod.Get, With(path, DemoData.NordicCoffeeAbId), key).ExpectAsync(HttpStatusCode.Forbidden);

        var problem = await response.ReadProblemAsync();
        Assert.Contains(DemoData.NordicCoffeeAbId.ToString(), problem.Detail, StringComparison.Ordinal);
        Assert.Contains("the company it was created for", problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(CompanyScopedLists))]
    public async Task EntityKey_WithCompanyOfAnotherOrganisation_Returns403(string path)
    {
        var key = await EntityKeyAsync();

        await _factory.NewClient().ApiSendAsync(HttpMethod.Get, With(path, DemoData.FjordBikesAsId), key).ExpectAsync(HttpStatusCode.Forbidden);
    }

    [Theory]
    [MemberData(nameof(CompanyScopedLists))]
    public async Task OrganisationKey_WithEachEntity_ListsThatEntity(string path)
    {
        var key = await OrganisationKeyAsync();
        var client = _factory.NewClient();

        foreach (var company in new[] { DemoData.NordicCoffeeApSId, DemoData.NordicCoffeeAbId })
        {
            var response = await client.ApiSendAsync(HttpMethod.Get, With(path, company), key).ExpectAsync(HttpStatusCode.OK);
            Assert.Equal([company], CompanyIds(await response.ReadJsonAsync()));
        }
    }

    [Theory]
    [MemberData(nameof(CompanyScopedLists))]
    public async Task OrganisationKey_WithCompanyOfAnotherOrganisation_Returns403(string path)
    {
        var key = await OrganisationKeyAsync();

        var response = await _factory.NewClient().ApiSendAsync(HttpMethod.Get, With(path, DemoData.FjordBikesAsId), key).ExpectAsync(HttpStatusCode.Forbidden);

        Assert.Contains("the entities of its own organisation", (await response.ReadProblemAsync()).Detail, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(CompanyScopedLists))]
    public async Task OrganisationKey_WithoutCompanyId_Returns400SayingToNameOne(string path)
    {
        var key = await OrganisationKeyAsync();

        var response = await _factory.NewClient().ApiSendAsync(HttpMethod.Get, path, key).ExpectAsync(HttpStatusCode.BadRequest);

        var problem = await response.ReadProblemAsync();
        Assert.Equal("company_id is required", problem.Title);
        Assert.Contains("Name one with the company_id query parameter", problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/vendors", "{\"name\":\"Org vendor\"}")]
    [InlineData("/v1/accounts", "{\"code\":\"7777\",\"name\":\"Org account\",\"type\":\"ASSET\"}")]
    [InlineData("/v2/export-jobs", "{\"periodFrom\":\"2026-01-01T00:00:00Z\",\"periodTo\":\"2026-02-01T00:00:00Z\"}")]
    public async Task OrganisationKey_WritingWithoutCompanyId_Returns400(string path, string body)
    {
        var key = await OrganisationKeyAsync();

        var response = await _factory.NewClient().ApiPostAsync(path, key, System.Text.Json.JsonDocument.Parse(body).RootElement);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("company_id is required", (await response.ReadProblemAsync()).Title);
    }

    [Theory]
    [InlineData("/v1/vendors")]
    [InlineData("/v1/accounts")]
    [InlineData("/v2/export-jobs")]
    public async Task Writing_ToCompanyOfAnotherOrganisation_Returns403(string path)
    {
        var key = await OrganisationKeyAsync();

        var response = await _factory.NewClient().ApiPostAsync(With(path, DemoData.FjordBikesAsId), key, new { name = "x" });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, await _factory.WithDbAsync(db => Task.FromResult(db.Vendors.Count(v => v.Name == "x"))));
    }

    [Theory]
    [InlineData("not-a-guid")]
    [InlineData("urn:pleo:company:0b7f1a2e-3c4d-4e5f-8a9b-0000000000a1")]
    [InlineData("123")]
    [InlineData("%20")]
    public async Task InvalidCompanyId_Returns400(string companyId)
    {
        var key = await EntityKeyAsync();

        var response = await _factory.NewClient().ApiSendAsync(HttpMethod.Get, $"/v1/vendors?company_id={companyId}", key);

        if (companyId == "%20")
        {
            // A blank company_id is the same as none: an entity key falls back to its own company.
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return;
        }

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Invalid company_id", (await response.ReadProblemAsync()).Title);
    }

    [Theory]
    [InlineData("company_id={0}&company_id={0}")]
    [InlineData("company_id={0}&company_id=0b7f1a2e-3c4d-4e5f-8a9b-0000000000a2")]
    [InlineData("offset=1&offset=2")]
    [InlineData("limit=1&limit=2")]
    public async Task RepeatedQueryParameter_Returns400NotServerError(string query)
    {
        var key = await OrganisationKeyAsync();

        var response = await _factory.NewClient().ApiSendAsync(HttpMethod.Get, "/v1/vendors?" + string.Format(System.Globalization.CultureInfo.InvariantCulture, query, DemoData.NordicCoffeeApSId), key);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(400, (await response.ReadProblemAsync()).Status);
    }

    [Fact]
    public async Task UnknownCompanyId_Returns403LikeAnyOtherCompany()
    {
        var key = await OrganisationKeyAsync();

        await _factory.NewClient().ApiSendAsync(HttpMethod.Get, With("/v1/vendors", Guid.NewGuid()), key).ExpectAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Companies_EntityKey_ListsOnlyItsCompany()
    {
        var key = await EntityKeyAsync();

        var page = await (await _factory.NewClient().ApiSendAsync(HttpMethod.Get, "/v1/companies", key).ExpectAsync(HttpStatusCode.OK)).ReadJsonAsync();

        var ids = page.GetProperty("data").EnumerateArray().Select(c => c.GetProperty("id").GetGuid()).ToList();
        Assert.Equal([DemoData.NordicCoffeeApSId], ids);
        Assert.Equal(1, page.GetProperty("pagination").GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Companies_OrganisationKey_ListsEveryEntityOfItsOrganisationOnly()
    {
        var key = await OrganisationKeyAsync();

        var page = await (await _factory.NewClient().ApiSendAsync(HttpMethod.Get, "/v1/companies", key).ExpectAsync(HttpStatusCode.OK)).ReadJsonAsync();

        var ids = page.GetProperty("data").EnumerateArray().Select(c => c.GetProperty("id").GetGuid()).Order().ToList();
        Assert.Equal(new[] { DemoData.NordicCoffeeApSId, DemoData.NordicCoffeeAbId }.Order(), ids);
        Assert.All(page.GetProperty("data").EnumerateArray(), c => Assert.Equal(DemoData.NordicCoffeeGroupId, c.GetProperty("organizationId").GetGuid()));
    }

    [Fact]
    public async Task Installation_EntityKey_NamesItsCompany()
    {
        var key = await EntityKeyAsync();

        var json = await (await _factory.NewClient().ApiSendAsync(HttpMethod.Get, "/v1/installations/me", key).ExpectAsync(HttpStatusCode.OK)).ReadJsonAsync();

        Assert.Equal($"urn:pleo:company:{DemoData.NordicCoffeeApSId}", json.GetProperty("resource").GetString());
    }

    [Fact]
    public async Task Installation_OrganisationKey_NamesItsOrganisation()
    {
        var key = await OrganisationKeyAsync();
        var row = await _factory.KeyRowAsync(key);

        var json = await (await _factory.NewClient().ApiSendAsync(HttpMethod.Get, "/v1/installations/me", key).ExpectAsync(HttpStatusCode.OK)).ReadJsonAsync();

        Assert.Equal($"urn:pleo:organization:{DemoData.NordicCoffeeGroupId}", json.GetProperty("resource").GetString());
        Assert.Equal(row.Id, json.GetProperty("id").GetGuid());
        Assert.Equal("ACTIVATED", json.GetProperty("status").GetString());
        Assert.Equal(AllReads.Order(StringComparer.Ordinal), json.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()!).Order(StringComparer.Ordinal));
        Assert.Equal(row.ExpiresAtUtc, json.GetProperty("expiresAt").GetDateTime().ToUniversalTime());
    }
}
