using System.Net;
using PleoKeys.BrowserTests.Infrastructure;
using PleoKeys.Web.Data;
using Xunit.Abstractions;

namespace PleoKeys.BrowserTests;

/// <summary>
/// Issue 12, "Every page clean": every page the app serves, in each state a person meets it (signed out, signed in
/// as each kind of user, with form errors, after a deletion), at 1280 and 375 px: zero axe WCAG 2.1 A/AA violations,
/// loads to network idle with no request to another origin and no failed request (the favicon included), and zero
/// Nu HTML Checker errors in the HTML the server sent. In English at both widths, and (issue 16) in Danish, Swedish,
/// Norwegian and German at one width each, as the browser's language; LanguageTests has axe on every language at both.
/// </summary>
public sealed class EveryPageCleanTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    private readonly Dictionary<string, string> _html = new(StringComparer.Ordinal);
    private readonly List<string> _foreign = [];
    private readonly List<string> _failed = [];

    /// <summary>The browser's language for this run (Accept-Language): English, and each other language at one width (issue 16).</summary>
    private string _locale = "en-GB";

    private string L(string english, params object[] arguments) => AppTexts.L(_locale, english, arguments);

    [Theory]
    [InlineData(1280, "en-GB")]
    [InlineData(375, "en-GB")]
    [InlineData(375, "da-DK")]
    [InlineData(1280, "sv-SE")]
    [InlineData(375, "nb-NO")]
    [InlineData(1280, "de-DE")]
    public async Task EveryPage_IsAccessibleSelfContainedAndValid(int width, string locale)
    {
        _locale = locale;
        // Signed out.
        var anonymous = await OpenAsync(width);
        await VisitAsync(anonymous, "/Account/Login", "sign-in");
        await VisitAsync(anonymous, "/api-reference", "API reference (signed out)");
        await VisitAsync(anonymous, "/no-such-page", "404 page (signed out)");
        await anonymous.GotoAsync("/Account/Login");
        await anonymous.GetByLabel(L("Email")).FillAsync(DemoData.Admin);
        await anonymous.GetByLabel(L("Password")).FillAsync("not the password");
        await SubmitAndCheckAsync(anonymous, L("Sign in"), "sign-in with an error");

        // The organisation admin: every API Keys page, a key's whole life.
        var admin = await SignedInAsync(DemoData.Admin, width);
        await VisitAsync(admin, "/", "overview");
        await VisitAsync(admin, "/Settings", "settings");
        await VisitAsync(admin, "/Settings/Profile", "profile (language)");
        await VisitAsync(admin, "/Settings/ApiKeys", "API Keys list");
        await VisitAsync(admin, "/Settings/ApiKeys?q=" + Uri.EscapeDataString("no such key"), "API Keys search without results");
        await VisitAsync(admin, "/api-reference", "API reference (signed in)");
        await VisitAsync(admin, "/Settings/ApiKeys/Create", "create form");
        await SubmitAndCheckAsync(admin, L("Create API Key"), "create form with errors");
        await Expect(admin.Locator("#name-error")).Not.ToBeEmptyAsync();

        var name = $"Clean page check {Guid.NewGuid():N}"[..26];
        await admin.GetByLabel(L("Name"), new() { Exact = true }).FillAsync(name);
        await admin.GetByRole(AriaRole.Radio, new() { Name = L("{0} days", 30) }).CheckAsync();
        await admin.GetByRole(AriaRole.Radio, new() { Name = L("This entity") }).CheckAsync();
        await admin.GetByRole(AriaRole.Checkbox, new() { Name = "vendors:read" }).CheckAsync();
        await SubmitAndCheckAsync(admin, L("Create API Key"), "one-time reveal");
        await Expect(admin.GetByRole(AriaRole.Heading, new() { Name = L("Your new API key"), Exact = true })).ToBeVisibleAsync();

        await VisitAsync(admin, "/Settings/ApiKeys?q=" + Uri.EscapeDataString(name), "API Keys list with one match");
        await admin.GetByRole(AriaRole.Link, new() { Name = name, Exact = true }).ClickAsync();
        await admin.WaitForLoadStateAsync(LoadState.NetworkIdle);
        var details = admin.Url;
        await VisitAsync(admin, new Uri(details).PathAndQuery, "key details");
        // Issue 15: the usage chart and its table, and the allowlist form with a field error.
        await admin.GetByText(L("Show the numbers as a table")).ClickAsync();
        await AssertAccessibleAsync(admin, $"the key's usage table at {width} px");
        await admin.GetByLabel(L("Allowed addresses")).FillAsync("10.0.0.1/8");
        await SubmitAndCheckAsync(admin, L("Save allowlist"), "key details with an allowlist error");
        await Expect(admin.Locator("#allowlist-error")).Not.ToBeEmptyAsync();
        await admin.GetByRole(AriaRole.Button, new() { Name = L("Delete"), Exact = true }).ClickAsync();
        await Expect(admin.GetByRole(AriaRole.Dialog)).ToBeVisibleAsync();
        await AssertAccessibleAsync(admin, $"the delete dialog at {width} px");
        await VisitAsync(admin, new Uri(details).PathAndQuery.Replace("/Details/", "/Delete/", StringComparison.Ordinal), "delete confirmation page");
        await SubmitAndCheckAsync(admin, L("Delete"), "API Keys list with a status message");
        await Expect(admin.GetByRole(AriaRole.Status)).ToContainTextAsync(L("API key “{0}” was deleted. Integrations using it can no longer connect.", name));

        // A company without keys, a company with API keys off, a user without the entry.
        await SwitchToNordicCoffeeAbAsync(admin);
        await VisitAsync(admin, "/Settings/ApiKeys", "API Keys list, empty");
        await VisitAsync(await SignedInAsync(DemoData.FjordAdmin, width), "/Settings/ApiKeys", "API Keys of a company with API access off");
        await VisitAsync(await SignedInAsync(DemoData.Employee, width), "/Settings/ApiKeys", "403 page for an employee");

        Assert.True(_foreign.Count == 0, $"Pages requested other origins at {width} px ({locale}):\n" + string.Join("\n", _foreign.Distinct()));
        Assert.True(_failed.Count == 0, $"Requests failed at {width} px:\n" + string.Join("\n", _failed.Distinct()));
        var errors = await NuHtmlChecker.ErrorsAsync(_html);
        Assert.True(errors.Count == 0, "The Nu HTML Checker found errors:\n" +
            string.Join("\n", errors.Select(e => $"- {e.Page}, line {e.Line}: {e.Text}")));
        Assert.True(_html.Count >= 15, $"only {_html.Count} pages were checked");
    }

    [Fact]
    public async Task Favicon_IsServed()
    {
        using var http = new HttpClient { BaseAddress = Fixture.BaseAddress };
        using var response = await http.GetAsync("/favicon.ico");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/x-icon", response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>The Nu HTML Checker itself: it reports the measured kind of error (a skipped heading level).</summary>
    [Fact]
    public async Task NuHtmlChecker_ReportsASkippedHeadingLevel()
    {
        var errors = await NuHtmlChecker.ErrorsAsync(new Dictionary<string, string>
        {
            ["skipped"] = "<!DOCTYPE html><html lang=\"en\"><head><title>t</title></head><body><h1>a</h1><h3>b</h3></body></html>",
        });

        var error = Assert.Single(errors);
        Assert.Equal("skipped", error.Page);
        Assert.Contains("skipping 1 heading level", error.Text, StringComparison.Ordinal);
    }

    /// <summary>A page in a fresh context that records requests to other origins (refused) and failed requests.</summary>
    private async Task<IPage> OpenAsync(int width)
    {
        var context = await Fixture.NewContextAsync(width, 812, locale: _locale);
        var origin = Fixture.BaseAddress.GetLeftPart(UriPartial.Authority);
        await context.RouteAsync("**/*", async route =>
        {
            var url = route.Request.Url;
            if (url.StartsWith(origin + "/", StringComparison.Ordinal) || url == origin || url.StartsWith("data:", StringComparison.Ordinal))
            {
                await route.ContinueAsync();
            }
            else
            {
                _foreign.Add($"{route.Request.Frame.Url} requested {url}");
                await route.AbortAsync();
            }
        });
        var page = await context.NewPageAsync();
        page.Response += (_, response) =>
        {
            // The main document of an error page is meant to be 4xx; everything it loads must succeed.
            if (response.Status >= 400 && !response.Request.IsNavigationRequest)
            {
                _failed.Add($"{response.Status} {response.Url} (from {page.Url})");
            }
        };
        page.RequestFailed += (_, request) => _failed.Add($"failed {request.Url} ({request.Failure})");
        return page;
    }

    private async Task<IPage> SignedInAsync(string email, int width)
    {
        var page = await OpenAsync(width);
        await page.GotoAsync("/Account/Login");
        await page.GetByLabel(L("Email")).FillAsync(email);
        await page.GetByLabel(L("Password")).FillAsync(DemoData.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = L("Sign in"), Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = L("Overview"), Exact = true })).ToBeVisibleAsync();
        return page;
    }

    private async Task SwitchToNordicCoffeeAbAsync(IPage page)
    {
        await page.GetByLabel(L("Company"), new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Value = DemoData.NordicCoffeeAbId.ToString() });
        await page.GetByRole(AriaRole.Button, new() { Name = L("Switch"), Exact = true }).ClickAsync();
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
    }

    /// <summary>Opens the page and waits until it has finished loading (no request for half a second).</summary>
    private async Task VisitAsync(IPage page, string path, string what)
    {
        var response = await page.GotoAsync(path, new PageGotoOptions { WaitUntil = WaitUntilState.NetworkIdle, Timeout = 20_000 });
        Assert.NotNull(response);
        await CheckCurrentAsync(page, what, await response.TextAsync());
    }

    /// <summary>Presses a submit button and checks the page the server answers with (after any redirect).</summary>
    private async Task SubmitAndCheckAsync(IPage page, string button, string what)
    {
        // The document that ends the navigation: not the redirect that may come first.
        var response = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = button, Exact = true }).ClickAsync(),
            r => r.Request.IsNavigationRequest && r.Request.Frame == page.MainFrame && r.Status is < 300 or >= 400);
        await CheckCurrentAsync(page, what, await response.TextAsync());
    }

    private async Task CheckCurrentAsync(IPage page, string what, string servedHtml)
    {
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        var width = page.ViewportSize?.Width;
        await AssertAccessibleAsync(page, $"{what} at {width} px ({_locale})");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", _locale[..2]);
        _html.TryAdd(what, servedHtml);
    }
}
