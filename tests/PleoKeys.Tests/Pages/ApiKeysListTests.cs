using System.Net;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Pages;

/// <summary>
/// The API Keys list of Nordic Coffee ApS. No test in this class makes a key that covers Nordic Coffee AB,
/// so that company stays empty. The clock moves forward only by minutes here.
/// </summary>
public sealed class ApiKeysListTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    private Task<HttpClient> AdminAsync() => factory.SignedInClientAsync(DemoData.Admin);

    private static string Search(string term) => "/Settings/ApiKeys?q=" + Uri.EscapeDataString(term);

    [Fact]
    public async Task List_HasTheIssuesColumns()
    {
        var list = await (await AdminAsync()).GetDocumentAsync("/Settings/ApiKeys");

        Assert.Equal(["Name", "Key", "Access level", "Permissions", "Created", "Expires", "Last used"],
            list.QuerySelectorAll("table.keys thead th").Select(th => th.Text()));
        Assert.Equal("Create API Key", list.QuerySelector("main a[href='/Settings/ApiKeys/Create']").Text());
    }

    [Fact]
    public async Task List_RowShowsTheKeysFacts()
    {
        var client = await AdminAsync();
        var name = PageHelpers.UniqueName("Facts");
        var key = await client.CreateKeyAsync(name, expiration: "30", scopes: ["vendors:read", "accounts:read"]);
        var created = TimeZoneInfo.ConvertTime(factory.Time.GetUtcNow(), TimeZoneInfo.FindSystemTimeZoneById("Europe/Copenhagen"));

        var row = Assert.Single((await client.GetDocumentAsync(Search(name))).KeyTableRows());

        Assert.Equal(name, row["Name"]);
        Assert.Equal("pleo_test_" + TestKeys.KeyIdOf(key) + "_…" + key[^4..], row["Key"]);
        Assert.Equal("This entity", row["Access level"]);
        Assert.Equal("accounts:read vendors:read", row["Permissions"]);
        Assert.Equal($"{created:yyyy-MM-dd} by Astrid Admin", row["Created"]);
        Assert.Equal($"{created.AddDays(30):yyyy-MM-dd} Active", row["Expires"]);
        Assert.Equal("Never used", row["Last used"]);
    }

    [Fact]
    public async Task List_AfterTheKeyIsUsed_ShowsWhen()
    {
        var client = await AdminAsync();
        var name = PageHelpers.UniqueName("Used");
        var key = await client.CreateKeyAsync(name);

        await factory.NewClient().ApiGetAsync("/v1/installations/me", key);
        var used = TimeZoneInfo.ConvertTime(factory.Time.GetUtcNow(), TimeZoneInfo.FindSystemTimeZoneById("Europe/Copenhagen"));
        // Noted in memory by the call, written by the recorder's next flush (issue 13.5).
        await factory.FlushLastUsedAsync(key, used.UtcDateTime);

        var row = Assert.Single((await client.GetDocumentAsync(Search(name))).KeyTableRows());
        Assert.StartsWith($"{used:yyyy-MM-dd HH:mm}", row["Last used"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_RowOpensTheKeysDetails()
    {
        var client = await AdminAsync();
        var name = PageHelpers.UniqueName("Row link");
        await client.CreateKeyAsync(name);

        var list = await client.GetDocumentAsync(Search(name));
        var details = await client.GetDocumentAsync(list.QuerySelector("table.keys tbody tr a")!.GetAttribute("href")!);

        Assert.Equal(name, details.QuerySelector("main h1").Text());
        Assert.Equal("Delete", details.QuerySelector("main .page-head button[data-open-dialog]").Text());
    }

    [Fact]
    public async Task List_NewKeys_AreNewestFirst()
    {
        var client = await AdminAsync();
        var tag = PageHelpers.UniqueName("Order");
        foreach (var n in new[] { "first", "second", "third" })
        {
            factory.Time.Advance(TimeSpan.FromMinutes(1));
            await client.CreateKeyAsync($"{tag} {n}");
        }

        var names = (await client.GetDocumentAsync(Search(tag))).KeyNames();

        Assert.Equal([$"{tag} third", $"{tag} second", $"{tag} first"], names);
    }

    [Fact]
    public async Task List_MoreThan25Keys_IsPaged()
    {
        var client = await AdminAsync();
        var tag = PageHelpers.UniqueName("Paged");
        for (var i = 1; i <= 27; i++)
        {
            factory.Time.Advance(TimeSpan.FromSeconds(1));
            var created = await client.PostCreateFormAsync($"{tag} {i:D2}");
            Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        }

        var first = await client.GetDocumentAsync(Search(tag));
        Assert.Equal(Enumerable.Range(3, 25).Reverse().Select(i => $"{tag} {i:D2}"), first.KeyNames());
        Assert.Contains("27 keys · page 1 of 2", first.QuerySelector("nav.pager").Text(), StringComparison.Ordinal);
        Assert.Null(first.QuerySelector("nav.pager a[rel=prev]"));
        var next = first.QuerySelector("nav.pager a[rel=next]")!.GetAttribute("href")!;

        var second = await client.GetDocumentAsync(new Uri(new Uri(first.Url), next).PathAndQuery);
        Assert.Equal([$"{tag} 02", $"{tag} 01"], second.KeyNames());
        Assert.Contains("page 2 of 2", second.QuerySelector("nav.pager").Text(), StringComparison.Ordinal);
        Assert.NotNull(second.QuerySelector("nav.pager a[rel=prev]"));
        Assert.Null(second.QuerySelector("nav.pager a[rel=next]"));
        var beyond = await client.GetDocumentAsync(Search(tag) + "&p=99");
        Assert.Equal(second.KeyNames(), beyond.KeyNames());
    }

    [Theory]
    [InlineData("zebra payroll")]
    [InlineData("ZEBRA PAYROLL")]
    [InlineData("  zEbRa PaYrOlL  ")]
    [InlineData("ærøskøbing")]
    [InlineData("ÆRØSKØBING")]
    public async Task List_SearchByName_IgnoresCase(string term)
    {
        var client = await AdminAsync();
        var tag = Guid.NewGuid().ToString("N")[..8];
        var name = $"Zebra Payroll Ærøskøbing {tag}";
        await client.CreateKeyAsync(name);
        await client.CreateKeyAsync($"Unrelated {tag}");

        var names = (await client.GetDocumentAsync(Search(term))).KeyNames();

        Assert.Contains(name, names);
        Assert.DoesNotContain($"Unrelated {tag}", names);
    }

    [Fact]
    public async Task List_SearchWithoutMatches_SaysSoAndOffersAllKeys()
    {
        var client = await AdminAsync();
        var term = "<nothing> " + Guid.NewGuid().ToString("N");

        var list = await client.GetDocumentAsync(Search(term));

        Assert.Empty(list.KeyNames());
        Assert.Contains($"No key's name contains “{term}”.", list.QuerySelector("main").Text(), StringComparison.Ordinal);
        Assert.NotNull(list.QuerySelector("main a[href='/Settings/ApiKeys']"));
        Assert.Null(list.QuerySelector("main nothing"));
    }

    [Theory]
    [InlineData("2026-12-02", "Expires soon")] // six days after today (2026-11-26)
    [InlineData("2026-12-04", "Active")]       // eight days after
    public async Task List_KeyExpiringWithinSevenDays_IsMarkedExpiresSoon(string date, string status)
    {
        var client = await AdminAsync();
        var name = PageHelpers.UniqueName("Soon");
        Assert.Equal(HttpStatusCode.Redirect, (await client.PostCreateFormAsync(name, expiration: "custom", customDate: date)).StatusCode);

        var row = Assert.Single((await client.GetDocumentAsync(Search(name))).KeyTableRows());

        Assert.Equal($"{date} {status}", row["Expires"]);
    }

    [Fact]
    public async Task List_CompanyWithoutKeys_ShowsAnEmptyStateInvitingToCreateOne()
    {
        var client = await AdminAsync();
        Assert.Equal(HttpStatusCode.Redirect, (await client.SwitchCompanyAsync(DemoData.NordicCoffeeAbId)).StatusCode);

        var list = await client.GetDocumentAsync("/Settings/ApiKeys");

        Assert.Contains("Nordic Coffee AB", list.QuerySelector("main .page-head").Text(), StringComparison.Ordinal);
        Assert.Null(list.QuerySelector("table.keys"));
        var empty = list.QuerySelector("main .empty-state");
        Assert.Equal("No API keys yet", empty?.QuerySelector("h2").Text());
        Assert.Equal("Create your first API key", empty?.QuerySelector("a[href='/Settings/ApiKeys/Create']").Text());
    }
}
