using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using AngleSharp.Html.Dom;
using PleoKeys.Tests.Api;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Pages;

/// <summary>
/// The host's locale changes nothing (issue 12): the built app started as a process on a host whose locale is
/// Thai (LANG/LC_ALL=th_TH.UTF-8, whose calendar is the Buddhist one: 2026 is 2569) still offers, shows,
/// accepts and answers Gregorian ISO dates. Measured before: the Create page offered min="2569-12-01", the list
/// showed years 2569, and a custom date inside the offered range was refused as too late.
/// </summary>
public sealed partial class HostLocaleTests : IAsyncLifetime
{
    private const string Thai = "th_TH.UTF-8";

    private readonly string _database = Path.Combine(Path.GetTempPath(), $"pleokeys-locale-{Guid.NewGuid():N}.db");
    private AppProcess? _app;

    public async Task InitializeAsync()
    {
        _app = await AppProcess.StartAsync(AppProcess.Ports(1)[0], postgres: "", new Dictionary<string, string>
        {
            ["LANG"] = Thai,
            ["LC_ALL"] = Thai,
            ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "false",
            ["Database__Provider"] = "Sqlite",
            ["ConnectionStrings__Sqlite"] = $"Data Source={_database}",
            ["Logging__LogLevel__Default"] = "Information",
        });
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(_database + suffix);
        }
    }

    private HttpClient NewClient() =>
        new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() }) { BaseAddress = _app!.BaseAddress };

    [GeneratedRegex(@"\b2[5-9]\d\d-\d\d-\d\d")]
    private static partial Regex BuddhistYearDate();

    private static DateOnly Iso(string? text) => DateOnly.ParseExact(text!, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>
    /// Issue 12's return-URL case exactly as measured, on Kestrel (the test server lets a non-ASCII Location
    /// header through; Kestrel answered 500): the cookie handler, signing in on the sign-in path, redirected to the
    /// raw ?ReturnUrl= by itself.
    /// </summary>
    [Fact]
    public async Task SignIn_OnKestrel_WithANonAsciiReturnUrl_SignsInAndRedirectsEncoded()
    {
        var client = NewClient();
        var login = await client.GetDocumentAsync("/Account/Login?ReturnUrl=/%C3%A9");

        var signedIn = await client.SubmitAsync(login.Form(), ("Input.Email", DemoData.Admin), ("Input.Password", DemoData.Password));

        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/%C3%A9", signedIn.Headers.Location!.OriginalString);
        Assert.Contains(signedIn.Headers.GetValues("Set-Cookie"), c => c.StartsWith("pleokeys.auth=", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/Settings/ApiKeys")).StatusCode);
    }

    [Fact]
    public async Task ThaiHost_CreatePageListAndApi_UseGregorianIsoDates()
    {
        // The premise: .NET on this host really took the Thai culture from the environment (ICU is present).
        Assert.Contains("The host's culture is th-TH", _app!.Output, StringComparison.Ordinal);

        var client = NewClient();
        var login = await client.GetDocumentAsync("/Account/Login");
        var signedIn = await client.SubmitAsync(login.Form(), ("Input.Email", DemoData.Admin), ("Input.Password", DemoData.Password));
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);

        var create = await client.GetDocumentAsync("/Settings/ApiKeys/Create");
        var custom = (IHtmlInputElement)create.QuerySelector("#Input_CustomDate")!;
        var (min, max) = (Iso(custom.GetAttribute("min")), Iso(custom.GetAttribute("max")));
        var thisYear = DateTime.UtcNow.Year;
        Assert.InRange(min.Year, thisYear, thisYear + 1);
        Assert.Equal(min.AddDays(-1).AddYears(1), max);
        Assert.DoesNotMatch(BuddhistYearDate(), create.Source.Text);

        var chosen = min.AddDays(10).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var created = await client.SubmitAsync(create.Form(), ("Input.Name", "Thai host key"), ("Input.Expiration", "custom"),
            ("Input.CustomDate", chosen), ("Input.AccessLevel", "Company"), ("Input.Scopes", "vendors:read"));
        Assert.True(created.StatusCode == HttpStatusCode.Redirect, $"a custom date inside the offered range was refused: {(int)created.StatusCode}");
        var reveal = await client.GetDocumentAsync(created.Headers.Location!.ToString());
        var key = ((IHtmlInputElement)reveal.QuerySelector("#new-key")!).Value;

        var list = await client.GetDocumentAsync("/Settings/ApiKeys");
        var row = list.QuerySelectorAll("tbody tr").Single(r => r.TextContent.Contains("Thai host key", StringComparison.Ordinal));
        Assert.Contains(chosen, row.TextContent, StringComparison.Ordinal);
        Assert.Contains(DateOnly.FromDateTime(DateTime.UtcNow).ToString("yyyy-MM-", CultureInfo.InvariantCulture), row.TextContent, StringComparison.Ordinal);
        Assert.DoesNotMatch(BuddhistYearDate(), list.Source.Text);

        var me = await client.ApiSendAsync(HttpMethod.Get, "/v1/installations/me", key);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        var expiresHeader = me.Header(PleoKeys.Web.Auth.ApiKeyDefaults.ExpiresHeader)!;
        Assert.Equal(min.Year / 100, int.Parse(expiresHeader[..2], CultureInfo.InvariantCulture));
        var body = await me.Content.ReadAsStringAsync();
        Assert.DoesNotMatch(BuddhistYearDate(), body);
        Assert.DoesNotMatch(BuddhistYearDate(), _app.Output);

        // The OpenAPI server is the address the app listens on (PleoKeys:PublicBaseUrl unset), not the Host header.
        var openApi = await (await client.GetAsync("/openapi/v1.json")).ReadJsonAsync();
        Assert.Equal(_app.BaseAddress.ToString().TrimEnd('/'), openApi.GetProperty("servers")[0].GetProperty("url").GetString());
    }
}
