using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>Lists page with offset and limit; writes validate their input and persist.</summary>
public sealed class ApiWritesAndPagingTests : IClassFixture<PleoKeysFactory>
{
    private static readonly string[] Everything = Scopes.All.Select(s => s.Value).ToArray();

    private readonly PleoKeysFactory _factory;

    public ApiWritesAndPagingTests(PleoKeysFactory factory) => _factory = factory;

    private async Task<string> KeyAsync(string accessLevel = "Company")
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        return await admin.CreateKeyAsync("Writer", accessLevel: accessLevel, scopes: Everything);
    }

    private static List<Guid> Ids(JsonElement page) =>
        page.GetProperty("data").EnumerateArray().Select(e => e.GetProperty("id").GetGuid()).ToList();

    private static (int Offset, int Limit, int Total) Pagination(JsonElement page)
    {
        var p = page.GetProperty("pagination");
        return (p.GetProperty("offset").GetInt32(), p.GetProperty("limit").GetInt32(), p.GetProperty("total").GetInt32());
    }

    // ---- Paging ----

    [Fact]
    public async Task List_WithoutPaging_UsesOffset0Limit50AndSaysTheTotal()
    {
        var key = await KeyAsync();
        var total = await _factory.WithDbAsync(db => db.Employees.CountAsync(e => e.CompanyId == DemoData.NordicCoffeeApSId));

        var page = await (await _factory.NewClient().ApiSendAsync(HttpMethod.Get, "/v1/employees", key).ExpectAsync(HttpStatusCode.OK)).ReadJsonAsync();

        Assert.Equal((0, 50, total), Pagination(page));
        Assert.Equal(total, Ids(page).Count);
    }

    [Fact]
    public async Task List_WithOffsetAndLimit_ReturnsThatSliceOfTheFullList()
    {
        var key = await KeyAsync();
        var client = _factory.NewClient();
        var all = Ids(await (await client.ApiSendAsync(HttpMethod.Get, "/v1/accounts?limit=100", key).ExpectAsync(HttpStatusCode.OK)).ReadJsonAsync());
        Assert.True(all.Count >= 4, "the demo data has several accounts");

        var page = await (await client.ApiSendAsync(HttpMethod.Get, "/v1/accounts?offset=1&limit=2", key).ExpectAsync(HttpStatusCode.OK)).ReadJsonAsync();

        Assert.Equal(all.Skip(1).Take(2), Ids(page));
        Assert.Equal((1, 2, all.Count), Pagination(page));
    }

    [Fact]
    public async Task List_OffsetPastTheEnd_ReturnsNoItemsAndTheTotal()
    {
        var key = await KeyAsync();

        var page = await (await _factory.NewClient().ApiSendAsync(HttpMethod.Get, "/v1/vendors?offset=100000", key).ExpectAsync(HttpStatusCode.OK)).ReadJsonAsync();

        Assert.Empty(Ids(page));
        Assert.True(Pagination(page).Total > 0);
    }

    [Fact]
    public async Task List_LimitIsAtMost100_AndPagesCoverEveryItemOnce()
    {
        // 130 vendors in Nordic Coffee AB, reached with an organisation key.
        await _factory.WithDbAsync(async db =>
        {
            for (var i = 0; i < 130; i++)
            {
                db.Vendors.Add(new Vendor { Id = Guid.NewGuid(), CompanyId = DemoData.NordicCoffeeAbId, Name = $"Bulk vendor {i:D3}", CreatedAtUtc = DateTime.UtcNow });
            }

            return await db.SaveChangesAsync();
        });
        var expected = await _factory.WithDbAsync(db => db.Vendors.CountAsync(v => v.CompanyId == DemoData.NordicCoffeeAbId));
        var key = await KeyAsync("Organisation");
        var client = _factory.NewClient();
        var url = $"/v1/vendors?company_id={DemoData.NordicCoffeeAbId}";

        var first = await (await client.ApiSendAsync(HttpMethod.Get, url + "&limit=100", key).ExpectAsync(HttpStatusCode.OK)).ReadJsonAsync();
        var second = await (await client.ApiSendAsync(HttpMethod.Get, url + "&limit=100&offset=100", key).ExpectAsync(HttpStatusCode.OK)).ReadJsonAsync();
        var byDefault = await (await client.ApiSendAsync(HttpMethod.Get, url, key).ExpectAsync(HttpStatusCode.OK)).ReadJsonAsync();

        Assert.Equal(100, Ids(first).Count);
        Assert.Equal(expected - 100, Ids(second).Count);
        Assert.Equal(expected, Ids(first).Concat(Ids(second)).Distinct().Count());
        Assert.Equal(expected, Pagination(first).Total);
        Assert.Equal(50, Ids(byDefault).Count);
    }

    [Theory]
    [InlineData("limit=101", "Invalid limit")]
    [InlineData("limit=0", "Invalid limit")]
    [InlineData("limit=-1", "Invalid limit")]
    [InlineData("limit=ten", "Invalid limit")]
    [InlineData("limit=99999999999999999999", "Invalid limit")]
    [InlineData("limit=1.5", "Invalid limit")]
    [InlineData("offset=-1", "Invalid offset")]
    [InlineData("offset=abc", "Invalid offset")]
    [InlineData("offset=99999999999999999999", "Invalid offset")]
    [InlineData("offset=+1", "Invalid offset")]
    public async Task List_WithBadPaging_Returns400(string query, string title)
    {
        var key = await KeyAsync();

        foreach (var path in new[] { "/v1/companies", "/v1/employees", "/v1/vendors", "/v1/accounts", "/v2/export-jobs" })
        {
            var response = await _factory.NewClient().ApiSendAsync(HttpMethod.Get, $"{path}?{query}", key);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = await response.ReadProblemAsync();
            Assert.Equal(title, problem.Title);
        }
    }

    // ---- Writes ----

    [Fact]
    public async Task CreateVendor_Valid_Returns201AndIsListed()
    {
        var key = await KeyAsync();
        var client = _factory.NewClient();

        var response = await client.ApiPostAsync("/v1/vendors", key, new { name = "  Kaffebønner ApS  ", country = "DK", taxRegistrationNumber = "DK12345678" })
            .ExpectAsync(HttpStatusCode.Created);

        var created = await response.ReadJsonAsync();
        var id = created.GetProperty("id").GetGuid();
        Assert.Equal($"/v1/vendors/{id}", response.Headers.Location?.ToString());
        Assert.Equal("Kaffebønner ApS", created.GetProperty("name").GetString());
        Assert.Equal(DemoData.NordicCoffeeApSId, created.GetProperty("companyId").GetGuid());
        var list = await (await client.ApiSendAsync(HttpMethod.Get, "/v1/vendors?limit=100", key).ExpectAsync(HttpStatusCode.OK)).ReadJsonAsync();
        var listed = Assert.Single(list.GetProperty("data").EnumerateArray(), v => v.GetProperty("id").GetGuid() == id);
        Assert.Equal("DK12345678", listed.GetProperty("taxRegistrationNumber").GetString());
        var row = await _factory.WithDbAsync(db => db.Vendors.SingleAsync(v => v.Id == id));
        Assert.Equal(("Kaffebønner ApS", "DK", DemoData.NordicCoffeeApSId), (row.Name, row.Country, row.CompanyId));
    }

    [Fact]
    public async Task CreateVendor_Invalid_Returns400WithAnErrorPerFieldAndSavesNothing()
    {
        var key = await KeyAsync();
        var before = await _factory.WithDbAsync(db => db.Vendors.CountAsync());

        var response = await _factory.NewClient().ApiPostAsync("/v1/vendors", key,
            new { name = "", country = "Denmark", taxRegistrationNumber = new string('9', 51) }).ExpectAsync(HttpStatusCode.BadRequest);

        var problem = await response.ReadProblemAsync();
        Assert.Equal(["country", "name", "taxRegistrationNumber"], problem.Errors.Keys.Order(StringComparer.Ordinal));
        Assert.All(problem.Errors.Values, messages => Assert.NotEmpty(messages[0]));
        Assert.Equal(before, await _factory.WithDbAsync(db => db.Vendors.CountAsync()));
    }

    [Fact]
    public async Task CreateAccount_Valid_Returns201AndPersists()
    {
        var key = await KeyAsync();
        var client = _factory.NewClient();

        var response = await client.ApiPostAsync("/v1/accounts", key, new { code = "6150", name = "Coffee tasting", type = "EXPENSE" })
            .ExpectAsync(HttpStatusCode.Created);

        var id = (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
        var list = await (await client.ApiSendAsync(HttpMethod.Get, "/v1/accounts?limit=100", key).ExpectAsync(HttpStatusCode.OK)).ReadJsonAsync();
        Assert.Contains(id, Ids(list));
        var row = await _factory.WithDbAsync(db => db.Accounts.SingleAsync(a => a.Id == id));
        Assert.Equal(("6150", "Coffee tasting", "EXPENSE"), (row.Code, row.Name, row.Type));
    }

    [Fact]
    public async Task CreateAccount_Invalid_Returns400PerField()
    {
        var key = await KeyAsync();

        var response = await _factory.NewClient().ApiPostAsync("/v1/accounts", key, new { code = "", name = " ", type = "PROFIT" })
            .ExpectAsync(HttpStatusCode.BadRequest);

        Assert.Equal(["code", "name", "type"], (await response.ReadProblemAsync()).Errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task CreateAccount_DuplicateCode_Returns400OnCode()
    {
        var key = await KeyAsync();
        var client = _factory.NewClient();
        await client.ApiPostAsync("/v1/accounts", key, new { code = "6160", name = "First", type = "EXPENSE" }).ExpectAsync(HttpStatusCode.Created);

        var response = await client.ApiPostAsync("/v1/accounts", key, new { code = "6160", name = "Second", type = "EXPENSE" }).ExpectAsync(HttpStatusCode.BadRequest);

        var problem = await response.ReadProblemAsync();
        Assert.Contains("already exists", Assert.Single(problem.Errors["code"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateExportJob_Valid_Returns201Pending()
    {
        var key = await KeyAsync();
        var client = _factory.NewClient();

        var response = await client.ApiPostAsync("/v2/export-jobs", key, new { periodFrom = "2026-10-01T00:00:00Z", periodTo = "2026-11-01T00:00:00Z" })
            .ExpectAsync(HttpStatusCode.Created);

        var created = await response.ReadJsonAsync();
        Assert.Equal("PENDING", created.GetProperty("status").GetString());
        var id = created.GetProperty("id").GetGuid();
        var list = await (await client.ApiSendAsync(HttpMethod.Get, "/v2/export-jobs?limit=100", key).ExpectAsync(HttpStatusCode.OK)).ReadJsonAsync();
        Assert.Contains(id, Ids(list));
        var row = await _factory.WithDbAsync(db => db.ExportJobs.SingleAsync(j => j.Id == id));
        Assert.Equal(new DateTime(2026, 10, 1, 0, 0, 0, DateTimeKind.Utc), row.PeriodFrom);
    }

    [Fact]
    public async Task CreateExportJob_PeriodBackwards_Returns400OnPeriodTo()
    {
        var key = await KeyAsync();

        var response = await _factory.NewClient().ApiPostAsync("/v2/export-jobs", key, new { periodFrom = "2026-11-01T00:00:00Z", periodTo = "2026-10-01T00:00:00Z" })
            .ExpectAsync(HttpStatusCode.BadRequest);

        Assert.Equal(["periodTo"], (await response.ReadProblemAsync()).Errors.Keys);
    }

    [Fact]
    public async Task CreateExportJob_MissingPeriod_Returns400OnBothFields()
    {
        var key = await KeyAsync();

        var response = await _factory.NewClient().ApiPostAsync("/v2/export-jobs", key, new { }).ExpectAsync(HttpStatusCode.BadRequest);

        Assert.Equal(["periodFrom", "periodTo"], (await response.ReadProblemAsync()).Errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task OrganisationKey_WritesToTheNamedEntity()
    {
        var key = await KeyAsync("Organisation");

        var response = await _factory.NewClient().ApiPostAsync($"/v1/vendors?company_id={DemoData.NordicCoffeeAbId}", key, new { name = "Svenska Bönor AB", country = "SE" })
            .ExpectAsync(HttpStatusCode.Created);

        var id = (await response.ReadJsonAsync()).GetProperty("id").GetGuid();
        Assert.Equal(DemoData.NordicCoffeeAbId, await _factory.WithDbAsync(db => db.Vendors.Where(v => v.Id == id).Select(v => v.CompanyId).SingleAsync()));
    }

    [Theory]
    [InlineData("/v1/vendors", "{not json")]
    [InlineData("/v1/vendors", "")]
    [InlineData("/v1/vendors", "[]")]
    [InlineData("/v1/vendors", "{\"name\": 42}")]
    [InlineData("/v1/accounts", "{\"code\": {\"nested\": true}}")]
    [InlineData("/v2/export-jobs", "{\"periodFrom\": \"yesterday\"}")]
    [InlineData("/v2/export-jobs", "null")]
    public async Task Write_WithUnreadableBody_Returns400NotServerError(string path, string body)
    {
        var key = await KeyAsync();
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = Clients.Basic(key);

        var response = await _factory.NewClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Write_WithWrongContentType_Returns415OrBadRequestNotServerError()
    {
        var key = await KeyAsync();
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/vendors") { Content = new StringContent("name=x", Encoding.UTF8, "application/x-www-form-urlencoded") };
        request.Headers.Authorization = Clients.Basic(key);

        var response = await _factory.NewClient().SendAsync(request);

        Assert.True(response.StatusCode is HttpStatusCode.UnsupportedMediaType or HttpStatusCode.BadRequest, $"answered {(int)response.StatusCode}");
    }

    // ---- Installation ----

    [Fact]
    public async Task ActivateInstallation_IsIdempotent()
    {
        var key = await KeyAsync();
        var client = _factory.NewClient();
        var before = await (await client.ApiSendAsync(HttpMethod.Get, "/v1/installations/me", key).ExpectAsync(HttpStatusCode.OK)).ReadJsonAsync();

        _factory.Time.Advance(TimeSpan.FromMinutes(5));
        var first = await (await client.ApiSendAsync(HttpMethod.Post, "/v1/installations/me", key).ExpectAsync(HttpStatusCode.OK)).ReadJsonAsync();
        var activatedAt = (await _factory.KeyRowAsync(key)).InstallationActivatedAtUtc;
        _factory.Time.Advance(TimeSpan.FromMinutes(5));
        var second = await (await client.ApiSendAsync(HttpMethod.Post, "/v1/installations/me", key).ExpectAsync(HttpStatusCode.OK)).ReadJsonAsync();
        var after = await (await client.ApiSendAsync(HttpMethod.Get, "/v1/installations/me", key).ExpectAsync(HttpStatusCode.OK)).ReadJsonAsync();

        Assert.Equal(before.GetProperty("id").GetGuid(), first.GetProperty("id").GetGuid());
        Assert.Equal(first.GetRawText(), second.GetRawText());
        Assert.Equal(first.GetRawText(), after.GetRawText());
        Assert.Equal("ACTIVATED", second.GetProperty("status").GetString());
        Assert.NotNull(activatedAt);
        Assert.Equal(activatedAt, (await _factory.KeyRowAsync(key)).InstallationActivatedAtUtc);
        Assert.Equal(activatedAt, first.GetProperty("updatedAt").GetDateTime().ToUniversalTime());
    }
}
