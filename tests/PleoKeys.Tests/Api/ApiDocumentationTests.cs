using System.Net;
using System.Text.Json;
using AngleSharp.Html.Dom;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>The OpenAPI document, the API reference page, and what the one-time reveal offers an integrator.</summary>
public sealed class ApiDocumentationTests : IClassFixture<PleoKeysFactory>
{
    private readonly PleoKeysFactory _factory;

    public ApiDocumentationTests(PleoKeysFactory factory) => _factory = factory;

    /// <summary>Every operation of the API and the scope it needs (null: any valid key).</summary>
    public static TheoryData<string, string, string?> Operations() => new()
    {
        { "get", "/v1/installations/me", null },
        { "post", "/v1/installations/me", null },
        { "get", "/v1/companies", Scopes.CompaniesRead },
        { "get", "/v1/employees", Scopes.UsersRead },
        { "get", "/v1/vendors", Scopes.VendorsRead },
        { "post", "/v1/vendors", Scopes.VendorsWrite },
        { "get", "/v1/accounts", Scopes.AccountsRead },
        { "post", "/v1/accounts", Scopes.AccountsWrite },
        { "get", "/v2/export-jobs", Scopes.ExportJobsRead },
        { "post", "/v2/export-jobs", Scopes.ExportJobsWrite },
    };

    private async Task<JsonElement> DocumentAsync()
    {
        var response = await _factory.NewClient().GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.ReadJsonAsync();
    }

