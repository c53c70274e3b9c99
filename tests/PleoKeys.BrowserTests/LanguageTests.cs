using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using PleoKeys.BrowserTests.Infrastructure;
using PleoKeys.Web;
using PleoKeys.Web.Data;
using Xunit.Abstractions;

namespace PleoKeys.BrowserTests;

/// <summary>
/// Issue 16 in the browser: the seed's steps (create as the Admin, delete as the Bookkeeper) in Danish and in German,
/// chosen under Settings → Profile; every page axe-clean in every language; and the test suite's pseudo-language
/// (<see cref="PseudoLocalization"/>, every text 40 % longer) overflowing nothing at 375 px.
/// </summary>
public sealed class LanguageTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    private static string L(string language, string english, params object[] arguments) => AppTexts.L(language, english, arguments);

    private static string NativeName(string language) => AppCultures.NativeName(language);

    /// <summary>The demo users choose nothing in the other browser tests: the language a test chose is cleared.</summary>
    private async Task ClearLanguagesAsync()
    {
        await using var scope = Fixture.App.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        foreach (var email in new[] { DemoData.Admin, DemoData.Bookkeeper, DemoData.Employee })
        {
            var user = (await users.FindByEmailAsync(email))!;
            user.Language = null;
            await users.UpdateAsync(user);
        }
    }

    /// <summary>Signs in (the browser speaks English) and chooses <paramref name="language"/> under Settings → Profile.</summary>
    private static async Task SignInAndChooseAsync(IPage page, string email, string language)
    {
        await page.GotoAsync("/Account/Login");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(DemoData.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = "Settings", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Settings" }).GetByRole(AriaRole.Link, new() { Name = "Profile", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Radio, new() { Name = NativeName(language), Exact = true }).CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save", Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = L(language, "Profile"), Exact = true })).ToBeVisibleAsync();
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", language);
    }

    private static async Task OpenApiKeysAsync(IPage page, string language)
    {
        await page.GetByRole(AriaRole.Navigation, new() { Name = L(language, "Main") })
            .GetByRole(AriaRole.Link, new() { Name = L(language, "Settings"), Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Navigation, new() { Name = L(language, "Settings") })
            .GetByRole(AriaRole.Link, new() { Name = L(language, "API Keys"), Exact = true }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = L(language, "API Keys"), Exact = true })).ToBeVisibleAsync();
    }

    [Theory]
    [InlineData("da")]
    [InlineData("de")]
    public async Task SeedSteps_CreateAsTheAdmin_DeleteAsTheBookkeeper_InTheChosenLanguage(string language)
    {
        try
        {
            // Create, as the Admin.
            await SignInAndChooseAsync(Page, DemoData.Admin, language);
            await OpenApiKeysAsync(Page, language);
            await AssertAccessibleAsync($"the API Keys list in {language}");
            await Link(L(language, "Create API Key")).ClickAsync();
            await Expect(Heading(L(language, "Create API Key"))).ToBeVisibleAsync();
            var name = $"Bogholderi-sync {language} {Guid.NewGuid():N}"[..26];
            await Page.GetByLabel(L(language, "Name"), new() { Exact = true }).FillAsync(name);
            await Page.GetByRole(AriaRole.Radio, new() { Name = L(language, "{0} days", 60) }).CheckAsync();
            await Page.GetByRole(AriaRole.Radio, new() { Name = L(language, "This entity") }).CheckAsync();
            await Page.GetByRole(AriaRole.Checkbox, new() { Name = "export-jobs:read" }).CheckAsync();
            await Page.GetByRole(AriaRole.Checkbox, new() { Name = "vendors:read" }).CheckAsync();
            await AssertAccessibleAsync($"the create form in {language}");
            await Button(L(language, "Create API Key")).ClickAsync();

            await Expect(Heading(L(language, "Your new API key"))).ToBeVisibleAsync();
            await Expect(Page.Locator("html")).ToHaveAttributeAsync("lang", language);
            var key = await Page.GetByLabel(L(language, "API key"), new() { Exact = true }).InputValueAsync();
            await AssertAccessibleAsync($"the one-time reveal in {language}");
            await Button(L(language, "Copy")).ClickAsync();
            await Expect(Page.GetByRole(AriaRole.Status).Filter(new() { HasText = L(language, "Copied to the clipboard") })).ToHaveCountAsync(1);
            await Button(L(language, "Test key")).ClickAsync();
            await Expect(Page.GetByText(L(language, "Connected to {0} ({1})", "Nordic Coffee ApS", L(language, "Company ID {0}", "")).TrimEnd(' ', ')'))).ToBeVisibleAsync();
            Assert.Equal(HttpStatusCode.OK, await InstallationsMeStatusAsync(key));

            // Delete, as the Bookkeeper, in a browser of their own.
            var context = await Fixture.NewContextAsync();
            var bookkeeper = await context.NewPageAsync();
            await SignInAndChooseAsync(bookkeeper, DemoData.Bookkeeper, language);
            await OpenApiKeysAsync(bookkeeper, language);
            var row = bookkeeper.GetByRole(AriaRole.Row).Filter(new() { HasText = name });
            await row.GetByRole(AriaRole.Cell).Nth(2).ClickAsync();
            await Expect(bookkeeper.GetByRole(AriaRole.Heading, new() { Name = name, Exact = true })).ToBeVisibleAsync();
            await AssertAccessibleAsync(bookkeeper, $"the key's details in {language}");
            await bookkeeper.GetByRole(AriaRole.Button, new() { Name = L(language, "Delete"), Exact = true }).ClickAsync();
            var dialog = bookkeeper.GetByRole(AriaRole.Dialog, new() { Name = L(language, "Delete API key “<bdi class=\"name\">{0}</bdi>”?", name) });
            await Expect(dialog).ToBeVisibleAsync();
            await AssertAccessibleAsync(bookkeeper, $"the delete dialog in {language}");
            await dialog.GetByRole(AriaRole.Button, new() { Name = L(language, "Delete"), Exact = true }).ClickAsync();

            await Expect(bookkeeper.GetByRole(AriaRole.Heading, new() { Name = L(language, "API Keys"), Exact = true })).ToBeVisibleAsync();
            await Expect(bookkeeper.GetByRole(AriaRole.Status)).ToContainTextAsync(L(language, "API key “{0}” was deleted. Integrations using it can no longer connect.", name));
            await Expect(row).ToHaveCountAsync(0);
            Assert.Equal(HttpStatusCode.Unauthorized, await InstallationsMeStatusAsync(key));

            // Testing the deleted key on the reveal page: refused, said in the page's words first; the API's own
            // (English) problem detail follows in an element marked lang="en".
            await Button(L(language, "Test key")).ClickAsync();
            var result = Page.Locator(".test-result");
            await Expect(result.Locator("span[lang=en]")).ToHaveCountAsync(1);
            Assert.StartsWith(L(language, "The key was refused."), (await result.TextContentAsync())!.Trim(), StringComparison.Ordinal);

            // The sign-out, and the sign-in page after it, in the same language.
            await bookkeeper.GetByRole(AriaRole.Button, new() { Name = L(language, "Sign out"), Exact = true }).ClickAsync();
            await Expect(bookkeeper.GetByRole(AriaRole.Heading, new() { Name = L(language, "Sign in"), Exact = true })).ToBeVisibleAsync();
            await Expect(bookkeeper.Locator("html")).ToHaveAttributeAsync("lang", language);
            await context.CloseAsync();
        }
        finally
        {
            await ClearLanguagesAsync();
        }
    }

    /// <summary>The pages a person meets, signed in as the Admin, in the language the browser asks for.</summary>
    private static readonly string[] SignedInPages =
        ["/", "/Settings", "/Settings/Profile", "/Settings/ApiKeys", "/Settings/ApiKeys?q=no-such-key", "/Settings/ApiKeys/Create", "/api-reference"];

    [Theory]
    [InlineData("da")]
    [InlineData("sv")]
    [InlineData("nb")]
    [InlineData("de")]
    public async Task EveryPage_IsAxeClean_InEveryLanguage(string language)
    {
        foreach (var width in new[] { 1280, 375 })
        {
            var context = await Fixture.NewContextAsync(width, 812, locale: language);
            var page = await context.NewPageAsync();
            await page.GotoAsync("/Account/Login");
            await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", language);
            await AssertAccessibleAsync(page, $"the sign-in page in {language} at {width} px");
            await page.GetByLabel(L(language, "Email")).FillAsync(DemoData.Admin);
            await page.GetByLabel(L(language, "Password")).FillAsync("not the password");
            await page.GetByRole(AriaRole.Button, new() { Name = L(language, "Sign in"), Exact = true }).ClickAsync();
            await Expect(page.GetByRole(AriaRole.Alert)).ToBeVisibleAsync();
            await AssertAccessibleAsync(page, $"the sign-in page with an error in {language} at {width} px");
            await page.GetByLabel(L(language, "Password")).FillAsync(DemoData.Password);
            await page.GetByRole(AriaRole.Button, new() { Name = L(language, "Sign in"), Exact = true }).ClickAsync();
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = L(language, "Overview"), Exact = true })).ToBeVisibleAsync();

            foreach (var path in SignedInPages)
            {
                await page.GotoAsync(path, new PageGotoOptions { WaitUntil = WaitUntilState.NetworkIdle });
                await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", language);
                await AssertAccessibleAsync(page, $"{path} in {language} at {width} px");
            }

            // The create form with its errors, a key's reveal, details (with the usage table) and delete page.
            await page.GotoAsync("/Settings/ApiKeys/Create");
            await page.GetByRole(AriaRole.Button, new() { Name = L(language, "Create API Key"), Exact = true }).ClickAsync();
            await Expect(page.Locator("#name-error")).Not.ToBeEmptyAsync();
            await AssertAccessibleAsync(page, $"the create form with errors in {language} at {width} px");
            var name = $"Axe {language} {width} {Guid.NewGuid():N}"[..24];
            await page.GetByLabel(L(language, "Name"), new() { Exact = true }).FillAsync(name);
            await page.GetByRole(AriaRole.Checkbox, new() { Name = "vendors:read" }).CheckAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = L(language, "Create API Key"), Exact = true }).ClickAsync();
            await Expect(page.GetByRole(AriaRole.Heading, new() { Name = L(language, "Your new API key"), Exact = true })).ToBeVisibleAsync();
            await AssertAccessibleAsync(page, $"the reveal in {language} at {width} px");
            await page.GotoAsync("/Settings/ApiKeys?q=" + Uri.EscapeDataString(name));
            await page.GetByRole(AriaRole.Link, new() { Name = name, Exact = true }).ClickAsync();
            await page.GetByText(L(language, "Show the numbers as a table")).ClickAsync();
            await AssertAccessibleAsync(page, $"a key's details in {language} at {width} px");
            await page.GotoAsync(page.Url.Replace("/Details/", "/Roll/", StringComparison.Ordinal));
            await AssertAccessibleAsync(page, $"the roll form in {language} at {width} px");
            await page.GotoAsync(page.Url.Replace("/Roll/", "/Delete/", StringComparison.Ordinal));
            await AssertAccessibleAsync(page, $"the delete page in {language} at {width} px");
            await page.GetByRole(AriaRole.Button, new() { Name = L(language, "Delete"), Exact = true }).ClickAsync();
            await Expect(page.GetByRole(AriaRole.Status)).ToBeVisibleAsync();
            await AssertAccessibleAsync(page, $"the list after a deletion in {language} at {width} px");
            await context.CloseAsync();
        }
    }

    /// <summary>
    /// Elements whose content runs out of them at this width: the page scrolls sideways, an element reaches past
    /// the window (outside a container that scrolls on purpose, like the keys table's), or text is cut off.
    /// </summary>
    private static Task<string[]> OverflowsAsync(IPage page) => page.EvaluateAsync<string[]>("""
        () => {
            const found = [];
            const root = document.documentElement;
            if (root.scrollWidth > root.clientWidth + 1) found.push(`the page is ${root.scrollWidth} px wide in a ${root.clientWidth} px window`);
            const scrolls = e => { for (let p = e.parentElement; p; p = p.parentElement) { const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll') return true; } return false; };
            const describe = e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : ''} “${(e.textContent || '').trim().slice(0, 50)}”`;
            for (const e of document.body.querySelectorAll('*')) {
                const style = getComputedStyle(e);
                if (style.display === 'none' || style.visibility === 'hidden' || e.closest('[hidden], .sr-only, dialog:not([open])')) continue;
                // Visually hidden on purpose (clipped to nothing, for screen readers only).
                let clipped = false;
                for (let p = e; p && !clipped; p = p.parentElement) { const c = getComputedStyle(p); clipped = c.clip !== 'auto' && c.position === 'absolute'; }
                if (clipped) continue;
                const r = e.getBoundingClientRect();
                if (r.width === 0 && r.height === 0) continue;
                if (r.right > root.clientWidth + 1 && !scrolls(e)) found.push(`${describe(e)} reaches ${Math.round(r.right)} px`);
                if ((style.overflowX === 'hidden' || style.overflowX === 'clip' || style.textOverflow === 'ellipsis') && e.scrollWidth > e.clientWidth + 1 && !e.matches('input, textarea, select'))
                    found.push(`${describe(e)} is cut off (${e.scrollWidth} px in ${e.clientWidth} px)`);
            }
            return [...new Set(found)];
        }
        """);

    [Theory]
    [InlineData("en-GB")]
    [InlineData("de-DE")]
    public async Task PseudoLanguage_FortyPercentLonger_OverflowsNothingAt375px(string locale)
    {
        var context = await Fixture.NewContextAsync(375, 812, locale: locale, pseudo: true);
        var page = await context.NewPageAsync();
        var problems = new List<string>();
        async Task Check(string what)
        {
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            problems.AddRange((await OverflowsAsync(page)).Select(p => $"{what}: {p}"));
        }

        await page.GotoAsync("/Account/Login");
        Assert.Contains(PseudoLocalization.Longer("Sign in with your work email")[29..], await page.ContentAsync(), StringComparison.Ordinal);
        await Check("sign-in");
        await page.Locator("#Input_Email").FillAsync(DemoData.Admin);
        await page.Locator("#Input_Password").FillAsync(DemoData.Password);
        await page.Locator("main form button[type=submit]").ClickAsync();
        await Expect(page.Locator("main h1")).ToBeVisibleAsync();
        foreach (var path in SignedInPages.Append("/Settings/ApiKeys?expiring=true"))
        {
            await page.GotoAsync(path);
            await Check(path);
        }

        await page.GotoAsync("/Settings/ApiKeys/Create");
        await page.Locator("main form button[type=submit]").ClickAsync();
        await Check("create form with errors");
        await page.Locator("#Input_Name").FillAsync("Pseudo " + Guid.NewGuid().ToString("N")[..8]);
        await page.Locator("#scope-vendors-read").CheckAsync();
        await page.Locator("main form button[type=submit]").ClickAsync();
        await Expect(page.Locator("#new-key")).ToBeVisibleAsync();
        await Check("reveal");
        await page.GotoAsync("/Settings/ApiKeys");
        await page.Locator("a.row-link").First.ClickAsync();
        await page.Locator("details.usage-table-toggle summary").ClickAsync();
        await Check("details");
        await page.Locator("[data-open-dialog]").ClickAsync();
        await Check("delete dialog");
        await page.Keyboard.PressAsync("Escape");
        await page.GotoAsync(page.Url.Replace("/Details/", "/Roll/", StringComparison.Ordinal));
        await Check("roll form");
        await context.CloseAsync();

        Assert.True(problems.Count == 0, $"With every text 40 % longer ({locale}) at 375 px:\n" + string.Join("\n", problems.Distinct()));
    }
}
