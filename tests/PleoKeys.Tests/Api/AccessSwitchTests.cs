using System.Net;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>
/// Switched off means off (issue 11.3), replayed as measured: after <c>api-key-access "Nordic Coffee AB" off</c>
/// the company's entity key neither reads nor writes, the group's organisation keys (also one created afterwards)
/// no longer reach AB and <c>/v1/companies</c> leaves it out; switched back on, the same keys work again.
/// </summary>
public sealed class AccessSwitchTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    private const string SwitchedOff = "API key access is switched off for Nordic Coffee AB.";

    private static readonly string[] Scopes =
        [PleoKeys.Web.ApiKeys.Scopes.CompaniesRead, PleoKeys.Web.ApiKeys.Scopes.VendorsRead, PleoKeys.Web.ApiKeys.Scopes.VendorsWrite];

    private static readonly object NewVendor = new { name = "Kaffebönor AB", country = "SE" };

    [Fact]
    public async Task SwitchedOff_RefusesTheCompanysKeys_AndOrganisationKeysLoseIt_UntilSwitchedOn()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var organisationKey = await admin.CreateKeyAsync(PageHelpers.UniqueName("Group key"), accessLevel: "Organisation", scopes: Scopes);
        await admin.SwitchCompanyAsync(DemoData.NordicCoffeeAbId);
        var abKey = await admin.CreateKeyAsync(PageHelpers.UniqueName("AB key"), scopes: Scopes);
        var api = factory.NewClient();
        // Both keys are verified and cached as valid before the switch, as in the measured case.
        await api.ApiSendAsync(HttpMethod.Get, "/v1/vendors", abKey).ExpectAsync(HttpStatusCode.OK);
        await api.ApiPostAsync("/v1/vendors", abKey, NewVendor).ExpectAsync(HttpStatusCode.Created);
        await api.ApiSendAsync(HttpMethod.Get, $"/v1/vendors?company_id={DemoData.NordicCoffeeAbId}", organisationKey).ExpectAsync(HttpStatusCode.OK);

        var (off, offOutput) = await RunAsync("Nordic Coffee AB", "off");

        Assert.Equal(0, off);
        Assert.Contains("is now off: 1 key suspended; 1 organisation key of Nordic Coffee Group no longer reaches it.", offOutput, StringComparison.Ordinal);
        foreach (var refused in new[] { api.ApiSendAsync(HttpMethod.Get, "/v1/vendors", abKey), api.ApiPostAsync("/v1/vendors", abKey, NewVendor) })
        {
            var problem = await (await refused.ExpectAsync(HttpStatusCode.Unauthorized)).ReadProblemAsync();
            Assert.Equal(SwitchedOff, problem.Detail);
        }

        await admin.SwitchCompanyAsync(DemoData.NordicCoffeeApSId);
        var laterKey = await admin.CreateKeyAsync(PageHelpers.UniqueName("Group key made afterwards"), accessLevel: "Organisation", scopes: Scopes);
        foreach (var key in new[] { organisationKey, laterKey })
        {
            var read = await api.ApiSendAsync(HttpMethod.Get, $"/v1/vendors?company_id={DemoData.NordicCoffeeAbId}", key).ExpectAsync(HttpStatusCode.Forbidden);
            Assert.Equal(SwitchedOff, (await read.ReadProblemAsync()).Detail);
            await api.ApiPostAsync($"/v1/vendors?company_id={DemoData.NordicCoffeeAbId}", key, NewVendor).ExpectAsync(HttpStatusCode.Forbidden);
            Assert.Equal([DemoData.NordicCoffeeApSId], await CompaniesAsync(api, key));
            // The organisation's other entity is not affected.
            await api.ApiSendAsync(HttpMethod.Get, $"/v1/vendors?company_id={DemoData.NordicCoffeeApSId}", key).ExpectAsync(HttpStatusCode.OK);
        }

        var (on, onOutput) = await RunAsync("Nordic Coffee AB", "on");

        Assert.Equal(0, on);
        Assert.Contains("is now on: 1 key restored; 2 organisation keys of Nordic Coffee Group reach it again.", onOutput, StringComparison.Ordinal);
        await api.ApiSendAsync(HttpMethod.Get, "/v1/vendors", abKey).ExpectAsync(HttpStatusCode.OK);
        await api.ApiPostAsync("/v1/vendors", abKey, NewVendor).ExpectAsync(HttpStatusCode.Created);
        foreach (var key in new[] { organisationKey, laterKey })
        {
            await api.ApiPostAsync($"/v1/vendors?company_id={DemoData.NordicCoffeeAbId}", key, NewVendor).ExpectAsync(HttpStatusCode.Created);
            Assert.Equal(new[] { DemoData.NordicCoffeeAbId, DemoData.NordicCoffeeApSId }.Order(), (await CompaniesAsync(api, key)).Order());
        }

        var audit = await factory.WithDbAsync(db => db.AuditEvents.AsNoTracking()
            .Where(e => e.Action == AuditActions.ApiKeyAccessSwitched && e.CompanyId == DemoData.NordicCoffeeAbId)
            .OrderBy(e => e.Id).ToListAsync());
        Assert.Collection(audit,
            e => Assert.Contains("Nordic Coffee AB: on → off; 1 key suspended", e.Detail, StringComparison.Ordinal),
            e => Assert.Contains("Nordic Coffee AB: off → on; 1 key restored", e.Detail, StringComparison.Ordinal));
        Assert.All(audit, e => Assert.Equal(OperatorCommands.Actor, e.ActorName));
    }

    [Fact]
    public async Task SwitchingToWhatItAlreadyIs_ChangesNothing_AndWritesNoAuditRow()
    {
        var before = await AuditCountAsync();

        var (exit, output) = await RunAsync(DemoData.NordicCoffeeApSId.ToString(), "on");

        Assert.Equal(0, exit);
        Assert.Contains("was already on; nothing changed", output, StringComparison.Ordinal);
        Assert.Equal(before, await AuditCountAsync());
    }

    private Task<int> AuditCountAsync() =>
        factory.WithDbAsync(db => db.AuditEvents.CountAsync(e => e.Action == AuditActions.ApiKeyAccessSwitched));

    private async Task<(int? Exit, string Output)> RunAsync(string company, string value)
    {
        var output = new StringWriter();
        var exit = await OperatorCommands.RunAsync(factory.Services, [OperatorCommands.ApiKeyAccess, company, value], output);
        return (exit, output.ToString());
    }

    private static async Task<List<Guid>> CompaniesAsync(HttpClient api, string key)
    {
        var page = await (await api.ApiSendAsync(HttpMethod.Get, "/v1/companies", key).ExpectAsync(HttpStatusCode.OK)).ReadJsonAsync();
        return page.GetProperty("data").EnumerateArray().Select(c => c.GetProperty("id").GetGuid()).ToList();
    }
}

