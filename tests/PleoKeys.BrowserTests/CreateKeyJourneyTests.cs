using System.Net;
using PleoKeys.BrowserTests.Infrastructure;
using PleoKeys.Web.Data;
using Xunit.Abstractions;

namespace PleoKeys.BrowserTests;

/// <summary>Journey 1: the seed's own steps, from Settings to a key that answers the API.</summary>
public sealed class CreateKeyJourneyTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task Admin_CreatesKeyFromSettings_CopiedKeyAnswersTheApi_AndReloadHidesIt()
    {
        await SignInAsync(DemoData.Admin);
        await OpenApiKeysAsync();
        await Expect(Page.GetByRole(AriaRole.Row).Filter(new() { HasText = "Accounting sync (ERP)" })).ToBeVisibleAsync();
        await AssertAccessibleAsync("the API Keys list with keys");
        await SaveScreenshotAsync("api-keys-list");
        Assert.True(await Page.GetByRole(AriaRole.Table).EvaluateAsync<bool>("t => t.parentElement.scrollWidth <= t.parentElement.clientWidth"),
            "The list does not fit a 1280 px wide window without scrolling sideways.");

        await Link("Create API Key").ClickAsync();
        await Expect(Heading("Create API Key")).ToBeVisibleAsync();
        await AssertAccessibleAsync("the create form");
        await Page.GetByLabel("Name", new() { Exact = true }).FillAsync("Xero accounting sync");
        await Page.GetByRole(AriaRole.Radio, new() { Name = "60 days" }).CheckAsync();
        await Page.GetByRole(AriaRole.Radio, new() { Name = "This entity" }).CheckAsync();
        await Page.GetByRole(AriaRole.Checkbox, new() { Name = "export-jobs:read" }).CheckAsync();
        await Page.GetByRole(AriaRole.Checkbox, new() { Name = "export-jobs:write" }).CheckAsync();
        await Page.GetByRole(AriaRole.Checkbox, new() { Name = "accounts:read" }).CheckAsync();
        await SaveScreenshotAsync("create-form");
        await Button("Create API Key").ClickAsync();

        await Expect(Heading("Your new API key")).ToBeVisibleAsync();
        var shown = await Page.GetByLabel("API key", new() { Exact = true }).InputValueAsync();
        await AssertAccessibleAsync("the one-time reveal");
        await SaveScreenshotAsync("reveal");

        await Button("Copy").ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Copied to the clipboard" })).ToHaveCountAsync(1);
        var copied = await Page.EvaluateAsync<string>("() => navigator.clipboard.readText()");
        // Compared without printing: a key never goes into test output.
        Assert.True(copied == shown, "The clipboard does not hold the key shown on the page.");
        Assert.True(copied.StartsWith("pleo_test_", StringComparison.Ordinal), "A Staging key starts with pleo_test_.");
        Assert.Equal(HttpStatusCode.OK, await InstallationsMeStatusAsync(copied));

        await Button("Test key").ClickAsync();
        await Expect(Page.GetByText("Connected to Nordic Coffee ApS")).ToBeVisibleAsync();

        await Page.ReloadAsync();
        await Expect(Heading("This key was shown once")).ToBeVisibleAsync();
        Assert.False((await Page.ContentAsync()).Contains(shown, StringComparison.Ordinal), "The key is still on the page after a reload.");
        await Link("Back to API Keys").ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Row).Filter(new() { HasText = "Xero accounting sync" })).ToBeVisibleAsync();
    }
}
