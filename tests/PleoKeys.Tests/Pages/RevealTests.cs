using System.Net;
using AngleSharp.Html.Dom;
using PleoKeys.Tests.Infrastructure;
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
        Assert.Equal("/Settings/ApiKeys/Reveal", created.Headers.Location!.OriginalString);
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
    public async Task Reveal_ReloadedOrVisitedAgain_RedirectsToTheListWithoutTheKey()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var (key, _, _) = await client.CreateAndRevealAsync(PageHelpers.UniqueName("Once"));

        var reload = await client.GetAsync("/Settings/ApiKeys/Reveal");

        Assert.Equal(HttpStatusCode.Redirect, reload.StatusCode);
        Assert.Equal("/Settings/ApiKeys", reload.Headers.Location!.OriginalString);
        Assert.DoesNotContain(key, await reload.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var list = await client.GetAsync(reload.Headers.Location);
        var listHtml = await list.Content.ReadAsStringAsync();
        Assert.Contains("A key is shown only once", listHtml, StringComparison.Ordinal);
        Assert.DoesNotContain(TestKeys.SecretOf(key), listHtml, StringComparison.Ordinal);

        // The back button or a later visit: still nothing.
        var later = await client.GetAsync("/Settings/ApiKeys/Reveal");
        Assert.Equal(HttpStatusCode.Redirect, later.StatusCode);
    }

    [Fact]
    public async Task Reveal_WithoutACreation_ShowsNoKey()
    {
        var client = await factory.SignedInClientAsync(DemoData.Bookkeeper);

        var response = await client.GetAsync("/Settings/ApiKeys/Reveal");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }

    [Fact]
    public async Task Reveal_InAnotherSignedInSession_ShowsNoKey()
    {
        var creator = await factory.SignedInClientAsync(DemoData.Admin);
        var other = await factory.SignedInClientAsync(DemoData.Admin);

        var created = await creator.PostCreateFormAsync(PageHelpers.UniqueName("Other session"));
        var elsewhere = await other.GetAsync(created.Headers.Location);

        Assert.Equal(HttpStatusCode.Redirect, elsewhere.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await creator.GetAsync(created.Headers.Location)).StatusCode);
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
