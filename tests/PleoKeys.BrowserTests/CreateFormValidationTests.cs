using System.Text.RegularExpressions;
using PleoKeys.BrowserTests.Infrastructure;
using PleoKeys.Web.Data;
using Xunit.Abstractions;

namespace PleoKeys.BrowserTests;

/// <summary>Journey 4: each error next to its field and announced with it, what was typed kept, focus on the first error.</summary>
public sealed class CreateFormValidationTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task InvalidInput_ShowsEachErrorByItsField_KeepsInput_AndFocusesTheFirstError()
    {
        await SignInAsync(DemoData.Admin);
        await OpenApiKeysAsync();
        await Link("Create API Key").ClickAsync();

        var name = Page.GetByLabel("Name", new() { Exact = true });
        var customDate = Page.GetByLabel("Expiration date");
        var permissions = Page.GetByRole(AriaRole.Group, new() { Name = "Permissions" });
        await Page.GetByRole(AriaRole.Radio, new() { Name = "Custom date" }).CheckAsync();
        await customDate.FillAsync("2020-01-31");
        await Button("Create API Key").ClickAsync();

        await Expect(Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The key was not created");
        await Expect(name).ToBeFocusedAsync();
        await ExpectFieldErrorAsync(name, "Enter a name for the key.");
        await ExpectFieldErrorAsync(customDate, "Choose a date after today.");
        await Expect(permissions).ToHaveAccessibleDescriptionAsync(new Regex("Choose at least one permission\\."));
        await Expect(permissions.GetByText("Choose at least one permission.")).ToBeVisibleAsync();
        await Expect(customDate).ToHaveValueAsync("2020-01-31");
        await Expect(Page.GetByRole(AriaRole.Radio, new() { Name = "Custom date" })).ToBeCheckedAsync();
        await AssertAccessibleAsync("the create form with errors");
        await SaveScreenshotAsync("create-errors");

        // Fix two of the three: what was typed stays, and focus moves to the error that is left.
        await name.FillAsync("Payroll export");
        await permissions.GetByRole(AriaRole.Checkbox, new() { Name = "users:read" }).CheckAsync();
        await Button("Create API Key").ClickAsync();

        await Expect(customDate).ToBeFocusedAsync();
        await ExpectFieldErrorAsync(customDate, "Choose a date after today.");
        await Expect(name).ToHaveValueAsync("Payroll export");
        await Expect(name).Not.ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(permissions.GetByRole(AriaRole.Checkbox, new() { Name = "users:read" })).ToBeCheckedAsync();
        await Expect(Page.GetByText("Choose at least one permission.")).ToHaveCountAsync(0);
    }

    /// <summary>The field is marked invalid, its description carries the message, and the message sits right by it.</summary>
    private async Task ExpectFieldErrorAsync(ILocator field, string message)
    {
        await Expect(field).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(field).ToHaveAccessibleDescriptionAsync(new Regex(Regex.Escape(message)));
        var error = Page.GetByText(message, new() { Exact = true });
        await Expect(error).ToBeVisibleAsync();
        var fieldBox = (await field.BoundingBoxAsync())!;
        var errorBox = (await error.BoundingBoxAsync())!;
        var gap = errorBox.Y >= fieldBox.Y ? errorBox.Y - (fieldBox.Y + fieldBox.Height) : fieldBox.Y - (errorBox.Y + errorBox.Height);
        Assert.True(gap < 40, $"“{message}” is {gap:0} px away from its field.");
    }
}
