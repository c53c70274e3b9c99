using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;
using Xunit.Abstractions;

namespace PleoKeys.Tests.Security;

/// <summary>
/// Keys in every company: Nordic Coffee ApS and AB (entity keys), the Nordic Coffee Group (an organisation
/// key) and Fjord Bikes AS (whose onboarding flag is switched on in the database for this).
/// </summary>
public sealed class TenantWorld : PleoKeysFactory, IAsyncLifetime
{
    public sealed record WorldKey(string Label, Guid RowId, string Key, AccessLevel AccessLevel, Guid CompanyId, Guid OrganisationId)
    {
        public bool Covers(Guid companyId, Guid organisationId) =>
            AccessLevel == AccessLevel.Company ? CompanyId == companyId : OrganisationId == organisationId;

        public override string ToString() => Label; // never the key
    }

    public List<WorldKey> Keys { get; } = [];

    /// <summary>The seeded demo keys too (their plaintext was thrown away): ids only.</summary>
    public List<(Guid RowId, Guid CompanyId)> SeededKeys { get; } = [];

    public async Task InitializeAsync()
    {
        var admin = await this.SignedInClientAsync(DemoData.Admin);
        await Add(admin, "ApS entity key", AccessLevel.Company, DemoData.NordicCoffeeApSId, DemoData.NordicCoffeeGroupId);
        await Add(admin, "Group organisation key", AccessLevel.Organisation, DemoData.NordicCoffeeApSId, DemoData.NordicCoffeeGroupId);
        await admin.SwitchCompanyAsync(DemoData.NordicCoffeeAbId);
        await Add(admin, "AB entity key", AccessLevel.Company, DemoData.NordicCoffeeAbId, DemoData.NordicCoffeeGroupId);

        await this.SetApiKeyAccessAsync(DemoData.FjordBikesAsId, true);
        var fjord = await this.SignedInClientAsync(DemoData.FjordAdmin);
        await Add(fjord, "Fjord entity key", AccessLevel.Company, DemoData.FjordBikesAsId, DemoData.FjordBikesId);

        SeededKeys.AddRange(await WithDbAsync(db => db.ApiKeys.AsNoTracking()
            .Where(k => k.CreatedAtUtc < Start.UtcDateTime)
            .Select(k => new ValueTuple<Guid, Guid>(k.Id, k.CompanyId)).ToListAsync()));
    }

    private async Task Add(HttpClient client, string label, AccessLevel level, Guid companyId, Guid organisationId)
    {
        var key = await client.CreateKeyAsync(label, "90", level.ToString(), PageHelpers.AllScopes);
        Keys.Add(new WorldKey(label, await this.NewClient().KeyRowIdAsync(key), key, level, companyId, organisationId));
    }

    Task IAsyncLifetime.DisposeAsync() => Task.CompletedTask;
}

public sealed partial class TenantIsolationTests(TenantWorld world, ITestOutputHelper output) : IClassFixture<TenantWorld>
{
    private static readonly Dictionary<Guid, Guid> OrganisationOf = new()
    {
        [DemoData.NordicCoffeeApSId] = DemoData.NordicCoffeeGroupId,
        [DemoData.NordicCoffeeAbId] = DemoData.NordicCoffeeGroupId,
        [DemoData.FjordBikesAsId] = DemoData.FjordBikesId,
    };

    /// <summary>Every company each seeded user can work in (the ones the header's switch offers).</summary>
    private static readonly Dictionary<string, Guid[]> Reach = new()
    {
        [DemoData.Admin] = [DemoData.NordicCoffeeApSId, DemoData.NordicCoffeeAbId],
        [DemoData.Bookkeeper] = [DemoData.NordicCoffeeApSId],
        [DemoData.Employee] = [DemoData.NordicCoffeeApSId],
        [DemoData.PersonalAdmin] = [DemoData.NordicCoffeeApSId],
        [DemoData.FjordAdmin] = [DemoData.FjordBikesAsId],
    };

    /// <summary>The seeded users who manage keys in more than one company: the demo Admin, in both Nordic Coffee companies.</summary>
    private static bool ManagesKeysIn(string user, Guid company) => user == DemoData.Admin && Reach[user].Contains(company);

