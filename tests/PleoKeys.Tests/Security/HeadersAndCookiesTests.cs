using System.Net;
using AngleSharp.Html.Dom;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Security;

/// <summary>Security headers on every kind of response, and cookie flags over HTTP and HTTPS.</summary>
public sealed class HeadersAndCookiesTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    private sealed class SetCookieRecorder(List<string> setCookies) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.Headers.TryGetValues("Set-Cookie", out var values))
            {
                lock (setCookies)
                {
                    setCookies.AddRange(values);
                }
            }

            return response;
        }
    }

    private HttpClient Browser(Uri baseAddress, List<string> setCookies)
    {
        var client = factory.CreateDefaultClient(baseAddress, new SetCookieRecorder(setCookies), new CookieContainerHandler());
        return client;
    }

    private static async Task SignInAsync(HttpClient client, string email)
    {
        var page = await client.GetDocumentAsync("/Account/Login");
        var response = await client.SubmitAsync(page.Form(), ("Input.Email", email), ("Input.Password", DemoData.Password));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }

    [Fact]
    public async Task EveryKindOfResponse_CarriesCspWithoutInlineScript_Nosniff_FrameDenial_ReferrerPolicy()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var create = await admin.PostCreateFormAsync("Headers", scopes: PageHelpers.AllScopes);
        var reveal = await admin.GetAsync(create.Headers.Location);
        var key = ((IHtmlInputElement)(await Html.ParseAsync(reveal)).QuerySelector("#new-key")!).Value;
        var id = await factory.NewClient().KeyRowIdAsync(key);
        var anonymous = factory.NewClient();
        var token = await admin.AntiforgeryTokenAsync("/");

        var responses = new List<(string What, HttpResponseMessage Response)>
        {
            ("create redirect", create),
            ("reveal", reveal),
            ("sign-in page", await anonymous.GetAsync("/Account/Login")),
            ("sign-in redirect", await anonymous.GetAsync("/Settings/ApiKeys")),
            ("overview", await admin.GetAsync("/")),
            ("settings", await admin.GetAsync("/Settings")),
            ("key list", await admin.GetAsync("/Settings/ApiKeys")),
            ("create form", await admin.GetAsync("/Settings/ApiKeys/Create")),
            ("rejected create", await admin.PostFormAsync("/Settings/ApiKeys/Create", PageHelpers.CreateFields(token, ""))),
            ("details", await admin.GetAsync($"/Settings/ApiKeys/Details/{id}")),
            ("delete confirmation", await admin.GetAsync($"/Settings/ApiKeys/Delete/{id}")),
            ("404 page", await admin.GetAsync("/no/such/page")),
            ("400 page", await admin.PostFormAsync("/Account/Logout", [])),
            ("403 page", await (await factory.SignedInClientAsync(DemoData.Employee)).GetAsync("/Settings/ApiKeys")),
            ("static file", await anonymous.GetAsync("/css/site.css")),
            ("API answer", await anonymous.ApiGetAsync("/v1/installations/me", key)),
            ("API 401", await anonymous.ApiGetAsync("/v1/installations/me", ApiKeyFormat.Generate(KeyEnvironment.Staging).Key)),
            ("API 403", await anonymous.ApiGetAsync($"/v1/vendors?company_id={DemoData.FjordBikesAsId}", key)),
            ("OpenAPI document", await anonymous.GetAsync("/openapi/v1.json")),
        };

        foreach (var (what, response) in responses)
        {
            var headers = response.Headers;
            var csp = Header(response, "Content-Security-Policy");
            var directives = csp.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .ToDictionary(d => d.Split(' ')[0], d => d, StringComparer.OrdinalIgnoreCase);
            var scriptSrc = directives.GetValueOrDefault("script-src") ?? directives.GetValueOrDefault("default-src") ?? "";
            Assert.True(scriptSrc.Length > 0, $"{what}: no script-src or default-src in the CSP");
            Assert.DoesNotContain("'unsafe-inline'", scriptSrc, StringComparison.Ordinal);
            Assert.DoesNotContain("'unsafe-eval'", scriptSrc, StringComparison.Ordinal);
            Assert.Equal("frame-ancestors 'none'", directives.GetValueOrDefault("frame-ancestors"));
            Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
            Assert.Equal("DENY", Header(response, "X-Frame-Options"));
            Assert.Equal("no-referrer", Header(response, "Referrer-Policy"));

            // And the pages live by it: no inline script, no event-handler attributes.
            if (response.Content.Headers.ContentType?.MediaType == "text/html")
            {
                var document = await Html.ParseAsync(response);
                Assert.All(document.Scripts, s => Assert.True(s.Source is { Length: > 0 } && string.IsNullOrWhiteSpace(s.Text), $"{what}: inline script"));
                Assert.DoesNotContain(document.All.SelectMany(e => e.Attributes), a => a.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase));
                Assert.DoesNotContain(document.All.SelectMany(e => e.Attributes), a => a.Value.TrimStart().StartsWith("javascript:", StringComparison.OrdinalIgnoreCase));
            }
        }

        static string Header(HttpResponseMessage response, string name) =>
            response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values)
            : throw new Xunit.Sdk.XunitException($"{response.RequestMessage!.Method} {response.RequestMessage.RequestUri!.AbsolutePath} has no {name}");
    }

    [Theory]
    [InlineData("http://localhost", false)]
    [InlineData("https://localhost", true)]
    public async Task EveryCookie_IsHttpOnlyAndSameSite_AndSecureOverHttps(string baseAddress, bool https)
    {
        var setCookies = new List<string>();
        var admin = Browser(new Uri(baseAddress), setCookies);
        await SignInAsync(admin, DemoData.Admin);                       // antiforgery and authentication cookies
        await admin.SwitchCompanyAsync(DemoData.NordicCoffeeAbId);       // company choice
        var create = await admin.PostCreateFormAsync("Cookie check");
        Assert.Equal(HttpStatusCode.Redirect, create.StatusCode);
        var id = create.Headers.Location!.OriginalString.Split('/')[^1];
        await admin.GetAsync(create.Headers.Location);
        var deleted = await admin.SubmitAsync((await admin.GetDocumentAsync($"/Settings/ApiKeys/Delete/{id}")).Form());
        Assert.Equal(HttpStatusCode.Redirect, deleted.StatusCode);        // TempData carrying the status message
        await admin.GetAsync(deleted.Headers.Location);                 // TempData cleared
        foreach (var language in new[] { "da", "" })                     // the language reminder, set and deleted
        {
            var saved = await admin.SubmitAsync((await admin.GetDocumentAsync("/Settings/Profile")).Form(), ("Input.Language", language));
            Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        }

        var names = setCookies.Select(c => c.Split('=')[0]).Distinct().ToList();
        Assert.Superset(new HashSet<string> { "pleokeys.af", "pleokeys.auth", "pleokeys.company", ".AspNetCore.Mvc.CookieTempDataProvider", PleoKeys.Web.AppCultures.CookieName },
            names.ToHashSet());
        foreach (var cookie in setCookies)
        {
            var attributes = cookie.Split(';').Skip(1).Select(a => a.Trim().ToLowerInvariant()).ToList();
            var name = cookie.Split('=')[0];
            Assert.True(attributes.Contains("httponly"), $"{name} is not HttpOnly");
            Assert.True(attributes.Any(a => a is "samesite=lax" or "samesite=strict"), $"{name} has no SameSite=Lax/Strict");
            // A deletion (empty value, expired) carries nothing to protect; the framework's TempData deletion has no Secure.
            var deletion = cookie.Split(';')[0].EndsWith('=') && attributes.Contains("expires=thu, 01 jan 1970 00:00:00 gmt");
            Assert.True(attributes.Contains("secure") == https || (deletion && !attributes.Contains("secure")), $"{name}: Secure is {attributes.Contains("secure")} over {(https ? "HTTPS" : "HTTP")}: {string.Join("; ", attributes)}");
        }
    }
}

