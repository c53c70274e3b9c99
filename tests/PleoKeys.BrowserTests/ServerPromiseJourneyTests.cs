using PleoKeys.BrowserTests.Infrastructure;
using PleoKeys.Web.Data;
using Xunit.Abstractions;

namespace PleoKeys.BrowserTests;

/// <summary>
/// Issue 11's promises as a person meets them in a browser: the back button and a reload after the one-time
/// reveal, and a form left open in one tab while another tab switches company.
/// </summary>
public sealed class ServerPromiseJourneyTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task Reveal_AfterDone_TheBackButtonAndAReloadSayTheKeyWasShownOnce()
    {
        await SignInAsync(DemoData.Admin);
        var shown = await CreateKeyThroughFormAsync("Back button check", "vendors:read");

        await Link("Done").ClickAsync();
        await Expect(Heading("API Keys")).ToBeVisibleAsync();
        await Page.GoBackAsync();

        await Expect(Heading("This key was shown once")).ToBeVisibleAsync();
        Assert.False((await Page.ContentAsync()).Contains(shown, StringComparison.Ordinal), "The back button showed the key again.");
        await AssertAccessibleAsync("the shown-once page");
        await Page.ReloadAsync();
        await Expect(Heading("This key was shown once")).ToBeVisibleAsync();
        Assert.False((await Page.ContentAsync()).Contains(shown, StringComparison.Ordinal), "A reload showed the key again.");
        await Link("Create API Key").ClickAsync();
        await Expect(Heading("Create API Key")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task CreateForm_LeftOpenWhileASecondTabSwitchesCompany_IsRefusedNamingBothCompanies()
    {
        await SignInAsync(DemoData.Admin);
        await Page.GotoAsync("/Settings/ApiKeys/Create");
        await Expect(Main).ToContainTextAsync("Nordic Coffee ApS");
        await Page.GetByLabel("Name", new() { Exact = true }).FillAsync("Two tabs");
        await Page.GetByRole(AriaRole.Checkbox, new() { Name = "vendors:read" }).CheckAsync();

        var second = await Page.Context.NewPageAsync();
        await second.GotoAsync("/Settings/ApiKeys");
        await second.GetByRole(AriaRole.Banner).GetByLabel("Company", new() { Exact = true })
            .SelectOptionAsync(new SelectOptionValue { Label = "Nordic Coffee AB" });
        await second.GetByRole(AriaRole.Button, new() { Name = "Switch", Exact = true }).ClickAsync();
        await Expect(second.GetByRole(AriaRole.Heading, new() { Name = "No API keys yet" })).ToBeVisibleAsync();
        await second.CloseAsync();

        await Button("Create API Key").ClickAsync();

        await Expect(Page.GetByRole(AriaRole.Alert)).ToContainTextAsync(
            "This form was opened for Nordic Coffee ApS, but you have since switched to Nordic Coffee AB. Nothing was created.");
        await AssertAccessibleAsync("the create form refused for another company");
        await Page.GotoAsync("/Settings/ApiKeys");
        await Expect(Heading("No API keys yet")).ToBeVisibleAsync();
    }
}