    private static readonly Dictionary<Guid, string> CompanyNames = new()
    {
        [DemoData.NordicCoffeeApSId] = "Nordic Coffee ApS",
        [DemoData.NordicCoffeeAbId] = "Nordic Coffee AB",
        [DemoData.FjordBikesAsId] = "Fjord Bikes AS",
    };

    private sealed record Route(string Method, string Template)
    {
        public override string ToString() => $"{Method} {Template}";
    }

    // Every page route that takes a key id, with every verb a client can send to it.
    private static readonly Route[] KeyRoutes =
    [
        new("GET", "/Settings/ApiKeys/Details/{0}"),
        new("POST", "/Settings/ApiKeys/Details/{0}"),
        new("GET", "/Settings/ApiKeys/Delete/{0}"),
        new("POST", "/Settings/ApiKeys/Delete/{0}"),
        new("PUT", "/Settings/ApiKeys/Delete/{0}"),
        new("DELETE", "/Settings/ApiKeys/Delete/{0}"),
        new("GET", "/Settings/ApiKeys/Roll/{0}"),
        new("POST", "/Settings/ApiKeys/Roll/{0}"),
    ];

    [Fact]
    public async Task EveryKeyRoute_KeyOfAnotherCompany_AnswersLikeNoSuchKeyAndChangesNothing()
    {
        await world.SetApiKeyAccessAsync(DemoData.FjordBikesAsId, true);
        var before = await world.KeysSnapshotAsync();
        var allKeys = world.Keys.Select(k => (Label: k.Label, k.RowId, k.CompanyId, Level: k.AccessLevel, Org: k.OrganisationId))
            .Concat(world.SeededKeys.Select(s => (Label: "seeded key", s.RowId, s.CompanyId, Level: AccessLevel.Company, Org: OrganisationOf[s.CompanyId])))
            .ToList();
        var checks = 0;
        foreach (var user in PageHelpers.SeededUsers)
        {
            var client = await world.SignedInClientAsync(user);
            foreach (var company in Reach[user])
            {
                if (Reach[user].Length > 1)
                {
                    await client.SwitchCompanyAsync(company);
                }

                var token = await client.AntiforgeryTokenAsync("/");
                var foreign = allKeys.Where(k => k.Level == AccessLevel.Company ? k.CompanyId != company : k.Org != OrganisationOf[company]).ToList();
                Assert.NotEmpty(foreign);
                foreach (var route in KeyRoutes)
                {
                    var missing = await AnswerAsync(client, route, Guid.NewGuid(), token);
                    foreach (var key in foreign)
                    {
                        var answer = await AnswerAsync(client, route, key.RowId, token);
                        if (route.Method == "GET" && ManagesKeysIn(user, key.CompanyId))
                        {
                            // A key of another company the user manages keys in (an emailed link opened while working
                            // elsewhere): the 404 offers a switch to that company (see CompanySwitchTests), nothing more.
                            Assert.True(answer.Status == 404 && answer.Text.StartsWith($"This API key belongs to {CompanyNames[key.CompanyId]}", StringComparison.Ordinal),
                                $"{user} in {company}: {route} for {key.Label} answered\n{answer}");
                            checks++;
                            continue;
                        }

                        Assert.True(missing == answer,
                            $"{user} in {company}: {route} for {key.Label} answered\n{answer}\nbut for no such key\n{missing}");
                        Assert.True(answer.Status is 404 or 403 or 405 or 400,
                            $"{user} in {company}: {route} for {key.Label} answered {answer.Status}");
                        checks++;
                    }
                }

                // The list and its search show nothing of another company's keys either.
                var list = await client.GetAsync("/Settings/ApiKeys?q=key");
                var listText = await list.Content.ReadAsStringAsync();
                foreach (var key in world.Keys.Where(k => !k.Covers(company, OrganisationOf[company])))
                {
                    Assert.DoesNotContain(key.Label, listText, StringComparison.Ordinal);
                    Assert.DoesNotContain(key.RowId.ToString(), listText, StringComparison.Ordinal);
                    checks++;
                }
            }

            // A signed-in browser session is no API credential.
            var api = await client.GetAsync("/v1/installations/me");
            Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        }

        Assert.Equal(before, await world.KeysSnapshotAsync());
        output.WriteLine($"tenant isolation (pages): {checks} user × company × route × foreign-key checks, all identical to 'no such key' (or, for the Admin's other company, its switch offer)");
    }

