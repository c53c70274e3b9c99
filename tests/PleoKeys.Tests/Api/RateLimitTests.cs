using System.Globalization;
using System.Net;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>The app with a per-key limit of 5 requests a minute, so the limit is reached in a test.</summary>
public sealed class FiveRequestsPerMinuteFactory : PleoKeysFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["PleoKeys:RequestsPerMinute"] = "5" };
}

/// <summary>Per-key rate limit: the answers say what is left, and the one over the limit is 429 with Retry-After.</summary>
public sealed class RateLimitTests : IClassFixture<FiveRequestsPerMinuteFactory>
{
    private const string Me = "/v1/installations/me";

    private readonly FiveRequestsPerMinuteFactory _factory;

    public RateLimitTests(FiveRequestsPerMinuteFactory factory) => _factory = factory;

    private async Task<string> KeyAsync(string name)
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        return await admin.CreateKeyAsync(name, scopes: [Scopes.VendorsRead]);
    }

    private static int IntHeader(HttpResponseMessage response, string name) =>
        int.Parse(response.Header(name) ?? throw new Xunit.Sdk.XunitException($"no {name} header"), CultureInfo.InvariantCulture);

    [Fact]
    public async Task SixthRequestInAMinute_Returns429WithRetryAfter_AndHeadersCountDown()
    {
        var key = await KeyAsync("Chatty integration");
        var client = _factory.NewClient();

        var remaining = new List<int>();
        for (var i = 0; i < 5; i++)
        {
            var ok = await client.ApiSendAsync(HttpMethod.Get, Me, key).ExpectAsync(HttpStatusCode.OK);
            Assert.Equal(5, IntHeader(ok, "RateLimit-Limit"));
            var reset = IntHeader(ok, "RateLimit-Reset");
            Assert.InRange(reset, 1, 60);
            remaining.Add(IntHeader(ok, "RateLimit-Remaining"));
        }

        var limited = await client.ApiSendAsync(HttpMethod.Get, Me, key).ExpectAsync(HttpStatusCode.TooManyRequests);

        Assert.Equal([4, 3, 2, 1, 0], remaining);
        var retryAfter = limited.Headers.RetryAfter?.Delta ?? throw new Xunit.Sdk.XunitException("no Retry-After");
        Assert.InRange(retryAfter.TotalSeconds, 1, 60);
        Assert.Equal(0, IntHeader(limited, "RateLimit-Remaining"));
        var problem = await limited.ReadProblemAsync();
        Assert.Equal(429, problem.Status);
        Assert.Contains("more than 5 requests in a minute", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Limit_IsPerKey()
    {
        var busy = await KeyAsync("Busy");
        var quiet = await KeyAsync("Quiet");
        var client = _factory.NewClient();
        for (var i = 0; i < 5; i++)
        {
            await client.ApiSendAsync(HttpMethod.Get, Me, busy).ExpectAsync(HttpStatusCode.OK);
        }

        await client.ApiSendAsync(HttpMethod.Get, Me, busy).ExpectAsync(HttpStatusCode.TooManyRequests);
        var other = await client.ApiSendAsync(HttpMethod.Get, Me, quiet).ExpectAsync(HttpStatusCode.OK);

        Assert.Equal(4, IntHeader(other, "RateLimit-Remaining"));
    }

    [Fact]
    public async Task Limit_CountsEveryEndpointOfTheKey()
    {
        var key = await KeyAsync("Mixed calls");
        var client = _factory.NewClient();
        string[] paths = [Me, "/v1/vendors", Me, "/v1/vendors", "/v1/vendors?limit=1"];
        foreach (var path in paths)
        {
            await client.ApiSendAsync(HttpMethod.Get, path, key).ExpectAsync(HttpStatusCode.OK);
        }

        await client.ApiSendAsync(HttpMethod.Get, "/v1/vendors", key).ExpectAsync(HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task AnswersWithoutAValidKey_CarryNoRateLimitHeaders()
    {
        var response = await _factory.NewClient().ApiSendAsync(HttpMethod.Get, Me, TestKeys.Unknown()).ExpectAsync(HttpStatusCode.Unauthorized);

        Assert.Null(response.Header("RateLimit-Limit"));
    }
}
