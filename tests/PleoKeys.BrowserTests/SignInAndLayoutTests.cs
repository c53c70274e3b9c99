using PleoKeys.BrowserTests.Infrastructure;
using PleoKeys.Web.Data;
using Xunit.Abstractions;

namespace PleoKeys.BrowserTests;

public sealed class SignInTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task SignInPage_IsAccessible_WithAndWithoutAnError()
    {
        await Page.GotoAsync("/Settings/ApiKeys");
        await Expect(Heading("Sign in")).ToBeVisibleAsync();
        await AssertAccessibleAsync("the sign-in page");
        await SaveScreenshotAsync("sign-in");

        await Page.GetByLabel("Email").FillAsync(DemoData.Admin);
        await Page.GetByLabel("Password").FillAsync("not the password");
        await Button("Sign in").ClickAsync();
        await Expect(Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Incorrect email or password");
        await Expect(Page.GetByLabel("Email")).ToHaveValueAsync(DemoData.Admin);
        await AssertAccessibleAsync("the sign-in page with an error");
    }

    [Fact]
    public async Task SignOut_FromTheHeader_EndsTheSession()
    {
        await SignInAsync(DemoData.Bookkeeper);
        await Page.GetByRole(AriaRole.Banner).GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();

        await Expect(Heading("Sign in")).ToBeVisibleAsync();
        await Page.GotoAsync("/Settings/ApiKeys");
        await Expect(Heading("Sign in")).ToBeVisibleAsync();
    }
}

/// <summary>A phone-sized screen: nothing scrolls sideways, no button is cut off.</summary>
public sealed class NarrowScreenTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    protected override int ViewportWidth => 375;

    protected override int ViewportHeight => 812;

    [Fact]
    public async Task ListCreateFormAndReveal_FitA375PixelScreen()
    {
        await SignInAsync(DemoData.Admin);
        await Page.GotoAsync("/Settings/ApiKeys");
        await Expect(Page.GetByText("Accounting sync (ERP)")).ToBeVisibleAsync();
        await SaveScreenshotAsync("api-keys-list-375");
        await AssertFitsAsync("the API Keys list");
        await AssertAccessibleAsync("the API Keys list at 375 px");

        await Link("Create API Key").ClickAsync();
        await SaveScreenshotAsync("create-form-375");
        await AssertFitsAsync("the create form");

        await CreateKeyThroughFormAsync("Slack expense bot", "vendors:read");
        await SaveScreenshotAsync("reveal-375");
        await AssertFitsAsync("the reveal");
    }

    private async Task AssertFitsAsync(string what)
    {
        var overflow = await Page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
        var wide = await Page.EvaluateAsync<string[]>("""
            () => [...document.body.querySelectorAll('*')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5 && ![...e.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 0.5))
                .map(e => `${e.tagName.toLowerCase()}.${e.className} (${Math.round(e.getBoundingClientRect().right)} px)`).slice(0, 5)
            """);
        Assert.True(overflow <= 0, $"{what} scrolls sideways by {overflow} px at {ViewportWidth} px: {string.Join(", ", wide)}");
        var clipped = await Page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('button, a.button, input, select')]
                .filter(e => e.offsetParent !== null && !e.closest('dialog'))
                .filter(e => { const r = e.getBoundingClientRect(); return r.left < 0 || r.right > window.innerWidth + 0.5 || e.scrollWidth > e.clientWidth + 1 && e.tagName === 'BUTTON'; })
                .map(e => (e.textContent || e.getAttribute('aria-label') || e.name || e.tagName).trim().slice(0, 40))
            """);
        Assert.True(clipped.Length == 0, $"On {what}, cut off at {ViewportWidth} px: {string.Join(", ", clipped)}");
    }
}
