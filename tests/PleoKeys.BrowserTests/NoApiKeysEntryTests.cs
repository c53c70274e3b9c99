using PleoKeys.BrowserTests.Infrastructure;
using PleoKeys.Web.Data;
using Xunit.Abstractions;

namespace PleoKeys.BrowserTests;

/// <summary>Journey 3: without the role, the access or a work email, the option is simply absent.</summary>
public sealed class NoApiKeysEntryTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Theory]
    [InlineData(DemoData.Employee)]
    [InlineData(DemoData.FjordAdmin)]
    [InlineData(DemoData.PersonalAdmin)]
    public async Task Settings_ShowsNoApiKeysEntry(string email)
    {
        await SignInAsync(email);
        await MainNav.GetByRole(AriaRole.Link, new() { Name = "Settings", Exact = true }).ClickAsync();

        await Expect(SettingsNav.GetByRole(AriaRole.Link, new() { Name = "General", Exact = true })).ToBeVisibleAsync();
        await Expect(SettingsNav.GetByRole(AriaRole.Link, new() { Name = "API Keys" })).ToHaveCountAsync(0);
        await Expect(Page.GetByText("API Keys", new() { Exact = true })).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task Employee_OpeningApiKeysDirectly_GetsAnAccessible403Page()
    {
        await SignInAsync(DemoData.Employee);
        var response = await Page.GotoAsync("/Settings/ApiKeys");

        Assert.Equal(403, response!.Status);
        await Expect(Heading("You can't open this page")).ToBeVisibleAsync();
        await Expect(Main).ToContainTextAsync("Only Admins and Bookkeepers of Nordic Coffee ApS can manage API keys");
        await AssertAccessibleAsync("the 403 page");
        await SaveScreenshotAsync("forbidden");
    }
}
