using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>The app with a per-key limit low enough to reach, and a client address a test can choose per request.</summary>
public class UsageFactory : PleoKeysFactory
{
    public const int RequestsPerMinute = 12;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["PleoKeys:RequestsPerMinute"] = RequestsPerMinute.ToString(CultureInfo.InvariantCulture),
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(s => s.AddSingleton<IStartupFilter, ClientAddressStartupFilter>());
    }
}

/// <summary>Reads what the usage recorder wrote, after making it flush the way production does: on its interval, on the app's clock.</summary>
public static class UsageKit
{
    public static readonly TimeSpan FlushInterval = new PleoKeysOptions().UsageFlushInterval;

    /// <summary>A call from a chosen client address, with the key as curl -u 'KEY:' sends it.</summary>
    public static Task<HttpResponseMessage> CallFromAsync(this HttpClient client, string address, string url, string key, HttpMethod? method = null, object? json = null)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, url);
        request.Headers.Add(ClientAddressStartupFilter.Header, address);
        request.Headers.Authorization = Clients.Basic(key);
        if (json is not null)
        {
            request.Content = System.Net.Http.Json.JsonContent.Create(json);
        }

        return client.SendAsync(request);
    }

    /// <summary>
    /// Moves the clock one flush interval on and waits (in real time) until the key's recorded requests reach
    /// <paramref name="expected"/>; fails after 10 seconds with what was there.
    /// </summary>
    public static async Task<List<KeyUsageHour>> FlushUntilAsync(this PleoKeysFactory factory, Guid keyRowId, long expected)
    {
        factory.Time.Advance(FlushInterval);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var seen = new List<string>();
        while (true)
        {
            var rows = await factory.WithDbAsync(db => db.KeyUsageHours.AsNoTracking().Where(u => u.ApiKeyId == keyRowId).ToListAsync());
            var total = rows.Sum(r => r.Requests);
            seen.Add($"{DateTime.UtcNow:ss.fff}:{total}");
            if (total == expected || DateTime.UtcNow > deadline)
            {
                Assert.True(expected == total, $"Expected {expected} requests recorded, found: " + string.Join(" ", seen.TakeLast(5)));
                return rows;
            }

            await Task.Delay(50);
        }
    }

    public static long Count(this IEnumerable<KeyUsageHour> rows, UsageOutcome outcome, string? endpoint = null) =>
        rows.Where(r => r.Outcome == outcome && (endpoint is null || r.Endpoint == endpoint)).Sum(r => r.Requests);
}

