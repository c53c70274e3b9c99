using Microsoft.EntityFrameworkCore;
using System.Net;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>The usage app behind a reverse proxy at 192.0.2.10, whose X-Forwarded-For is believed (ForwardedHeaders:KnownProxies).</summary>
public sealed class BehindProxyFactory : UsageFactory
{
    public const string Proxy = "192.0.2.10";

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["ForwardedHeaders:KnownProxies:0"] = Proxy,
    };
}

/// <summary>Issue 15, "IP allowlist per key": inside and outside ranges, IPv6, IPv4-mapped addresses, behind the known proxy, at once.</summary>
public sealed class AllowlistTests(BehindProxyFactory factory) : IClassFixture<BehindProxyFactory>
{
    private async Task<string> KeyAllowedFromAsync(string allowlist)
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var page = await admin.GetDocumentAsync("/Settings/ApiKeys/Create");
        var response = await admin.SubmitAsync(page.Form(), ("Input.Name", PageHelpers.UniqueName("Allowlisted")), ("Input.Expiration", "30"),
            ("Input.AccessLevel", "Company"), ("Input.Scopes", Scopes.VendorsRead), ("Input.AllowedNetworks", allowlist));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var reveal = await admin.GetDocumentAsync(response.Headers.Location!.ToString());
        return ((AngleSharp.Html.Dom.IHtmlInputElement)reveal.QuerySelector("#new-key")!).Value;
    }

    [Theory]
    [InlineData("10.0.0.0/8", "10.20.30.40", true)]
    [InlineData("10.0.0.0/8", "11.0.0.1", false)]
    [InlineData("10.0.0.0/8\n203.0.113.7", "203.0.113.7", true)]
    [InlineData("10.0.0.0/8", "::ffff:10.1.2.3", true)]
    [InlineData("2001:db8::/32", "2001:db8:5::1", true)]
    [InlineData("2001:db8::/32", "2001:db9::1", false)]
    [InlineData("2001:db8::/32", "10.1.2.3", false)]
    public async Task Call_IsLetInOnlyFromInsideTheList(string allowlist, string from, bool allowed)
    {
        var key = await KeyAllowedFromAsync(allowlist);

        var response = await factory.NewClient().CallFromAsync(from, "/v1/vendors", key);

        if (allowed)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return;
        }

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = await response.ReadProblemAsync();
        Assert.Equal("Address not allowed", problem.Title);
        Assert.Contains($"this request came from {from}.", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryEndpoint_AppliesTheList_TheInstallationToo()
    {
        var key = await KeyAllowedFromAsync("10.0.0.0/8");

        await factory.NewClient().CallFromAsync("192.0.2.99", "/v1/installations/me", key).ExpectAsync(HttpStatusCode.Forbidden);
        await factory.NewClient().CallFromAsync("10.0.0.1", "/v1/installations/me", key).ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task BehindTheKnownProxy_TheForwardedClientAddressIsJudged()
    {
        var key = await KeyAllowedFromAsync("10.0.0.0/8");
        var api = factory.NewClient();

        var forwarded = new HttpRequestMessage(HttpMethod.Get, "/v1/vendors");
        forwarded.Headers.Add(ClientAddressStartupFilter.Header, BehindProxyFactory.Proxy);
        forwarded.Headers.Add("X-Forwarded-For", "10.9.9.9");
        forwarded.Headers.Authorization = Clients.Basic(key);
        await api.SendAsync(forwarded).ExpectAsync(HttpStatusCode.OK);

        // The proxy's own address is not in the list; and an unknown proxy's X-Forwarded-For is not believed.
        var proxyItself = await api.CallFromAsync(BehindProxyFactory.Proxy, "/v1/vendors", key);
        Assert.Contains($"came from {BehindProxyFactory.Proxy}.", (await proxyItself.ReadProblemAsync()).Detail, StringComparison.Ordinal);
        var spoofed = new HttpRequestMessage(HttpMethod.Get, "/v1/vendors");
        spoofed.Headers.Add(ClientAddressStartupFilter.Header, "198.51.100.1");
        spoofed.Headers.Add("X-Forwarded-For", "10.9.9.9");
        spoofed.Headers.Authorization = Clients.Basic(key);
        await api.SendAsync(spoofed).ExpectAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task SavingAnAllowlist_OnDetails_TakesEffectAtOnce_OnAKeyInUse()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName("Restricted later"));
        var row = await factory.KeyRowAsync(key);
        var api = factory.NewClient();
        await api.CallFromAsync("127.0.0.1", "/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);

        var details = await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}");
        var saved = await admin.SubmitAsync(details.Form("form[action*='handler=Allowlist']"), ("AllowedNetworks", "10.0.0.0/8"));
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);

        var refused = await api.CallFromAsync("127.0.0.1", "/v1/vendors", key);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("came from 127.0.0.1.", (await refused.ReadProblemAsync()).Detail, StringComparison.Ordinal);
        var page = await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}");
        Assert.Contains("10.0.0.0/8", page.QuerySelector("dl.facts").Text(), StringComparison.Ordinal);
        Assert.Contains(page.QuerySelectorAll(".history li"), li => li.Text().Contains("IP allowlist set to 10.0.0.0/8", StringComparison.Ordinal));
        var list = await admin.GetDocumentAsync("/Settings/ApiKeys?q=" + Uri.EscapeDataString(row.Name));
        Assert.Contains("only from 10.0.0.0/8", Assert.Single(list.KeyTableRows())["Key"], StringComparison.Ordinal);

        // Emptying it lets every address in again, at once.
        details = await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}");
        await admin.SubmitAsync(details.Form("form[action*='handler=Allowlist']"), ("AllowedNetworks", ""));
        await api.CallFromAsync("127.0.0.1", "/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task CallsRefusedByTheAllowlist_AreCountedAsRefused_AndLeaveNoAddressOrLastUsed()
    {
        // The attack's case: an Admin must not read "used from 127.0.0.1" off a key that was only ever refused there.
        var key = await KeyAllowedFromAsync("10.0.0.0/8");
        var row = await factory.KeyRowAsync(key);
        var api = factory.NewClient();
        for (var i = 0; i < 3; i++)
        {
            await api.CallFromAsync("127.0.0.1", "/v1/vendors", key).ExpectAsync(HttpStatusCode.Forbidden);
        }

        var rows = await factory.FlushUntilAsync(row.Id, 3);
        await Task.Delay(500);

        Assert.Equal(3, rows.Count(UsageOutcome.Denied, "GET /v1/vendors"));
        Assert.Empty(await factory.WithDbAsync(db => db.KeyUsageAddresses.Where(a => a.ApiKeyId == row.Id).ToListAsync()));
        Assert.Null((await factory.KeyRowAsync(key)).LastUsedAtUtc);
    }

    [Fact]
    public async Task Create_WithBadEntries_NamesEachOne_AndCreatesNothing()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Bad allowlist");
        var page = await admin.GetDocumentAsync("/Settings/ApiKeys/Create");

        var response = await admin.SubmitAsync(page.Form(), ("Input.Name", name), ("Input.Expiration", "30"), ("Input.AccessLevel", "Company"),
            ("Input.Scopes", Scopes.VendorsRead), ("Input.AllowedNetworks", "10.0.0.1/8\nnot-an-address\n2001:db8::/32"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var form = await Html.ParseAsync(response);
        var error = form.QuerySelector("#allowlist-error").Text();
        Assert.Contains("“10.0.0.1/8” has bits set after its /8 prefix; did you mean 10.0.0.0/8?", error, StringComparison.Ordinal);
        Assert.Contains("“not-an-address” is not an IPv4 or IPv6 address", error, StringComparison.Ordinal);
        Assert.DoesNotContain("2001:db8::/32", error, StringComparison.Ordinal);
        Assert.Equal("true", form.QuerySelector("#Input_AllowedNetworks")!.GetAttribute("aria-invalid"));
        Assert.Equal(0, await factory.CountKeysNamedAsync(name));
    }

    [Fact]
    public async Task Create_WithMoreThan50Entries_IsRefused()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var page = await admin.GetDocumentAsync("/Settings/ApiKeys/Create");
        var many = string.Join("\n", Enumerable.Range(1, 51).Select(i => $"10.0.{i}.0/24"));

        var response = await admin.SubmitAsync(page.Form(), ("Input.Name", PageHelpers.UniqueName("Too many")), ("Input.Expiration", "30"),
            ("Input.AccessLevel", "Company"), ("Input.Scopes", Scopes.VendorsRead), ("Input.AllowedNetworks", many));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("At most 50 addresses or ranges; this list has 51.", (await Html.ParseAsync(response)).QuerySelector("#allowlist-error").Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Roll_CarriesTheAllowlistToTheNewKey()
    {
        var key = await KeyAllowedFromAsync("10.0.0.0/8");
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var row = await factory.KeyRowAsync(key);
        var form = await admin.GetDocumentAsync($"/Settings/ApiKeys/Roll/{row.Id}");
        Assert.Equal("10.0.0.0/8", ((AngleSharp.Html.Dom.IHtmlTextAreaElement)form.QuerySelector("#Input_AllowedNetworks")!).Value.Trim());

        var response = await admin.SubmitAsync(form.Form("main form"), ("Input.Grace", "now"));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var reveal = await admin.GetDocumentAsync(response.Headers.Location!.ToString());
        var replacement = ((AngleSharp.Html.Dom.IHtmlInputElement)reveal.QuerySelector("#new-key")!).Value;

        await factory.NewClient().CallFromAsync("192.0.2.50", "/v1/vendors", replacement).ExpectAsync(HttpStatusCode.Forbidden);
        await factory.NewClient().CallFromAsync("10.0.0.50", "/v1/vendors", replacement).ExpectAsync(HttpStatusCode.OK);
    }
}
