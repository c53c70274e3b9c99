using System.Net;
using PleoKeys.BrowserTests.Infrastructure;
using PleoKeys.Web.Data;
using Xunit.Abstractions;

namespace PleoKeys.BrowserTests;

/// <summary>Script only adds conveniences: with it off, keys are still created, shown once and deleted.</summary>
public sealed class WithoutJavaScriptTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    protected override bool JavaScriptEnabled => false;

    [Fact]
    public async Task CreateAndDelete_WorkWithScriptOff()
    {
        await SignInAsync(DemoData.Bookkeeper);
        await OpenApiKeysAsync();
        await Link("Create API Key").ClickAsync();
        await Button("Create API Key").ClickAsync();
        await Expect(Page.GetByText("Enter a name for the key.")).ToBeVisibleAsync();

        var key = await CreateKeyThroughFormAsync("Nightly CSV export", "tax-codes:read");
        await Expect(Button("Copy")).ToBeHiddenAsync();
        Assert.Equal(HttpStatusCode.OK, await InstallationsMeStatusAsync(key));

        await OpenApiKeysAsync();
        await Page.GetByRole(AriaRole.Link, new() { Name = "Nightly CSV export", Exact = true }).ClickAsync();
        await Button("Delete").ClickAsync();
        await Expect(Heading("Delete API key “Nightly CSV export”?")).ToBeVisibleAsync();
        await Button("Delete").ClickAsync();

        await Expect(Page.GetByRole(AriaRole.Status)).ToContainTextAsync("“Nightly CSV export” was deleted");
        Assert.Equal(HttpStatusCode.Unauthorized, await InstallationsMeStatusAsync(key));
    }
}
