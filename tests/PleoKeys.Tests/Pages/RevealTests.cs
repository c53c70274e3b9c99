using System.Net;
using AngleSharp.Html.Dom;
using PleoKeys.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Pages;

/// <summary>The new key is shown once, right after creation, and never again.</summary>
public sealed class RevealTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    [Fact]
    public async Task Create_RedirectsToARevealThatShowsTheKeyWithCopyAndAWarning()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Reveal");

        var created = await client.PostCreateFormAsync(name);

        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        var row = await factory.KeyRowByNameAsync(name);
        Assert.Equal($"/Settings/ApiKeys/Reveal/{row.Id}", created.Headers.Location!.OriginalString);
        var reveal = await client.GetAsync(created.Headers.Location);
        Assert.Equal(HttpStatusCode.OK, reveal.StatusCode);
        var page = await Html.ParseAsync(reveal);
        var key = ((IHtmlInputElement)page.QuerySelector("#new-key")!).Value;
        Assert.Equal(TestKeys.Length, key.Length);
        Assert.Equal("API key", page.QuerySelector("label[for=new-key]").Text());
        Assert.Equal("Copy", page.QuerySelector("button[data-copy-from=new-key]").Text());
        Assert.Contains("It will not be shown again.", page.QuerySelector("main [role=note]").Text(), StringComparison.Ordinal);
        Assert.Contains(name, page.QuerySelector("main").Text(), StringComparison.Ordinal);
        Assert.Equal(TestKeys.KeyIdOf(key), (await factory.KeyRowByNameAsync(name)).KeyId);
    }

    [Fact]
    public async Task Reveal_IsNeverCached()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);

        var (_, _, response) = await client.CreateAndRevealAsync(PageHelpers.UniqueName("No store"));

        Assert.True(response.Headers.CacheControl?.NoStore, "Cache-Control: no-store missing on the reveal");
    }

    [Fact]
    public async Task Reveal_ReloadedOrVisitedAgain_SaysTheKeyWasShownOnceWithoutTheKey()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Once");
        var (key, _, first) = await client.CreateAndRevealAsync(name);

        var reload = await client.GetAsync(first.RequestMessage!.RequestUri);

        Assert.Equal(HttpStatusCode.Gone, reload.StatusCode);
        Assert.True(reload.Headers.CacheControl?.NoStore, "Cache-Control: no-store missing on the shown-once page");
        var page = await Html.ParseAsync(reload);
        Assert.Equal("This key was shown once", page.QuerySelector("main h1").Text());
        Assert.Contains($"If you did not copy “{name}”, delete it and create a new key.", page.QuerySelector("main").Text(), StringComparison.Ordinal);
        Assert.Equal("/Settings/ApiKeys/Create", page.QuerySelector("main a.button-primary")!.GetAttribute("href"));
        Assert.DoesNotContain(TestKeys.SecretOf(key), await reload.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The back button or a later visit: still nothing.
        Assert.Equal(HttpStatusCode.Gone, (await client.GetAsync(first.RequestMessage!.RequestUri)).StatusCode);
        Assert.Equal(HttpStatusCode.Gone, (await client.GetAsync("/Settings/ApiKeys/Reveal")).StatusCode);
    }

    [Fact]
    public async Task Reveal_WithoutACreation_ShowsNoKey()
    {
        var client = await factory.SignedInClientAsync(DemoData.Bookkeeper);

        var response = await client.GetAsync("/Settings/ApiKeys/Reveal");

        Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
        Assert.Equal("This key was shown once", (await Html.ParseAsync(response)).QuerySelector("main h1").Text());
    }

    [Fact]
    public async Task Reveal_InAnotherSignedInSessionOrByAnotherUser_ShowsNoKey_AndLeavesItForTheCreator()
    {
        var creator = await factory.SignedInClientAsync(DemoData.Admin);
        var bookkeeper = await factory.SignedInClientAsync(DemoData.Bookkeeper);

        var created = await creator.PostCreateFormAsync(PageHelpers.UniqueName("Other session"));
        var byBookkeeper = await bookkeeper.GetAsync(created.Headers.Location);

        Assert.Equal(HttpStatusCode.Gone, byBookkeeper.StatusCode);
        Assert.Null((await Html.ParseAsync(byBookkeeper)).QuerySelector("#new-key"));
        Assert.Equal(HttpStatusCode.OK, (await creator.GetAsync(created.Headers.Location)).StatusCode);
    }

    [Fact]
    public async Task Reveal_AfterItsLifetime_ShowsNoKey()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var created = await client.PostCreateFormAsync(PageHelpers.UniqueName("Too late"));

        factory.Time.Advance(PleoKeys.Web.ApiKeys.KeyReveals.Lifetime + TimeSpan.FromSeconds(1));
        var late = await client.GetAsync(created.Headers.Location);

        Assert.Equal(HttpStatusCode.Gone, late.StatusCode);
        Assert.Null((await Html.ParseAsync(late)).QuerySelector("#new-key"));
    }

    [Fact]
    public async Task Reveal_StoresTheKeyOnlyEncrypted_AndDeletesItWhenShown()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Encrypted");
        var created = await client.PostCreateFormAsync(name);
        var row = await factory.KeyRowByNameAsync(name);

        var waiting = await factory.WithDbAsync(db => db.KeyReveals.AsNoTracking().SingleAsync(r => r.ApiKeyId == row.Id));
        var key = await ReadRevealAsync(client, created);

        Assert.DoesNotContain(TestKeys.SecretOf(key), waiting.ProtectedKey, StringComparison.Ordinal);
        Assert.False(await factory.WithDbAsync(db => db.KeyReveals.AnyAsync(r => r.ApiKeyId == row.Id)), "the reveal outlived the page that showed it");
    }

    private static async Task<string> ReadRevealAsync(HttpClient client, HttpResponseMessage created)
    {
        var page = await client.GetDocumentAsync(created.Headers.Location!.OriginalString);
        return ((IHtmlInputElement?)page.QuerySelector("#new-key"))?.Value ?? throw new InvalidOperationException("no key shown");
    }

    [Fact]
    public async Task ListAndDetails_NeverContainTheKey()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Hidden");
        var key = await client.CreateKeyAsync(name);
        var stored = await factory.KeyRowAsync(key);

        var pages = new[]
        {
            await client.GetStringAsync("/Settings/ApiKeys"),
            await client.GetStringAsync("/Settings/ApiKeys?q=" + Uri.EscapeDataString(name)),
            await client.GetStringAsync($"/Settings/ApiKeys/Details/{stored.Id}"),
            await client.GetStringAsync($"/Settings/ApiKeys/Delete/{stored.Id}"),
        };

        Assert.All(pages, html =>
        {
            Assert.DoesNotContain(key, html, StringComparison.Ordinal);
            Assert.DoesNotContain(TestKeys.SecretOf(key), html, StringComparison.Ordinal);
            Assert.DoesNotContain(key[..TestKeys.ChecksumStart], html, StringComparison.Ordinal);
        });
        // What the list does show is the fingerprint: prefix, key id, last four.
        var row = Assert.Single((await client.GetDocumentAsync("/Settings/ApiKeys?q=" + Uri.EscapeDataString(name))).KeyTableRows());
        Assert.Equal("pleo_test_" + TestKeys.KeyIdOf(key) + "_…" + key[^4..], row["Key"]);
    }

    [Fact]
    public async Task Create_KeyIsInNoUrlAndNoCookieInTheClear()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);

        var created = await client.PostCreateFormAsync(PageHelpers.UniqueName("No URL"));
        var reveal = await client.GetAsync(created.Headers.Location);
        var key = ((IHtmlInputElement)(await Html.ParseAsync(reveal)).QuerySelector("#new-key")!).Value;

        var headers = string.Join("\n", created.Headers.Concat(reveal.Headers).SelectMany(h => h.Value));
        Assert.DoesNotContain(TestKeys.SecretOf(key), headers, StringComparison.Ordinal);
        Assert.DoesNotContain(TestKeys.SecretOf(key), reveal.RequestMessage!.RequestUri!.ToString(), StringComparison.Ordinal);
        var links = (await Html.ParseAsync(reveal)).QuerySelectorAll("[href], [src], [action]")
            .Select(e => e.GetAttribute("href") ?? e.GetAttribute("src") ?? e.GetAttribute("action"));
        Assert.All(links, l => Assert.DoesNotContain(TestKeys.SecretOf(key), l!, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Name_LikeMarkup_IsRenderedAsTextOnRevealListDetailsAndDeletion()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var name = "<script>alert('x')</script><img src=x onerror=alert(1)> " + Guid.NewGuid().ToString("N")[..8];

        var (_, reveal, revealResponse) = await client.CreateAndRevealAsync(name);
        var stored = await factory.KeyRowByNameAsync(name);
        var pages = new List<(string What, string Html)>
        {
            ("reveal", await revealResponse.Content.ReadAsStringAsync()),
            ("list", await client.GetStringAsync("/Settings/ApiKeys?q=" + Uri.EscapeDataString(name))),
            ("details", await client.GetStringAsync($"/Settings/ApiKeys/Details/{stored.Id}")),
            ("delete", await client.GetStringAsync($"/Settings/ApiKeys/Delete/{stored.Id}")),
        };
        var deleted = await client.SubmitAsync((await client.GetDocumentAsync($"/Settings/ApiKeys/Delete/{stored.Id}")).Form());
        pages.Add(("deleted message", await client.GetStringAsync(deleted.Headers.Location!.OriginalString)));

        Assert.Contains(name, reveal.QuerySelector("main").Text(), StringComparison.Ordinal);
        foreach (var (what, html) in pages)
        {
            Assert.False(html.Contains("<script>alert", StringComparison.Ordinal), $"{what}: the name's markup is in the page");
            var page = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(html);
            Assert.True(page.QuerySelectorAll("main script, main img").Length == 0, $"{what}: the name became elements");
            Assert.True(page.QuerySelector("main").Text().Contains(name, StringComparison.Ordinal), $"{what}: the name is not shown as text");
        }
    }
}
