using System.Net;
using PleoKeys.BrowserTests.Infrastructure;
using PleoKeys.Web.Data;
using Xunit.Abstractions;

namespace PleoKeys.BrowserTests;

/// <summary>Journey 2: "click the specific row and click Delete", with a confirmation dialog that keeps focus.</summary>
public sealed class DeleteKeyJourneyTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task Bookkeeper_DeletesKeyFromItsRow_RowIsGone_AndKeyAnswers401()
    {
        await SignInAsync(DemoData.Bookkeeper);
        var key = await CreateKeyThroughFormAsync("Zapier hook (retired)", "vendors:read");
        Assert.Equal(HttpStatusCode.OK, await InstallationsMeStatusAsync(key));

        await OpenApiKeysAsync();
        var row = Page.GetByRole(AriaRole.Row).Filter(new() { HasText = "Zapier hook (retired)" });
        await row.GetByRole(AriaRole.Cell).Nth(2).ClickAsync();
        await Expect(Heading("Zapier hook (retired)")).ToBeVisibleAsync();

        await Button("Delete").ClickAsync();
        var dialog = Page.GetByRole(AriaRole.Dialog, new() { Name = "Delete API key “Zapier hook (retired)”?" });
        await Expect(dialog).ToBeVisibleAsync();
        await AssertAccessibleAsync("the delete confirmation dialog");
        await SaveScreenshotAsync("delete-dialog", fullPage: false);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true }).ClickAsync();

        await Expect(Heading("API Keys")).ToBeVisibleAsync();
        await Expect(Page.GetByRole(AriaRole.Status)).ToContainTextAsync("“Zapier hook (retired)” was deleted");
        await Expect(row).ToHaveCountAsync(0);
        Assert.Equal(HttpStatusCode.Unauthorized, await InstallationsMeStatusAsync(key));
    }

    [Fact]
    public async Task DeleteDialog_TrapsFocus_AndReturnsItToTheDeleteButtonOnClose()
    {
        await SignInAsync(DemoData.Bookkeeper);
        await CreateKeyThroughFormAsync("Dinero bookkeeping sync", "users:read");
        await OpenApiKeysAsync();
        await Page.GetByRole(AriaRole.Link, new() { Name = "Dinero bookkeeping sync", Exact = true }).First.ClickAsync();

        var delete = Button("Delete");
        var dialog = Page.GetByRole(AriaRole.Dialog);
        await delete.ClickAsync();
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" })).ToBeFocusedAsync();

        // Tab and Shift+Tab go round the dialog's own controls, never to the page behind it.
        foreach (var keys in new[] { "Tab", "Tab", "Tab", "Tab", "Shift+Tab", "Shift+Tab", "Shift+Tab" })
        {
            await Page.Keyboard.PressAsync(keys);
            Assert.True(await dialog.EvaluateAsync<bool>("d => d.contains(document.activeElement)"),
                $"After {keys} focus left the dialog for {await FocusedDescriptionAsync()}.");
        }

        await Page.Keyboard.PressAsync("Escape");
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(delete).ToBeFocusedAsync();

        await delete.ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(delete).ToBeFocusedAsync();
        await Expect(Heading("Dinero bookkeeping sync")).ToBeVisibleAsync();
    }
}
