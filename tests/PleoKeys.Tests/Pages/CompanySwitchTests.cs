using System.Net;
using AngleSharp.Html.Dom;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Pages;

/// <summary>A user of several companies switches the current company in the header.</summary>
public sealed class CompanySwitchTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    private static string SelectedCompany(IHtmlDocument page) =>
        ((IHtmlSelectElement)page.QuerySelector("header select#company-switch")!).SelectedOptions.Single().Text();

    private static string CurrentCompanyOfList(IHtmlDocument list) => list.QuerySelector("main .page-head strong").Text();

    [Fact]
    public async Task Header_OrganisationLevelAdmin_ChoosesBetweenBothEntities()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);

        var page = await admin.GetDocumentAsync("/Settings/ApiKeys");

        var options = page.QuerySelectorAll("header select#company-switch option").Select(o => o.Text());
        Assert.Equal(["Nordic Coffee AB", "Nordic Coffee ApS"], options);
        Assert.Equal("Nordic Coffee ApS", SelectedCompany(page));
        Assert.Equal("Company", page.QuerySelector("header label[for=company-switch]").Text());
    }

    [Fact]
    public async Task Switch_ShowsThatCompanysKeys()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var list = await admin.GetDocumentAsync("/Settings/ApiKeys");
        var swedishName = PageHelpers.UniqueName("Swedish key");

        var switched = await admin.SubmitAsync(list.Form("form.company-switch"), ("companyId", DemoData.NordicCoffeeAbId.ToString()));
        Assert.Equal(HttpStatusCode.Redirect, switched.StatusCode);
        Assert.Equal("/Settings/ApiKeys", switched.Headers.Location!.OriginalString);
        await admin.CreateKeyAsync(swedishName);
        var abList = await admin.GetDocumentAsync("/Settings/ApiKeys");

        Assert.Equal("Nordic Coffee AB", SelectedCompany(abList));
        Assert.Equal("Nordic Coffee AB", CurrentCompanyOfList(abList));
        Assert.Contains(swedishName, abList.KeyNames());
        Assert.DoesNotContain("Accounting sync (ERP)", abList.KeyNames());

        Assert.Equal(HttpStatusCode.Redirect, (await admin.SwitchCompanyAsync(DemoData.NordicCoffeeApSId, "/Settings/ApiKeys")).StatusCode);
        var apsList = await admin.GetDocumentAsync("/Settings/ApiKeys");
        Assert.Equal("Nordic Coffee ApS", CurrentCompanyOfList(apsList));
        Assert.Contains("Accounting sync (ERP)", apsList.KeyNames());
        Assert.DoesNotContain(swedishName, apsList.KeyNames());
    }

    [Fact]
    public async Task Switch_ToACompanyOfAnotherOrganisation_IsRefused()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);

        await admin.SwitchCompanyAsync(DemoData.FjordBikesAsId);
        var list = await admin.GetDocumentAsync("/Settings/ApiKeys");

        Assert.Equal("Nordic Coffee ApS", CurrentCompanyOfList(list));
        Assert.DoesNotContain("Fjord", string.Join(" ", list.QuerySelectorAll("header option").Select(o => o.Text())), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0b7f1a2e-3c4d-4e5f-8a9b-0000000000a2")] // Nordic Coffee AB: same organisation, no membership there
    [InlineData("0b7f1a2e-3c4d-4e5f-8a9b-0000000000b1")] // Fjord Bikes AS
    [InlineData("00000000-0000-0000-0000-000000000000")]
    public async Task Switch_ToACompanyTheUserDoesNotBelongTo_IsRefused(string companyId)
    {
        var bookkeeper = await factory.SignedInClientAsync(DemoData.Bookkeeper);
        Assert.Null((await bookkeeper.GetDocumentAsync("/Settings")).QuerySelector("form.company-switch"));

        await bookkeeper.PostWithTokenAsync("/Account/SwitchCompany", ("companyId", companyId), ("returnUrl", "/Settings/ApiKeys"));
        var list = await bookkeeper.GetDocumentAsync("/Settings/ApiKeys");

        Assert.Equal("Nordic Coffee ApS", CurrentCompanyOfList(list));
        Assert.Contains("Accounting sync (ERP)", list.KeyNames());
    }

    [Fact]
    public async Task Switch_FromAKeysDetails_GoesToTheNewCompanysList()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var row = await factory.KeyRowByNameAsync("Accounting sync (ERP)");

        var response = await admin.SwitchCompanyAsync(DemoData.NordicCoffeeAbId, $"/Settings/ApiKeys/Details/{row.Id}");

        Assert.Equal("/Settings/ApiKeys", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Switch_ToAnOutsideReturnUrl_StaysInTheApp()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);

        var response = await admin.PostWithTokenAsync("/Account/SwitchCompany",
            ("companyId", DemoData.NordicCoffeeAbId.ToString()), ("returnUrl", "https://evil.example/"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task SignIn_AfterSwitching_StartsInNordicCoffeeApSAgain()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        await admin.SwitchCompanyAsync(DemoData.NordicCoffeeAbId);
        Assert.Equal("Nordic Coffee AB", SelectedCompany(await admin.GetDocumentAsync("/")));

        var signOut = await admin.SubmitAsync((await admin.GetDocumentAsync("/")).Form("header form[action='/Account/Logout']"));
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        var login = await admin.GetDocumentAsync("/Account/Login");
        await admin.SubmitAsync(login.Form(), ("Input.Email", DemoData.Admin), ("Input.Password", DemoData.Password));

        Assert.Equal("Nordic Coffee ApS", SelectedCompany(await admin.GetDocumentAsync("/")));
    }
}
