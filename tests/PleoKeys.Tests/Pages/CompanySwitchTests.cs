using System.Net;
using AngleSharp.Html.Dom;
using Microsoft.EntityFrameworkCore;
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

    /// <summary>Makes <paramref name="email"/> a company-level member of Nordic Coffee AB; the caller removes it again.</summary>
    private async Task<string> AddMembershipInNordicCoffeeAbAsync(string email, MemberRole role)
    {
        var userId = await factory.UserIdAsync(email);
        await factory.WithDbAsync(async db =>
        {
            db.Memberships.Add(new Membership { UserId = userId, OrganisationId = DemoData.NordicCoffeeGroupId, CompanyId = DemoData.NordicCoffeeAbId, Role = role });
            return await db.SaveChangesAsync();
        });
        return userId;
    }

    /// <summary>A key of Nordic Coffee AB, created through the form; the Admin is back in ApS afterwards.</summary>
    private async Task<(HttpClient Admin, Guid KeyId, string Name)> KeyOfNordicCoffeeAbAsync()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Swedish payroll");
        await admin.SwitchCompanyAsync(DemoData.NordicCoffeeAbId);
        await admin.CreateKeyAsync(name);
        await admin.SwitchCompanyAsync(DemoData.NordicCoffeeApSId);
        return (admin, (await factory.KeyRowByNameAsync(name)).Id, name);
    }

    [Theory]
    [InlineData("Details")]
    [InlineData("Roll")]
    [InlineData("Delete")]
    public async Task KeyPageOfAnotherOfTheUsersCompanies_OffersTheSwitch_AndOpensTheKeyAfterIt(string page)
    {
        var (admin, keyId, name) = await KeyOfNordicCoffeeAbAsync();
        var url = $"/Settings/ApiKeys/{page}/{keyId}";

        // An emailed Renew or Details link, opened while working in ApS: 404 here, with the way to the key.
        var response = await admin.GetAsync(url);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.False(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("pleokeys.company=", StringComparison.Ordinal)),
            "Opening a link must not switch the company; only the offer's form does.");
        var offer = await admin.GetDocumentAsync(url);
        Assert.Equal("This API key belongs to Nordic Coffee AB", offer.QuerySelector("main h1").Text());
        Assert.Equal("Nordic Coffee ApS", SelectedCompany(offer));

        var switched = await admin.SubmitAsync(offer.Form("form.key-company-switch"));
        Assert.Equal(HttpStatusCode.Redirect, switched.StatusCode);
        Assert.Equal(url, switched.Headers.Location!.OriginalString);
        var opened = await admin.GetDocumentAsync(url);
        Assert.Equal("Nordic Coffee AB", SelectedCompany(opened));
        Assert.Contains(name, opened.QuerySelector("main")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyPageOfACompanyTheUserDoesNotManageKeysIn_IsAPlain404()
    {
        var (_, keyId, _) = await KeyOfNordicCoffeeAbAsync();
        // The Bookkeeper of ApS is only an Employee in AB: AB's keys are not theirs to open.
        var bookkeeperId = await AddMembershipInNordicCoffeeAbAsync(DemoData.Bookkeeper, MemberRole.Employee);

        // Fjord Bikes' Admin belongs to another organisation (API keys switched on there, so their pages open).
        await factory.SetApiKeyAccessAsync(DemoData.FjordBikesAsId, true);
        try
        {
            foreach (var user in new[] { DemoData.Bookkeeper, DemoData.FjordAdmin })
            {
                var client = await factory.SignedInClientAsync(user);
                var response = await client.GetAsync($"/Settings/ApiKeys/Roll/{keyId}");
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
                var page = await client.GetDocumentAsync($"/Settings/ApiKeys/Roll/{keyId}");
                Assert.Equal("Not found", page.QuerySelector("main h1").Text());
                Assert.Null(page.QuerySelector("form.key-company-switch"));
            }
        }
        finally
        {
            await factory.SetApiKeyAccessAsync(DemoData.FjordBikesAsId, false);
            await factory.WithDbAsync(db => db.Memberships.Where(m => m.UserId == bookkeeperId && m.CompanyId == DemoData.NordicCoffeeAbId).ExecuteDeleteAsync());
        }
    }

    [Fact]
    public async Task ExposedKeyDetailsLink_OfAnotherCompany_OffersTheSwitch()
    {
        // A key reported as exposed is deleted, and its Details page (the exposed-key email's link) still shows it.
        var (admin, keyId, name) = await KeyOfNordicCoffeeAbAsync();
        await factory.WithDbAsync(db => db.ApiKeys.Where(k => k.Id == keyId).ExecuteUpdateAsync(s => s
            .SetProperty(k => k.DeletedAtUtc, DateTime.UtcNow).SetProperty(k => k.ReportedExposedAtUtc, DateTime.UtcNow)));

        var offer = await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{keyId}");
        Assert.Equal("This API key belongs to Nordic Coffee AB", offer.QuerySelector("main h1").Text());
        await admin.SubmitAsync(offer.Form("form.key-company-switch"));
        Assert.Contains(name, (await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{keyId}")).QuerySelector("main")!.TextContent, StringComparison.Ordinal);
        // Roll and Delete do not open a deleted key anywhere: no offer.
        Assert.Equal("Not found", (await admin.GetDocumentAsync($"/Settings/ApiKeys/Roll/{keyId}")).QuerySelector("main h1").Text());
    }

    [Fact]
    public async Task KeyPage_OpenedInACompanyWithoutApiKeyAccess_OffersTheKeysCompany()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var apsKey = (await factory.KeyRowByNameAsync("Accounting sync (ERP)")).Id;
        await admin.SwitchCompanyAsync(DemoData.NordicCoffeeAbId);
        await factory.SetApiKeyAccessAsync(DemoData.NordicCoffeeAbId, false);
        try
        {
            var response = await admin.GetAsync($"/Settings/ApiKeys/Roll/{apsKey}");
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            var offer = await admin.GetDocumentAsync($"/Settings/ApiKeys/Roll/{apsKey}");
            Assert.Equal("This API key belongs to Nordic Coffee ApS", offer.QuerySelector("main h1").Text());
            Assert.Contains("API keys are not enabled for Nordic Coffee AB", offer.QuerySelector("main")!.TextContent, StringComparison.Ordinal);
            var switched = await admin.SubmitAsync(offer.Form("form.key-company-switch"));
            Assert.Equal($"/Settings/ApiKeys/Roll/{apsKey}", switched.Headers.Location!.OriginalString);
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/Settings/ApiKeys/Roll/{apsKey}")).StatusCode);
        }
        finally
        {
            await factory.SetApiKeyAccessAsync(DemoData.NordicCoffeeAbId, true);
        }
    }

    [Fact]
    public async Task OrganisationKey_IsOfferedWhereTheUserMayDoWhatThePageDoes()
    {
        // Fjord Bikes' Admin is also a company-level Admin of Nordic Coffee AB: an organisation key of Nordic Coffee
        // (created in ApS) is theirs to see from AB, not to roll or delete (that needs an organisation-level role).
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Group key");
        await admin.CreateKeyAsync(name, accessLevel: "Organisation");
        var keyId = (await factory.KeyRowByNameAsync(name)).Id;
        var fjordAdminId = await AddMembershipInNordicCoffeeAbAsync(DemoData.FjordAdmin, MemberRole.Admin);
        await factory.SetApiKeyAccessAsync(DemoData.FjordBikesAsId, true);
        try
        {
            var fjord = await factory.SignedInClientAsync(DemoData.FjordAdmin);
            var details = await fjord.GetDocumentAsync($"/Settings/ApiKeys/Details/{keyId}");
            Assert.Equal("This API key belongs to Nordic Coffee AB", details.QuerySelector("main h1").Text());
            foreach (var page in new[] { "Roll", "Delete" })
            {
                Assert.Equal("Not found", (await fjord.GetDocumentAsync($"/Settings/ApiKeys/{page}/{keyId}")).QuerySelector("main h1").Text());
            }
        }
        finally
        {
            await factory.SetApiKeyAccessAsync(DemoData.FjordBikesAsId, false);
            await factory.WithDbAsync(db => db.Memberships.Where(m => m.UserId == fjordAdminId && m.CompanyId == DemoData.NordicCoffeeAbId).ExecuteDeleteAsync());
        }
    }
}
