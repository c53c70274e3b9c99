using System.Net;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests;

public sealed class ApiKeysPageTests : IClassFixture<PleoKeysFactory>
{
    private readonly PleoKeysFactory _factory;

    public ApiKeysPageTests(PleoKeysFactory factory) => _factory = factory;

    [Fact]
    public async Task Create_AsAdmin_ShowsKeyOnceAndKeyOpensTheApi()
    {
        var client = await _factory.SignedInClientAsync(DemoData.Admin);
        var response = await client.PostCreateFormAsync("Once only", scopes: ["vendors:read"]);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);

        var reveal = await client.GetAsync(response.Headers.Location);
        Assert.Equal(HttpStatusCode.OK, reveal.StatusCode);
        Assert.Contains("no-store", reveal.Headers.CacheControl?.ToString() ?? "", StringComparison.Ordinal);
        var document = await Html.ParseAsync(reveal);
        var key = ((AngleSharp.Html.Dom.IHtmlInputElement)document.QuerySelector("#new-key")!).Value;
        Assert.StartsWith("pleo_test_", key, StringComparison.Ordinal);

        var again = await client.GetAsync(response.Headers.Location);
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        var list = await client.GetStringAsync("/Settings/ApiKeys");
        Assert.DoesNotContain(key, list, StringComparison.Ordinal);

        var api = await _factory.NewClient().ApiGetAsync("/v1/installations/me", key);
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
    }

    [Fact]
    public async Task List_AsEmployee_Returns403WithExplanation()
    {
        var client = await _factory.SignedInClientAsync(DemoData.Employee);
        var response = await client.GetAsync("/Settings/ApiKeys");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Only Admins and Bookkeepers", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
