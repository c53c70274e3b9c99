using System.Net;
using AngleSharp.Html.Dom;
using PleoKeys.Tests.Api;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Security;

/// <summary>The app configured with the address its clients use.</summary>
public sealed class PublicBaseUrlFactory : PleoKeysFactory
{
    public const string BaseUrl = "https://keys.example.com";

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["PleoKeys:PublicBaseUrl"] = BaseUrl };
}

/// <summary>Production with a public base URL and no AllowedHosts setting: the default host list applies.</summary>
public sealed class ProductionPublicBaseUrlFactory : PleoKeysFactory
{
    protected override string EnvironmentName => "Production";

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["PleoKeys:PublicBaseUrl"] = PublicBaseUrlFactory.BaseUrl,
        ["PleoKeys:SeedDemoData"] = "true",
    };
}

/// <summary>
/// Absolute URLs from configuration, not from the Host header (issue 12): the reveal's curl command and the
/// OpenAPI server come from PleoKeys:PublicBaseUrl, and outside Development an unknown Host gets 400.
/// </summary>
public sealed class PublicUrlTests(PublicBaseUrlFactory factory) : IClassFixture<PublicBaseUrlFactory>
{
    [Fact]
    public async Task OpenApi_WithAForgedHost_ListsTheConfiguredServer()
    {
        // Measured: with Host: evil.example the document listed http://evil.example/ as its server.
        var request = new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json");
        request.Headers.Host = "evil.example";

        var response = await factory.NewClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var servers = (await response.ReadJsonAsync()).GetProperty("servers").EnumerateArray().Select(s => s.GetProperty("url").GetString()).ToList();
        Assert.Equal([PublicBaseUrlFactory.BaseUrl], servers);
    }

    [Fact]
    public async Task Reveal_WithAForgedHost_SendsTheKeyToTheConfiguredAddress()
    {
        // Measured: the ready-to-paste curl command sent the new key to http://evil.example/….
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        admin.DefaultRequestHeaders.Host = "evil.example";
        var created = await admin.PostCreateFormAsync("Host header check");
        var reveal = await admin.GetDocumentAsync(created.Headers.Location!.ToString());

        var key = ((IHtmlInputElement)reveal.QuerySelector("#new-key")!).Value;
        var curl = ((IHtmlInputElement)reveal.QuerySelector("#curl-command")!).Value;
        // Compared without printing: the command holds the key.
        Assert.True(curl == $"curl -u '{key}:' {PublicBaseUrlFactory.BaseUrl}/v1/installations/me", "the curl command uses PleoKeys:PublicBaseUrl");
    }

    [Theory]
    [InlineData("keys.example.com")]
    [InlineData("evil.example")]
    public async Task Development_AnyHost_IsServed(string host)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/Account/Login");
        request.Headers.Host = host;

        Assert.Equal(HttpStatusCode.OK, (await factory.NewClient().SendAsync(request)).StatusCode);
    }
}

public sealed class ProductionHostFilteringTests(ProductionPublicBaseUrlFactory factory) : IClassFixture<ProductionPublicBaseUrlFactory>
{
    [Theory]
    [InlineData("evil.example", HttpStatusCode.BadRequest)]
    [InlineData("keys.example.com.evil.example", HttpStatusCode.BadRequest)]
    [InlineData("keys.example.com", HttpStatusCode.OK)]
    [InlineData("localhost", HttpStatusCode.OK)]
    public async Task Production_HostNotOfPublicBaseUrl_Gets400(string host, HttpStatusCode expected)
    {
        foreach (var path in new[] { "/Account/Login", "/openapi/v1.json" })
        {
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Host = host;

            Assert.Equal(expected, (await factory.NewClient().SendAsync(request)).StatusCode);
        }
    }
}

public sealed class PublicBaseUrlValidationTests
{
    private sealed class BadBaseUrlFactory(string value) : PleoKeysFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["PleoKeys:PublicBaseUrl"] = value };
    }

    [Theory]
    [InlineData("keys.example.com")]
    [InlineData("/keys")]
    [InlineData("ftp://keys.example.com")]
    [InlineData("https://keys.example.com/app?x=1")]
    public void Start_WithAPublicBaseUrlThatIsNotAnAbsoluteBase_FailsNamingTheSetting(string value)
    {
        using var factory = new BadBaseUrlFactory(value);

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("PleoKeys:PublicBaseUrl must be an absolute http or https URL", error.Message, StringComparison.Ordinal);
    }
}
