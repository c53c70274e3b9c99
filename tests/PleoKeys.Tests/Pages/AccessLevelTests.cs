using System.Net;
using AngleSharp.Html.Dom;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Pages;

/// <summary>
/// Access Level: "This entity" or "Organisation". The organisation choice is for organisation-level Admins and
/// Bookkeepers of a multi-entity organisation; an organisation key shows in every entity it covers.
/// </summary>
public sealed class AccessLevelTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    private static List<(string? Value, string Label)> AccessChoices(IHtmlDocument form) =>
        form.QuerySelectorAll("input[type=radio][name='Input.AccessLevel']").Select(r => (r.GetAttribute("value"), r.Closest("label").Text())).ToList();

    private async Task<(string Key, ApiKey Row)> CreateOrganisationKeyAsync(string name)
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync(name, accessLevel: "Organisation");
        return (key, await factory.KeyRowAsync(key));
    }

    [Fact]
    public async Task Form_OrganisationLevelAdmin_IsOfferedThisEntityAndTheOrganisation()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);

        var form = await admin.GetDocumentAsync("/Settings/ApiKeys/Create");

        Assert.Equal([("Company", "This entity (Nordic Coffee ApS)"), ("Organisation", "Organisation (all entities of Nordic Coffee Group)")], AccessChoices(form));
        Assert.True(((IHtmlInputElement)form.QuerySelector("input[name='Input.AccessLevel'][value=Company]")!).IsChecked);
    }

    [Fact]
    public async Task Form_EntityLevelBookkeeper_IsOfferedOnlyThisEntity()
    {
        var bookkeeper = await factory.SignedInClientAsync(DemoData.Bookkeeper);

        var form = await bookkeeper.GetDocumentAsync("/Settings/ApiKeys/Create");

        Assert.Equal([("Company", "This entity (Nordic Coffee ApS)")], AccessChoices(form));
        Assert.DoesNotContain("Nordic Coffee Group", form.Form().Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_OrganisationPostedByEntityLevelBookkeeper_IsRefused()
    {
        var bookkeeper = await factory.SignedInClientAsync(DemoData.Bookkeeper);
        var name = PageHelpers.UniqueName("Sneaky org key");

        var response = await bookkeeper.PostCreateFormAsync(name, accessLevel: "Organisation");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var page = await Html.ParseAsync(response);
        Assert.Equal("Only Admins and Bookkeepers of the whole organisation can create organisation keys.", page.QuerySelector("#access-error").Text());
        Assert.Equal(0, await factory.CountKeysNamedAsync(name));
    }

    [Theory]
    [InlineData("")]
    [InlineData("organisation")]
    [InlineData("Company,Organisation")]
    [InlineData("Global")]
    public async Task Create_AccessLevelNotOffered_IsRejected(string accessLevel)
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Odd level");

        var response = await admin.PostCreateFormAsync(name, accessLevel: accessLevel);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Choose an access level.", (await Html.ParseAsync(response)).QuerySelector("#access-error").Text());
        Assert.Equal(0, await factory.CountKeysNamedAsync(name));
    }

    [Fact]
    public async Task Create_OrganisationByOrganisationLevelAdmin_StoresAnOrganisationKey()
    {
        var (_, row) = await CreateOrganisationKeyAsync(PageHelpers.UniqueName("Group key"));

        Assert.Equal(AccessLevel.Organisation, row.AccessLevel);
        Assert.Equal(DemoData.NordicCoffeeGroupId, row.OrganisationId);
        Assert.Equal(DemoData.NordicCoffeeApSId, row.CompanyId);
    }

    [Fact]
    public async Task OrganisationKey_IsListedInEveryEntityMarkedOrganisation()
    {
        var name = PageHelpers.UniqueName("Group key");
        await CreateOrganisationKeyAsync(name);
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var search = "/Settings/ApiKeys?q=" + Uri.EscapeDataString(name);

        var inAps = Assert.Single((await admin.GetDocumentAsync(search)).KeyTableRows());
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SwitchCompanyAsync(DemoData.NordicCoffeeAbId)).StatusCode);
        var abList = await admin.GetDocumentAsync(search);
        var inAb = Assert.Single(abList.KeyTableRows());

        Assert.Equal("Organisation", inAps["Access level"]);
        Assert.Equal("Organisation", inAb["Access level"]);
        Assert.Contains("Nordic Coffee AB", abList.QuerySelector("table.keys caption").Text(), StringComparison.Ordinal);
        var details = await admin.GetDocumentAsync(abList.QuerySelector("table.keys tbody tr a")!.GetAttribute("href")!);
        Assert.Contains("Organisation (all entities of Nordic Coffee Group)", details.QuerySelector("main dl").Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EntityKey_IsListedOnlyInItsEntity()
    {
        var name = PageHelpers.UniqueName("Danish only");
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        await admin.CreateKeyAsync(name);

        Assert.Equal(HttpStatusCode.Redirect, (await admin.SwitchCompanyAsync(DemoData.NordicCoffeeAbId)).StatusCode);
        var abList = await admin.GetDocumentAsync("/Settings/ApiKeys");

        Assert.DoesNotContain(name, abList.KeyNames());
        Assert.DoesNotContain("Accounting sync (ERP)", abList.KeyNames());
    }

    [Fact]
    public async Task OrganisationKey_EntityLevelBookkeeper_SeesItWithoutDelete()
    {
        var name = PageHelpers.UniqueName("Group key");
        var (_, row) = await CreateOrganisationKeyAsync(name);
        var bookkeeper = await factory.SignedInClientAsync(DemoData.Bookkeeper);

        var listRow = Assert.Single((await bookkeeper.GetDocumentAsync("/Settings/ApiKeys?q=" + Uri.EscapeDataString(name))).KeyTableRows());
        var details = await bookkeeper.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}");

        Assert.Equal("Organisation", listRow["Access level"]);
        Assert.Equal(name, details.QuerySelector("main h1").Text());
        Assert.DoesNotContain(details.QuerySelectorAll("main a, main button"), e => e.Text() == "Delete");
        Assert.Null(details.QuerySelector("main form"));
        Assert.Contains("can be deleted only by an Admin or Bookkeeper of the whole organisation", details.QuerySelector("main").Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OrganisationKey_DeleteByEntityLevelBookkeeper_IsRefused()
    {
        var (key, row) = await CreateOrganisationKeyAsync(PageHelpers.UniqueName("Group key"));
        var bookkeeper = await factory.SignedInClientAsync(DemoData.Bookkeeper);

        var page = await bookkeeper.GetAsync($"/Settings/ApiKeys/Delete/{row.Id}");
        var posted = await bookkeeper.PostWithTokenAsync($"/Settings/ApiKeys/Delete/{row.Id}");

        Assert.Equal(HttpStatusCode.Forbidden, page.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, posted.StatusCode);
        Assert.Null((await factory.KeyRowAsync(key)).DeletedAtUtc);
        Assert.Equal(HttpStatusCode.OK, (await factory.NewClient().ApiGetAsync("/v1/installations/me", key)).StatusCode);
    }

    [Fact]
    public async Task OrganisationKey_OrganisationLevelAdmin_DeletesItFromAnotherEntity()
    {
        var name = PageHelpers.UniqueName("Group key");
        var (key, row) = await CreateOrganisationKeyAsync(name);
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SwitchCompanyAsync(DemoData.NordicCoffeeAbId)).StatusCode);

        var confirmation = await admin.GetDocumentAsync($"/Settings/ApiKeys/Delete/{row.Id}");
        var response = await admin.SubmitAsync(confirmation.Form());

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.NotNull((await factory.KeyRowAsync(key)).DeletedAtUtc);
        var bookkeeper = await factory.SignedInClientAsync(DemoData.Bookkeeper);
        Assert.Empty((await bookkeeper.GetDocumentAsync("/Settings/ApiKeys?q=" + Uri.EscapeDataString(name))).KeyNames());
    }

    [Fact]
    public async Task Form_OrganisationLevelAdminOfASingleEntityOrganisation_IsOfferedOnlyThisEntity()
    {
        // Arranged in this class's database: Fjord Bikes onboarded, and its admin made organisation-level.
        await factory.WithDbAsync(async db =>
        {
            await db.Companies.Where(c => c.Id == DemoData.FjordBikesAsId).ExecuteUpdateAsync(s => s.SetProperty(c => c.ApiKeyAccess, true));
            return await db.Memberships.Where(m => m.OrganisationId == DemoData.FjordBikesId)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.CompanyId, (Guid?)null));
        });
        var fjord = await factory.SignedInClientAsync(DemoData.FjordAdmin);
        var name = PageHelpers.UniqueName("Fjord org key");

        var form = await fjord.GetDocumentAsync("/Settings/ApiKeys/Create");
        var posted = await fjord.PostCreateFormAsync(name, accessLevel: "Organisation");

        Assert.Equal([("Company", "This entity (Fjord Bikes AS)")], AccessChoices(form));
        Assert.Equal(HttpStatusCode.BadRequest, posted.StatusCode);
        Assert.Equal(0, await factory.CountKeysNamedAsync(name));
    }
}