    private static readonly (string Method, string Path, object? Body)[] CompanyEndpoints =
    [
        ("GET", "/v1/employees", null),
        ("GET", "/v1/vendors", null),
        ("GET", "/v1/accounts", null),
        ("GET", "/v2/export-jobs", null),
        ("POST", "/v1/vendors", new { name = "Tenant probe", country = "DK" }),
        ("POST", "/v1/accounts", new { code = "9999", name = "Tenant probe", type = "ASSET" }),
        ("POST", "/v2/export-jobs", new { periodFrom = "2026-01-01T00:00:00Z", periodTo = "2026-02-01T00:00:00Z" }),
    ];

    [Fact]
    public async Task EveryApiKey_EveryEndpoint_OtherCompanyId_Returns403AndChangesNothing()
    {
        var counts = await CountApiRowsAsync();
        var client = world.NewClient();
        var checks = 0;
        foreach (var key in world.Keys)
        {
            var others = PageHelpers.AllCompanies.Where(c => !key.Covers(c, OrganisationOf[c])).Append(Guid.NewGuid()).ToList();
            foreach (var (method, path, body) in CompanyEndpoints)
            {
                foreach (var other in others)
                {
                    // The same company id written three ways Guid.TryParse accepts.
                    foreach (var text in new[] { other.ToString(), other.ToString().ToUpperInvariant(), other.ToString("B") })
                    {
                        var request = new HttpRequestMessage(new HttpMethod(method), $"{path}?company_id={Uri.EscapeDataString(text)}");
                        request.Headers.Authorization = Clients.Basic(key.Key);
                        if (body is not null)
                        {
                            request.Content = JsonContent.Create(body);
                        }

                        var response = await client.SendAsync(request);
                        var problem = await response.Content.ReadAsStringAsync();
                        Assert.True(response.StatusCode == HttpStatusCode.Forbidden,
                            $"{key} {method} {path} for another company answered {(int)response.StatusCode}: {PageHelpers.Shorten(problem)}");
                        Assert.Contains("does not reach company", problem, StringComparison.Ordinal);
                        checks++;
                    }
                }
            }

            // /v1/companies takes no company_id: a given one is ignored, and only the key's own reach is listed.
            var companies = await client.ApiGetAsync($"/v1/companies?company_id={others[0]}", key.Key);
            var listed = await companies.Content.ReadAsStringAsync();
            foreach (var other in others)
            {
                Assert.DoesNotContain(other.ToString(), listed, StringComparison.OrdinalIgnoreCase);
            }
        }

        Assert.Equal(counts, await CountApiRowsAsync());
        output.WriteLine($"tenant isolation (API): {checks} key × endpoint × other-company requests, all 403");
    }

    private Task<(int, int, int)> CountApiRowsAsync() => world.WithDbAsync(async db =>
        (await db.Vendors.CountAsync(), await db.Accounts.CountAsync(), await db.ExportJobs.CountAsync()));

    private sealed record Answer(int Status, string Text)
    {
        public override string ToString() => $"{Status}: {Text}";
    }

    private static async Task<Answer> AnswerAsync(HttpClient client, Route route, Guid id, string token)
    {
        var request = new HttpRequestMessage(new HttpMethod(route.Method), string.Format(System.Globalization.CultureInfo.InvariantCulture, route.Template, id));
        if (route.Method != "GET")
        {
            request.Content = new FormUrlEncodedContent([new("__RequestVerificationToken", token)]);
        }

        var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        // Compare what a person reads: the page's main text, with the id itself taken out.
        var main = MainText().Match(body) is { Success: true } m ? m.Groups[1].Value : body;
        var text = Whitespace().Replace(Tags().Replace(main, " "), " ").Replace(id.ToString(), "{id}", StringComparison.OrdinalIgnoreCase).Trim();
        return new Answer((int)response.StatusCode, text);
    }

    [GeneratedRegex("<main[^>]*>(.*)</main>", RegexOptions.Singleline)]
    private static partial Regex MainText();

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tags();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
