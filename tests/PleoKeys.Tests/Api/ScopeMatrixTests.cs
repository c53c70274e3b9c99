using System.Net;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>Each endpoint with and without its scope: 200/201 with it, 403 naming it without.</summary>
public sealed class ScopeMatrixTests : IClassFixture<PleoKeysFactory>
{
    private readonly PleoKeysFactory _factory;

    public ScopeMatrixTests(PleoKeysFactory factory) => _factory = factory;

    /// <summary>Every scoped endpoint of the API, with the scope it needs.</summary>
    public static TheoryData<string, string, string> ScopedEndpoints() => new()
    {
        { "GET", "/v1/companies", Scopes.CompaniesRead },
        { "GET", "/v1/employees", Scopes.UsersRead },
        { "GET", "/v1/vendors", Scopes.VendorsRead },
        { "POST", "/v1/vendors", Scopes.VendorsWrite },
        { "GET", "/v1/accounts", Scopes.AccountsRead },
        { "POST", "/v1/accounts", Scopes.AccountsWrite },
        { "GET", "/v2/export-jobs", Scopes.ExportJobsRead },
        { "POST", "/v2/export-jobs", Scopes.ExportJobsWrite },
    };

    private static object? BodyFor(string method, string path) => (method, path) switch
    {
        ("POST", "/v1/vendors") => new { name = "Matrix Vendor A/S", country = "DK" },
        ("POST", "/v1/accounts") => new { code = "9" + Guid.NewGuid().ToString("N")[..6], name = "Matrix account", type = "EXPENSE" },
        ("POST", "/v2/export-jobs") => new { periodFrom = "2026-10-01T00:00:00Z", periodTo = "2026-11-01T00:00:00Z" },
        _ => null,
    };

    private static HttpStatusCode Success(string method) => method == "POST" ? HttpStatusCode.Created : HttpStatusCode.OK;

    private Task<HttpResponseMessage> CallAsync(string method, string path, string key) =>
        _factory.NewClient().ApiSendAsync(new HttpMethod(method), path, key, BodyFor(method, path));

    [Theory]
    [MemberData(nameof(ScopedEndpoints))]
    public async Task Endpoint_WithOnlyItsScope_Succeeds(string method, string path, string scope)
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync($"Only {scope}", scopes: [scope]);

        await CallAsync(method, path, key).ExpectAsync(Success(method));
    }

    [Theory]
    [MemberData(nameof(ScopedEndpoints))]
    public async Task Endpoint_WithEveryScopeButItsOwn_Returns403NamingTheScope(string method, string path, string scope)
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        var others = Scopes.All.Select(s => s.Value).Where(s => s != scope).ToArray();
        var key = await admin.CreateKeyAsync($"All but {scope}", scopes: others);

        var response = await CallAsync(method, path, key).ExpectAsync(HttpStatusCode.Forbidden);

        var problem = await response.ReadProblemAsync();
        Assert.Equal(403, problem.Status);
        Assert.StartsWith($"This API key lacks the scope {scope}.", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyWithOneScope_IsRefusedByEveryOtherScopedEndpoint()
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync("Vendors reader", scopes: [Scopes.VendorsRead]);

        var answers = new List<string>();
        foreach (var row in ScopedEndpoints())
        {
            var (method, path, scope) = ((string)row[0], (string)row[1], (string)row[2]);
            var response = await CallAsync(method, path, key);
            answers.Add($"{method} {path}: {(int)response.StatusCode}");
        }

        Assert.Equal(
            ScopedEndpoints().Select(r => $"{r[0]} {r[1]}: {((string)r[2] == Scopes.VendorsRead ? 200 : 403)}"),
            answers);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    public async Task Installation_NeedsNoScope(string method)
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync("Tax codes only", scopes: [Scopes.TaxCodesRead]);

        await _factory.NewClient().ApiSendAsync(new HttpMethod(method), "/v1/installations/me", key).ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ScopeCheck_HappensBeforeTheBodyIsRead()
    {
        // A key without vendors:write learns nothing about the body's validity: 403, not 400.
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync("Reader", scopes: [Scopes.VendorsRead]);

        var response = await _factory.NewClient().ApiPostAsync("/v1/vendors", key, new { name = "" });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