    [Fact]
    public async Task OpenApi_ListsExactlyTheApisOperations()
    {
        var document = await DocumentAsync();

        var listed = document.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(op => $"{op.Name} {p.Name}"))
            .Order(StringComparer.Ordinal);
        // The key operations, and the one anyone may call without a key (issue 15: reporting exposed keys).
        Assert.Equal(Operations().Select(o => $"{o[0]} {o[1]}").Append("post /v1/credential-revocations").Order(StringComparer.Ordinal), listed);
    }

    [Fact]
    public async Task OpenApi_DescribesBasicAuthentication()
    {
        var document = await DocumentAsync();

        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("basicAuth");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("basic", scheme.GetProperty("scheme").GetString());
        Assert.Contains("curl -u 'KEY:'", document.GetProperty("info").GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task OpenApi_EachOperationNamesItsScope(string method, string path, string? scope)
    {
        var document = await DocumentAsync();

        var operation = document.GetProperty("paths").GetProperty(path).GetProperty(method);
        var requirement = Assert.Single(operation.GetProperty("security").EnumerateArray());
        var scopes = requirement.GetProperty("basicAuth").EnumerateArray().Select(s => s.GetString()).ToList();
        if (scope is null)
        {
            Assert.Empty(scopes);
            return;
        }

        Assert.Equal([scope], scopes);
        Assert.Equal(scope, operation.GetProperty("x-required-scope").GetString());
        Assert.Contains(scope, operation.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/employees")]
    [InlineData("/v1/vendors")]
    [InlineData("/v1/accounts")]
    [InlineData("/v2/export-jobs")]
    public async Task OpenApi_CompanyScopedListsDocumentTheirQueryParameters(string path)
    {
        var document = await DocumentAsync();

        var parameters = document.GetProperty("paths").GetProperty(path).GetProperty("get").GetProperty("parameters")
            .EnumerateArray().Select(p => p.GetProperty("name").GetString()).Order(StringComparer.Ordinal);
        Assert.Equal(["company_id", "limit", "offset"], parameters);
    }

    [Fact]
    public async Task ApiReference_IsLinkedFromTheApiKeysPageAndServed()
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        var page = await admin.GetDocumentAsync("/Settings/ApiKeys");
        var link = page.QuerySelectorAll("a").Single(a => a.TextContent.Contains("API reference", StringComparison.Ordinal));

        var reference = await _factory.NewClient().GetAsync(link.GetAttribute("href"));

        Assert.Equal(HttpStatusCode.OK, reference.StatusCode);
        Assert.Equal("text/html", reference.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ApiReference_IsRenderedOnTheServer_WithoutScriptAndUnderTheSameCspAsEveryPage()
    {
        // Issue 12, "Every page clean": the reference is HTML built from the OpenAPI document, so it loads nothing
        // from another origin and needs no exception in the CSP (Scalar's bundle needed a style nonce).
        var client = _factory.NewClient();
        var reference = await client.GetAsync("/api-reference");
        var page = await Html.ParseAsync(reference);
        var login = await client.GetAsync("/Account/Login");

        Assert.Equal(HttpStatusCode.OK, reference.StatusCode);
        Assert.Equal(login.Headers.GetValues("Content-Security-Policy").Single(), reference.Headers.GetValues("Content-Security-Policy").Single());
        Assert.DoesNotContain("nonce", reference.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.All(page.QuerySelectorAll("script"), s => Assert.StartsWith("/js/site.js", s.GetAttribute("src") ?? "", StringComparison.Ordinal));
        Assert.All(page.QuerySelectorAll("[src], link[href]"), e =>
            Assert.StartsWith("/", e.GetAttribute("src") ?? e.GetAttribute("href") ?? "", StringComparison.Ordinal));

        // Every operation of the document is on the page, with its permission.
        using var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json"));
        var headings = page.QuerySelectorAll("article.operation h3").Select(h => h.Text()).ToList();
        foreach (var path in document.RootElement.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                Assert.Contains($"{operation.Name.ToUpperInvariant()} {path.Name}", headings);
            }
        }

        var createExportJob = page.QuerySelector("article#post-v2-export-jobs, article[aria-labelledby='post-v2-export-jobs']")!;
        Assert.Contains("export-jobs:write", createExportJob.Text(), StringComparison.Ordinal);
        Assert.NotNull(createExportJob.QuerySelector("a[href='#schema-CreateExportJobRequest']"));
        Assert.NotNull(page.QuerySelector("h3#schema-CreateExportJobRequest"));
    }

    [Fact]
    public async Task Reveal_ShowsTheCurlCommandAndATestKeyButton()
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        var created = await admin.PostCreateFormAsync("Reveal check");
        var reveal = await admin.GetDocumentAsync(created.Headers.Location!.ToString());

        var key = ((IHtmlInputElement)reveal.QuerySelector("#new-key")!).Value;
        var curl = ((IHtmlInputElement)reveal.QuerySelector("#curl-command")!).Value;
        // Compared without printing: the command holds the key.
        Assert.True(curl == $"curl -u '{key}:' http://localhost/v1/installations/me", "the reveal shows curl -u 'KEY:' <base URL>/v1/installations/me");
        var button = reveal.QuerySelector("button[data-test-key='new-key']");
        Assert.NotNull(button);
        Assert.Equal("Test key", button.TextContent.Trim());
        Assert.NotNull(reveal.QuerySelector(".test-result[role='status']"));
        var wrapper = reveal.QuerySelector(".reveal")!;
        Assert.Equal("Nordic Coffee ApS", wrapper.GetAttribute("data-company-name"));
        Assert.Equal(DemoData.NordicCoffeeApSId.ToString(), wrapper.GetAttribute("data-company-id"));
    }

    [Fact]
    public async Task TestKeyButton_CallsTheApiTheWayTheScriptDoes()
    {
        // The button's script sends Authorization: Basic btoa(key + ":") with Accept: application/json
        // and reads resource and detail from the answer; the same request here must answer that shape.
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync("Button check");
        var request = new HttpRequestMessage(HttpMethod.Get, "/v1/installations/me");
        request.Headers.Authorization = Clients.Basic(key);
        request.Headers.Accept.ParseAdd("application/json");

        var ok = await _factory.NewClient().SendAsync(request).ExpectAsync(HttpStatusCode.OK);
        var bad = await _factory.NewClient().ApiSendAsync(HttpMethod.Get, "/v1/installations/me", TestKeys.WithWrongSecret(key));

        Assert.EndsWith(DemoData.NordicCoffeeApSId.ToString(), (await ok.ReadJsonAsync()).GetProperty("resource").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty((await bad.ReadProblemAsync()).Detail));
        var script = await _factory.NewClient().GetStringAsync("/js/site.js");
        Assert.Contains("fetch(\"/v1/installations/me\"", script, StringComparison.Ordinal);
        Assert.Contains("\"Basic \" + btoa(key + \":\")", script, StringComparison.Ordinal);
    }
}
