using System.Net;
using PleoKeys.BrowserTests.Infrastructure;
using PleoKeys.Web.Data;
using Xunit.Abstractions;

namespace PleoKeys.BrowserTests;

/// <summary>Journey 5: sign in, create and copy a key with the keyboard alone, seeing where focus is all the way.</summary>
public sealed class KeyboardOnlyTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task WholeCreateFlow_WorksWithTheKeyboardAlone()
    {
        await Page.GotoAsync("/Account/Login");
        await FocusAsync(Page.GetByLabel("Email"));
        await Page.Keyboard.TypeAsync(DemoData.Admin);
        await FocusAsync(Page.GetByLabel("Password"));
        await Page.Keyboard.TypeAsync(DemoData.Password);
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Heading("Overview")).ToBeVisibleAsync();

        await FocusAsync(MainNav.GetByRole(AriaRole.Link, new() { Name = "Settings", Exact = true }));
        await Page.Keyboard.PressAsync("Enter");
        await FocusAsync(SettingsNav.GetByRole(AriaRole.Link, new() { Name = "API Keys", Exact = true }));
        await Page.Keyboard.PressAsync("Enter");
        await FocusAsync(Link("Create API Key"));
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Heading("Create API Key")).ToBeVisibleAsync();

        await FocusAsync(Page.GetByLabel("Name", new() { Exact = true }));
        await Page.Keyboard.TypeAsync("Power BI dashboard");
        // A radio group is one Tab stop (the checked choice); the arrow keys move the choice.
        await FocusAsync(Page.GetByRole(AriaRole.Radio, new() { Name = "90 days" }));
        await Page.Keyboard.PressAsync("ArrowLeft");
        await Expect(Page.GetByRole(AriaRole.Radio, new() { Name = "60 days" })).ToBeCheckedAsync();
        await FocusAsync(Page.GetByRole(AriaRole.Radio, new() { Name = "This entity" }));
        foreach (var scope in new[] { "users:read", "companies:read" })
        {
            var box = Page.GetByRole(AriaRole.Checkbox, new() { Name = scope });
            await FocusAsync(box);
            await Page.Keyboard.PressAsync("Space");
            await Expect(box).ToBeCheckedAsync();
        }

        await FocusAsync(Button("Create API Key"));
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Heading("Your new API key")).ToBeVisibleAsync();
        var shown = await Page.GetByLabel("API key", new() { Exact = true }).InputValueAsync();

        await FocusAsync(Button("Copy"));
        await Page.Keyboard.PressAsync("Enter");
        await Expect(Page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Copied to the clipboard" })).ToHaveCountAsync(1);
        var copied = await Page.EvaluateAsync<string>("() => navigator.clipboard.readText()");
        Assert.True(copied == shown, "The clipboard does not hold the key shown on the page.");

        await FocusAsync(Button("Test key"));
        await Page.Keyboard.PressAsync("Space");
        await Expect(Page.GetByText("Connected to Nordic Coffee ApS")).ToBeVisibleAsync();
        Assert.Equal(HttpStatusCode.OK, await InstallationsMeStatusAsync(copied));
    }

    /// <summary>Tabs to the element and checks that a sighted keyboard user can see it has focus.</summary>
    private async Task FocusAsync(ILocator target)
    {
        await TabToAsync(target);
        var visible = await target.EvaluateAsync<bool>("""
            e => {
                const s = getComputedStyle(e);
                return e.matches(':focus-visible') && s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
            }
            """);
        Assert.True(visible, $"Focus on {await FocusedDescriptionAsync()} has no visible outline.");
    }
}