/// <summary>Issue 15, "Usage, recorded cheaply": counts land in the right hour, endpoint and outcome bucket after a flush; instances add up.</summary>
public sealed class UsageTests(UsageFactory factory) : IClassFixture<UsageFactory>
{
    [Fact]
    public async Task Calls_WithDifferentOutcomes_AppearInTheirBucketsAfterAFlush()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName("Counted"), scopes: [Scopes.VendorsRead]);
        var row = await factory.KeyRowAsync(key);
        var api = factory.NewClient();

        for (var i = 0; i < 3; i++)
        {
            await api.CallFromAsync("198.51.100.7", "/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);
        }

        await api.CallFromAsync("198.51.100.7", "/v1/installations/me", key).ExpectAsync(HttpStatusCode.OK);
        // No accounts scope: refused by authorization.
        await api.CallFromAsync("198.51.100.8", "/v1/accounts", key).ExpectAsync(HttpStatusCode.Forbidden);
        // A bad paging value: another client error.
        await api.CallFromAsync("198.51.100.7", "/v1/vendors?limit=abc", key).ExpectAsync(HttpStatusCode.BadRequest);
        // A path no endpoint serves.
        await api.CallFromAsync("198.51.100.7", "/v1/nowhere", key).ExpectAsync(HttpStatusCode.NotFound);
        // Past the per-key limit: the rate limiter's 429. It counted the calls authorization let through to an endpoint:
        // the three above, the installation and the bad paging value.
        var permitted = 5;
        while (permitted < UsageFactory.RequestsPerMinute)
        {
            await api.CallFromAsync("198.51.100.7", "/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);
            permitted++;
        }

        await api.CallFromAsync("198.51.100.7", "/v1/vendors", key).ExpectAsync(HttpStatusCode.TooManyRequests);

        var successes = 3 + (UsageFactory.RequestsPerMinute - 5);
        var rows = await factory.FlushUntilAsync(row.Id, successes + 5);

        Assert.Equal(successes, rows.Count(UsageOutcome.Success, "GET /v1/vendors"));
        Assert.Equal(1, rows.Count(UsageOutcome.Success, "GET /v1/installations/me"));
        Assert.Equal(1, rows.Count(UsageOutcome.Denied, "GET /v1/accounts"));
        Assert.Equal(1, rows.Count(UsageOutcome.ClientError, "GET /v1/vendors"));
        Assert.Equal(1, rows.Count(UsageOutcome.ClientError, "other"));
        Assert.Equal(1, rows.Count(UsageOutcome.RateLimited, "GET /v1/vendors"));
        Assert.All(rows.Where(r => r.Endpoint == "GET /v1/vendors"), r => Assert.Equal(("vendors", Scopes.VendorsRead), (r.EndpointGroup, r.Scope)));
        Assert.All(rows.Where(r => r.Endpoint == "GET /v1/accounts"), r => Assert.Equal(("accounts", Scopes.AccountsRead), (r.EndpointGroup, r.Scope)));
        Assert.All(rows.Where(r => r.Endpoint == "GET /v1/installations/me"), r => Assert.Equal(("installations", ""), (r.EndpointGroup, r.Scope)));
        var hour = new DateTime(PleoKeysFactory.Start.UtcTicks / TimeSpan.TicksPerHour * TimeSpan.TicksPerHour, DateTimeKind.Utc);
        Assert.All(rows, r => Assert.True(r.HourUtc >= hour && r.HourUtc.Ticks % TimeSpan.TicksPerHour == 0));

        var addresses = await factory.WithDbAsync(db => db.KeyUsageAddresses.AsNoTracking().Where(a => a.ApiKeyId == row.Id).OrderBy(a => a.Address).ToListAsync());
        // The call refused for a missing scope (403) counts as refused and leaves no address: it was not a use.
        Assert.Equal(["198.51.100.7"], addresses.Select(a => a.Address));
        Assert.Equal(successes + 4, addresses[0].Requests);
    }

    [Fact]
    public async Task WrongSecrets_AreNeverRecordedAsAKeysAddresses()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName("Guessed"));
        var row = await factory.KeyRowAsync(key);
        var api = factory.NewClient();

        await api.CallFromAsync("203.0.113.66", "/v1/vendors", TestKeys.WithWrongSecret(key)).ExpectAsync(HttpStatusCode.Unauthorized);
        await api.CallFromAsync("198.51.100.9", "/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);
        // Both calls are counted against the key (one refused, one let in); only the one let in leaves its address.
        await factory.FlushUntilAsync(row.Id, 2);

        var addresses = await factory.WithDbAsync(db => db.KeyUsageAddresses.AsNoTracking().Where(a => a.ApiKeyId == row.Id).Select(a => a.Address).ToListAsync());
        Assert.Equal(["198.51.100.9"], addresses);
    }

    [Fact]
    public async Task WrongSecret_IsCountedAsRefusedAgainstTheKeyItNamed()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName("Refused"));
        var row = await factory.KeyRowAsync(key);

        await factory.NewClient().CallFromAsync("203.0.113.67", "/v1/vendors", TestKeys.WithWrongSecret(key)).ExpectAsync(HttpStatusCode.Unauthorized);

        var rows = await factory.FlushUntilAsync(row.Id, 1);
        Assert.Equal(1, rows.Count(UsageOutcome.Denied, "GET /v1/vendors"));
    }

    [Fact]
    public async Task TwoInstances_OnOneDatabase_AddUp()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName("Two instances"));
        var row = await factory.KeyRowAsync(key);
        using var second = new UsageFactory { SharesDatabaseWith = factory };
        second.Time.SetUtcNow(factory.Time.GetUtcNow());

        for (var i = 0; i < 4; i++)
        {
            await factory.NewClient().CallFromAsync("198.51.100.20", "/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);
        }

        for (var i = 0; i < 5; i++)
        {
            await second.NewClient().CallFromAsync("198.51.100.21", "/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);
        }

        await second.FlushUntilAsync(row.Id, 5);
        var rows = await factory.FlushUntilAsync(row.Id, 9);

        // One row for the hour, endpoint and outcome: the second flush added to the first instance's.
        var only = Assert.Single(rows);
        Assert.Equal(9, only.Requests);
        var addresses = await factory.WithDbAsync(db => db.KeyUsageAddresses.AsNoTracking().Where(a => a.ApiKeyId == row.Id).OrderBy(a => a.Address).Select(a => a.Requests).ToListAsync());
        Assert.Equal([4, 5], addresses);
    }

    [Fact]
    public async Task RowsOlderThan90Days_ArePruned()
    {
        // Its own app: the first flush of an instance prunes (and then at most once an hour).
        using var factory = new UsageFactory();
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName("Pruned"), expiration: "365");
        var row = await factory.KeyRowAsync(key);
        var now = factory.Time.GetUtcNow().UtcDateTime;
        await factory.WithDbAsync(async db =>
        {
            db.KeyUsageHours.Add(new KeyUsageHour { ApiKeyId = row.Id, HourUtc = now.AddDays(-91), Endpoint = "GET /v1/vendors", EndpointGroup = "vendors", Scope = Scopes.VendorsRead, Requests = 5 });
            db.KeyUsageHours.Add(new KeyUsageHour { ApiKeyId = row.Id, HourUtc = now.AddDays(-89), Endpoint = "GET /v1/accounts", EndpointGroup = "accounts", Scope = Scopes.AccountsRead, Requests = 7 });
            db.KeyUsageAddresses.Add(new KeyUsageAddress { ApiKeyId = row.Id, Address = "192.0.2.1", FirstSeenUtc = now.AddDays(-95), LastSeenUtc = now.AddDays(-91), Requests = 5 });
            return await db.SaveChangesAsync();
        });

        await factory.NewClient().CallFromAsync("198.51.100.30", "/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);
        var rows = await factory.FlushUntilAsync(row.Id, 8);

        Assert.DoesNotContain(rows, r => r.Endpoint == "GET /v1/vendors" && r.Requests == 5);
        Assert.Contains(rows, r => r.Endpoint == "GET /v1/accounts" && r.Requests == 7);
        Assert.False(await factory.WithDbAsync(db => db.KeyUsageAddresses.AnyAsync(a => a.ApiKeyId == row.Id && a.Address == "192.0.2.1")));
    }
}
