using PleoKeys.BrowserTests.Infrastructure;
using PleoKeys.Web.Data;
using Xunit.Abstractions;

namespace PleoKeys.BrowserTests;

/// <summary>Journey 6: an organisation-level Admin works in one entity at a time, chosen in the header.</summary>
public sealed class SwitchCompanyTests(BrowserFixture fixture, ITestOutputHelper output) : BrowserTest(fixture, output)
{
    [Fact]
    public async Task OrganisationAdmin_SwitchesCompanyInTheHeader_AndSeesThatCompanysKeys()
    {
        await SignInAsync(DemoData.Admin);
        await OpenApiKeysAsync();
        var seededKey = Page.GetByRole(AriaRole.Row).Filter(new() { HasText = "Accounting sync (ERP)" });
        await Expect(seededKey).ToBeVisibleAsync();

        var company = Page.GetByRole(AriaRole.Banner).GetByLabel("Company", new() { Exact = true });
        await company.SelectOptionAsync(new SelectOptionValue { Label = "Nordic Coffee AB" });
        await Button("Switch").ClickAsync();

        await Expect(Heading("No API keys yet")).ToBeVisibleAsync();
        await Expect(Main).ToContainTextAsync("Nordic Coffee AB");
        await Expect(seededKey).ToHaveCountAsync(0);
        await Expect(company.Locator("option:checked")).ToHaveTextAsync("Nordic Coffee AB");
        await AssertAccessibleAsync("the empty API Keys list");
        await SaveScreenshotAsync("api-keys-empty");

        await company.SelectOptionAsync(new SelectOptionValue { Label = "Nordic Coffee ApS" });
        await Button("Switch").ClickAsync();
        await Expect(seededKey).ToBeVisibleAsync();
    }
}