/// <summary>Production mode: HSTS and HTTPS redirection on, no detailed error page, no demo data.</summary>
public sealed class ProductionModeTests(FailingDatabaseFactory factory) : IClassFixture<FailingDatabaseFactory>
{
    private HttpClient Client(string baseAddress) =>
        factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri(baseAddress), AllowAutoRedirect = false });

    [Fact]
    public async Task Production_PlainHttp_RedirectsToHttps()
    {
        var response = await Client("http://pleokeys.example").GetAsync("/Account/Login");
        Assert.True(response.StatusCode is HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect or HttpStatusCode.Redirect,
            $"HTTP answered {(int)response.StatusCode}");
        Assert.Equal("https://pleokeys.example/Account/Login", response.Headers.Location?.ToString());
    }

    [Fact]
    public async Task Production_Https_SendsHsts()
    {
        var response = await Client("https://pleokeys.example").GetAsync("/Account/Login");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.TryGetValues("Strict-Transport-Security", out var hsts), "no HSTS header");
        Assert.Contains("max-age=", string.Join(',', hsts), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_UnhandledError_ShowsNoDetails()
    {
        // The factory's key store throws; a well-formed key makes the API look it up.
        var response = await Client("https://pleokeys.example").ApiGetAsync("/v1/installations/me", ApiKeyFormat.Generate(KeyEnvironment.Staging).Key);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.DoesNotContain(FailingDatabaseFactory.FailureText, body, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", body, StringComparison.Ordinal);
        Assert.DoesNotContain("PleoKeys.Web.", body, StringComparison.Ordinal);
        Assert.Contains("Something went wrong", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Production_ByDefault_SeedsNoDemoData()
    {
        Assert.Equal(0, await factory.WithDbAsync(db => db.Organisations.CountAsync()));
        Assert.Equal(0, await factory.WithDbAsync(db => db.Users.CountAsync()));
        var page = await Client("https://pleokeys.example").GetDocumentAsync("/Account/Login");
        Assert.NotNull(page.QuerySelector("form"));
    }
}
