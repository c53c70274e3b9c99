using System.Net;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Security;

/// <summary>
/// Roles and the onboarding flag are checked by the server on every request, not only by hiding links:
/// forms posted by hand with a valid antiforgery token still change nothing.
/// </summary>
public sealed class RoleEnforcementTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    [Theory]
    [InlineData(DemoData.Employee)]
    [InlineData(DemoData.PersonalAdmin)]
    [InlineData(DemoData.FjordAdmin)]
    public async Task CreateAndDeleteForms_PostedByUserWithoutKeyAccess_Return403AndChangeNothing(string user)
    {
        await factory.SetApiKeyAccessAsync(DemoData.FjordBikesAsId, false);
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var target = await factory.NewClient().KeyRowIdAsync(await admin.CreateKeyAsync("Target of " + user));
        var (client, cookies) = await factory.SignedInClientWithCookiesAsync(user);
        var token = await client.AntiforgeryTokenAsync("/");
        var before = await factory.KeysSnapshotAsync();

        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/Settings/ApiKeys/Create")).StatusCode);
        // Also with the company choice tampered to Nordic Coffee ApS, a company with the flag on.
        foreach (var tamper in new[] { false, true })
        {
            if (tamper)
            {
                cookies.Add(new Uri("http://localhost"), new Cookie("pleokeys.company", DemoData.NordicCoffeeApSId.ToString()));
            }

            foreach (var level in new[] { "Company", "Organisation" })
            {
                var fields = PageHelpers.CreateFields(token, "Sneaky", level, PageHelpers.AllScopes);
                fields.Add(new("Input.CompanyId", DemoData.NordicCoffeeApSId.ToString()));
                var create = await client.PostFormAsync("/Settings/ApiKeys/Create", fields);
                Assert.Equal(HttpStatusCode.Forbidden, create.StatusCode);
            }

            var delete = await client.PostFormAsync($"/Settings/ApiKeys/Delete/{target}", [new("__RequestVerificationToken", token)]);
            var roll = await client.PostFormAsync($"/Settings/ApiKeys/Roll/{target}", [new("__RequestVerificationToken", token), new("Input.Grace", "now")]);
            Assert.Equal(HttpStatusCode.Forbidden, roll.StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync($"/Settings/ApiKeys/Details/{target}")).StatusCode);
        }

        Assert.Equal(before, await factory.KeysSnapshotAsync());
    }

    [Fact]
    public async Task CompanyLevelBookkeeper_PostingOrganisationKeyOrDeletingOne_IsRefused()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var organisationKey = await factory.NewClient().KeyRowIdAsync(await admin.CreateKeyAsync("Org key", accessLevel: "Organisation"));
        var bookkeeper = await factory.SignedInClientAsync(DemoData.Bookkeeper);
        var (token, ticket) = await bookkeeper.FormTokensAsync("/Settings/ApiKeys/Create");
        var before = await factory.KeysSnapshotAsync();

        var create = await bookkeeper.PostFormAsync("/Settings/ApiKeys/Create", PageHelpers.CreateFields(token, "Org attempt", "Organisation", ticket: ticket));
        Assert.Equal(HttpStatusCode.BadRequest, create.StatusCode);
        Assert.Contains("Only Admins and Bookkeepers of the whole organisation", await create.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var delete = await bookkeeper.PostFormAsync($"/Settings/ApiKeys/Delete/{organisationKey}", [new("__RequestVerificationToken", token)]);
        Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        // Rolling has the reach of deleting.
        Assert.Equal(HttpStatusCode.Forbidden, (await bookkeeper.GetAsync($"/Settings/ApiKeys/Roll/{organisationKey}")).StatusCode);
        var roll = await bookkeeper.PostFormAsync($"/Settings/ApiKeys/Roll/{organisationKey}", [new("__RequestVerificationToken", token), new("Input.Grace", "now")]);
        Assert.Equal(HttpStatusCode.Forbidden, roll.StatusCode);
        Assert.Equal(before, await factory.KeysSnapshotAsync());
    }

    [Fact]
    public async Task Create_WithTamperedCompanyCookieOrField_CreatesInTheUsersOwnCompanyOnly()
    {
        var (bookkeeper, cookies) = await factory.SignedInClientWithCookiesAsync(DemoData.Bookkeeper);
        cookies.Add(new Uri("http://localhost"), new Cookie("pleokeys.company", DemoData.NordicCoffeeAbId.ToString()));
        var (token, ticket) = await bookkeeper.FormTokensAsync("/Settings/ApiKeys/Create");
        var name = "Tamper " + Guid.NewGuid().ToString("N")[..8];
        var fields = PageHelpers.CreateFields(token, name, ticket: ticket);
        fields.Add(new("Input.CompanyId", DemoData.FjordBikesAsId.ToString()));
        fields.Add(new("CompanyId", DemoData.NordicCoffeeAbId.ToString()));

        var response = await bookkeeper.PostFormAsync("/Settings/ApiKeys/Create", fields);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var row = await factory.WithDbAsync(db => db.ApiKeys.AsNoTracking().SingleAsync(k => k.Name == name));
        Assert.Equal(DemoData.NordicCoffeeApSId, row.CompanyId);
        Assert.Equal(AccessLevel.Company, row.AccessLevel);
    }
}
