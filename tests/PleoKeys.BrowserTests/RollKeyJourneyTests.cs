using System.Net;
using PleoKeys.BrowserTests.Infrastructure;
using PleoKeys.Web.Data;
using Xunit.Abstractions;

namespace PleoKeys.BrowserTests;

/// <summary>Issue 14's journey: Details → Roll key → grace 1 hour → the new key revealed once → both keys answer → the list shows the roll.</summary>
public sealed class RollKeyJourneyTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task Admin_RollsAKeyWithAnHourOfGrace_BothKeysAnswer_AndTheListShowsTheRoll()
    {
        await SignInAsync(DemoData.Admin);
        var old = await CreateKeyThroughFormAsync("e-conomic sync (rolled)", "vendors:read");
        await OpenApiKeysAsync();
        await Page.GetByRole(AriaRole.Link, new() { Name = "e-conomic sync (rolled)", Exact = true }).First.ClickAsync();
        await Expect(Heading("e-conomic sync (rolled)")).ToBeVisibleAsync();
        var oldFingerprint = (await Main.Locator("dl.facts code").First.TextContentAsync())!.Trim();

        await Link("Roll key").ClickAsync();
        await Expect(Heading("Roll key “e-conomic sync (rolled)”")).ToBeVisibleAsync();
        await Expect(Page.GetByRole(AriaRole.Radio, new() { Name = "30 days" })).ToBeCheckedAsync();
        await Page.GetByRole(AriaRole.Radio, new() { Name = "1 hour", Exact = true }).CheckAsync();
        await AssertAccessibleAsync("the roll form");
        await SaveScreenshotAsync("roll-form");
        await Button("Roll key").ClickAsync();

        await Expect(Heading("Your new API key")).ToBeVisibleAsync();
        await Expect(Main).ToContainTextAsync($"This key replaces {oldFingerprint}, whose old secret keeps working until");
        var replacement = await Page.GetByLabel("API key", new() { Exact = true }).InputValueAsync();
        Assert.NotEqual(old, replacement);

        // Shown once: a reload finds nothing to show.
        await Page.ReloadAsync();
        await Expect(Heading("This key was shown once")).ToBeVisibleAsync();

        Assert.Equal(HttpStatusCode.OK, await InstallationsMeStatusAsync(old));
        Assert.Equal(HttpStatusCode.OK, await InstallationsMeStatusAsync(replacement));

        await OpenApiKeysAsync();
        var rows = Page.GetByRole(AriaRole.Row).Filter(new() { HasText = "e-conomic sync (rolled)" });
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows).ToContainTextAsync($"replaces {oldFingerprint}");
        await Expect(rows).ToContainTextAsync("old secret stops at");
        await AssertAccessibleAsync("the list with a rolled key");
        await SaveScreenshotAsync("api-keys-list-rolled");

        await rows.GetByRole(AriaRole.Link, new() { Name = "e-conomic sync (rolled)" }).ClickAsync();
        await Expect(Main.Locator("dl.facts")).ToContainTextAsync($"Replaces {oldFingerprint}: old secret stops at");
    }
}