/// <summary>Every endpoint that takes a company refuses a switched-off one to an organisation key, reading or writing.</summary>
public sealed class AccessSwitchReachTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    public static TheoryData<string, string> CompanyEndpoints() => new()
    {
        { "GET", "/v1/employees" }, { "GET", "/v1/vendors" }, { "GET", "/v1/accounts" }, { "GET", "/v2/export-jobs" },
        { "POST", "/v1/vendors" }, { "POST", "/v1/accounts" }, { "POST", "/v2/export-jobs" },
    };

    [Theory]
    [MemberData(nameof(CompanyEndpoints))]
    public async Task OrganisationKey_CompanySwitchedOff_Returns403NamingIt(string method, string path)
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName("Group key"), accessLevel: "Organisation",
            scopes: PleoKeys.Web.ApiKeys.Scopes.All.Select(s => s.Value));
        var api = factory.NewClient();
        await factory.SetApiKeyAccessAsync(DemoData.NordicCoffeeAbId, false);
        try
        {
            var response = await api.ApiSendAsync(new HttpMethod(method), $"{path}?company_id={DemoData.NordicCoffeeAbId}", key, new { })
                .ExpectAsync(HttpStatusCode.Forbidden);
            Assert.Equal("API key access is switched off for Nordic Coffee AB.", (await response.ReadProblemAsync()).Detail);
        }
        finally
        {
            await factory.SetApiKeyAccessAsync(DemoData.NordicCoffeeAbId, true);
        }
    }
}
