using System.Globalization;
using System.Net;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Api;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Pages;

/// <summary>
/// Issue 15, "The key's Details page" and "Unused scopes": what a key's recorded calls look like on its page (chart,
/// table, top endpoints, addresses, CSV), the list's sparkline, and the narrower roll it suggests after 7 days of use.
/// </summary>
public sealed class KeyUsagePageTests(UsageFactory factory) : IClassFixture<UsageFactory>
{
    private static readonly TimeZoneInfo Copenhagen = TimeZoneInfo.FindSystemTimeZoneById("Europe/Copenhagen");

    private string Today => DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(factory.Time.GetUtcNow().UtcDateTime, Copenhagen)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Details_ShowsTheCallsInTheChartTheTableTopEndpointsAndAddresses()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName("Charted"), scopes: [Scopes.VendorsRead, Scopes.AccountsRead]);
        var row = await factory.KeyRowAsync(key);
        var api = factory.NewClient();
        for (var i = 0; i < 4; i++)
        {
            await api.CallFromAsync("127.0.0.1", "/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);
        }

        await api.CallFromAsync("127.0.0.1", "/v1/accounts", key).ExpectAsync(HttpStatusCode.OK);
        await api.CallFromAsync("198.51.100.40", "/v1/employees", key).ExpectAsync(HttpStatusCode.Forbidden);
        await factory.FlushUntilAsync(row.Id, 6);

        var page = await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}");

        // The chart: drawn on the server, an image with a text alternative, one bar segment per outcome of the day.
        var svg = page.QuerySelector("figure.usage-chart svg[role=img]");
        Assert.NotNull(svg);
        Assert.Contains("stacked by outcome", svg.QuerySelector("title").Text(), StringComparison.Ordinal);
        var segments = svg.QuerySelectorAll($"rect[data-date='{Today}']").ToDictionary(r => r.GetAttribute("data-outcome")!, r => r.GetAttribute("data-requests"));
        Assert.Equal(new Dictionary<string, string?> { ["Success"] = "5", ["Denied"] = "1" }, segments);
        Assert.Empty(page.QuerySelectorAll("main script"));

        // The table alternative: a row per day, newest first, a column per outcome.
        var table = page.QuerySelector("table.usage-table")!;
        Assert.Equal(30, table.QuerySelectorAll("tbody tr").Length);
        var today = table.QuerySelector("tbody tr")!;
        Assert.Equal(Today, today.QuerySelector("th").Text());
        Assert.Equal(["5", "1", "0", "0", "0", "6"], today.QuerySelectorAll("td").Select(td => td.Text()));

        var endpoints = page.QuerySelectorAll("table.top-endpoints tbody tr").Select(tr => tr.SpacedText()).ToList();
        Assert.Equal(["GET /v1/vendors 4 0", "GET /v1/accounts 1 0", "GET /v1/employees 1 1"], endpoints);

        var addresses = page.QuerySelectorAll("table.source-addresses tbody tr").Select(tr => tr.QuerySelectorAll("th, td").Select(c => c.Text()).ToList()).ToList();
        // The call refused for a missing scope (403) was not a use: it leaves no source address.
        var local = Assert.Single(addresses);
        Assert.Equal("127.0.0.1", local[0]);
        Assert.Equal("5", local[3]);
        Assert.StartsWith(Today, local[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task DownloadCsv_HasADailyRowForEveryRecordedDay()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName("Exported"));
        var row = await factory.KeyRowAsync(key);
        var api = factory.NewClient();
        await api.CallFromAsync("127.0.0.1", "/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);
        await api.CallFromAsync("127.0.0.1", "/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);
        await api.CallFromAsync("127.0.0.1", "/v1/accounts", key).ExpectAsync(HttpStatusCode.Forbidden);
        await factory.FlushUntilAsync(row.Id, 3);

        var details = await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}");
        var link = details.QuerySelectorAll("a").Single(a => a.Text() == "Download CSV").GetAttribute("href")!;
        var response = await admin.GetAsync(link);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(".csv", response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName, StringComparison.Ordinal);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("date,succeeded_2xx,refused_401_403,rate_limited_429,other_4xx,server_errors_5xx,total", lines[0]);
        Assert.Equal(91, lines.Length);
        Assert.Equal($"{Today},2,1,0,0,0,3", lines[^1]);
    }

    [Fact]
    public async Task DownloadCsv_OfAnotherCompanysKey_IsNotFound()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName("Not theirs"));
        var row = await factory.KeyRowAsync(key);
        // The same Admin in another company of the organisation: this company key is not among its keys.
        var other = await factory.SignedInClientAsync(DemoData.Admin);
        await other.SwitchCompanyAsync(DemoData.NordicCoffeeAbId);

        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/Settings/ApiKeys/Details/{row.Id}?handler=Csv")).StatusCode);
    }

    [Fact]
    public async Task List_ShowsEachKeysRequestsInTheLast30Days_BesideItsSparkline()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Sparkline");
        var key = await admin.CreateKeyAsync(name);
        var row = await factory.KeyRowAsync(key);
        for (var i = 0; i < 3; i++)
        {
            await factory.NewClient().CallFromAsync("127.0.0.1", "/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);
        }

        await factory.FlushUntilAsync(row.Id, 3);

        var list = await admin.GetDocumentAsync("/Settings/ApiKeys?q=" + Uri.EscapeDataString(name));
        Assert.Single(list.KeyTableRows());
        var sparkline = list.QuerySelector("table.keys tbody tr td[data-label='Last used'] svg.sparkline[role=img]")!;
        Assert.Equal("3 requests in the last 30 days", sparkline.GetAttribute("aria-label"));
        Assert.Equal(30, sparkline.QuerySelector("polyline")!.GetAttribute("points")!.Split(' ').Length);
    }

    [Fact]
    public async Task UnusedScopes_AreListedOnlyAfter7DaysOfUse_AndTheRollFormCarriesTheNarrowerSet()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName("Narrowed"), expiration: "90", scopes: [Scopes.AccountsRead, Scopes.AccountsWrite, Scopes.VendorsRead]);
        var row = await factory.KeyRowAsync(key);
        await factory.NewClient().CallFromAsync("127.0.0.1", "/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);
        await factory.FlushUntilAsync(row.Id, 1);

        var early = await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}");
        Assert.Null(early.QuerySelector(".unused-scopes"));

        // Six days later (on the app's clock) it is still too early; after seven, the suggestion appears.
        factory.Time.Advance(TimeSpan.FromDays(6));
        Assert.Null((await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}")).QuerySelector(".unused-scopes"));
        factory.Time.Advance(TimeSpan.FromDays(1));
        var details = await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}");

        var unused = details.QuerySelectorAll(".unused-scopes li").Select(li => li.Text()).ToList();
        Assert.Equal(["accounts:read: never used in 7 days", "accounts:write: never used in 7 days"], unused);
        var roll = details.QuerySelectorAll(".unused-scopes a").Single(a => a.Text() == "Roll with only the scopes it uses");
        var form = await admin.GetDocumentAsync(roll.GetAttribute("href")!);
        var checkedScopes = form.QuerySelectorAll("main form input[name='Input.Scopes']").Where(i => i.HasAttribute("checked")).Select(i => i.GetAttribute("value")).ToList();
        Assert.Equal([Scopes.VendorsRead], checkedScopes);

        // Submitting the form as shown issues a key with only that scope.
        var response = await admin.SubmitAsync(form.Form("main form"), ("Input.Grace", "now"));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var replacementId = (await factory.KeyRowAsync(key)).ReplacedByKeyId!.Value;
        var replacement = await factory.WithDbAsync(db => db.ApiKeys.AsNoTracking().SingleAsync(k => k.Id == replacementId));
        Assert.Equal(Scopes.VendorsRead, replacement.Scopes);
    }

    [Fact]
    public async Task Roll_RefusesAScopeTheKeyDoesNotHold()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName("Not widened"), scopes: [Scopes.VendorsRead]);
        var row = await factory.KeyRowAsync(key);
        var form = await admin.GetDocumentAsync($"/Settings/ApiKeys/Roll/{row.Id}?scopes={Scopes.AccountsWrite}");
        // The page pre-fills only scopes the key holds; a tampered post asks for more.
        var values = new List<KeyValuePair<string, string>> { new("Input.Grace", "now"), new("Input.Scopes", Scopes.AccountsWrite) };

        var response = await admin.SubmitAsync(form.Form("main form"), values);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var page = await Html.ParseAsync(response);
        Assert.Contains("accounts:write is not one of them", page.QuerySelector("#scopes-error").Text(), StringComparison.Ordinal);
        Assert.Null((await factory.KeyRowAsync(key)).RolledAtUtc);
    }
}
