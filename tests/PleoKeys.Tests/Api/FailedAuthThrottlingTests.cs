using System.Net;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>Failed authentications are limited per failing client; wrong secrets sent by others never lock a key's owner out.</summary>
public sealed class FailedAuthThrottlingTests : IClassFixture<ThrottlingFactory>
{
    private const string Me = "/v1/installations/me";

    private readonly ThrottlingFactory _factory;

    public FailedAuthThrottlingTests(ThrottlingFactory factory) => _factory = factory;

    private Task<HttpResponseMessage> CallAsync(string from, string key) =>
        _factory.ClientFrom(from).ApiGetAsync(Me, key);

    private async Task<string> KeyAsync(string name)
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        return await admin.CreateKeyAsync(name, scopes: [Scopes.VendorsRead]);
    }

    private static void AssertRetryAfter(HttpResponseMessage response)
    {
        var retry = response.Headers.RetryAfter?.Delta ?? throw new Xunit.Sdk.XunitException("no Retry-After");
        Assert.InRange(retry.TotalSeconds, 1, 60);
    }

    [Fact]
    public async Task WrongSecretsForOneKeyId_FromManyClients_Get401_AndTheOwnerStillGets200()
    {
        var key = await KeyAsync("Attacked key");
        await CallAsync("10.1.0.1", key).ExpectAsync(HttpStatusCode.OK);
        var verifies = _factory.Hasher.Verifies;

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3 * ThrottlingFactory.FailuresPerKey; i++)
        {
            // Each attempt from its own address and with its own secret: no failing client is over its budget.
            statuses.Add((await CallAsync($"10.1.1.{i + 1}", TestKeys.WithWrongSecret(key, i))).StatusCode);
        }

        // Issue 13.4: failures are the failing clients' to pay; the key id's count only feeds the audit trail.
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        // The key has a digest: a wrong secret is told apart by one HMAC, never a BCrypt verify.
        Assert.Equal(verifies, _factory.Hasher.Verifies);
        await CallAsync("10.1.0.1", key).ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task GarbageFromOneClient_Gets429AfterTheClientBudget_OtherClientsUnaffected()
    {
        var key = await KeyAsync("Innocent key");
        const string attacker = "10.2.0.66";

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < ThrottlingFactory.FailuresPerClient + 2; i++)
        {
            // Unknown key ids: a fresh one each time, so only the client's budget applies.
            statuses.Add((await CallAsync(attacker, TestKeys.Unknown())).StatusCode);
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, ThrottlingFactory.FailuresPerClient), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 2)], statuses);
        var limited = await CallAsync(attacker, "not-even-a-key");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        AssertRetryAfter(limited);
        Assert.Contains("Too many failed authentication attempts", (await limited.ReadProblemAsync()).Detail, StringComparison.Ordinal);

        await CallAsync("10.2.0.1", TestKeys.Unknown()).ExpectAsync(HttpStatusCode.Unauthorized);
        await CallAsync("10.2.0.2", key).ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ThrottledClient_WithAnAlreadyVerifiedKey_StillGetsIn()
    {
        var key = await KeyAsync("Own key");
        const string client = "10.3.0.5";
        await CallAsync(client, key).ExpectAsync(HttpStatusCode.OK);
        for (var i = 0; i < ThrottlingFactory.FailuresPerClient + 1; i++)
        {
            await CallAsync(client, "garbage");
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await CallAsync(client, "garbage")).StatusCode);
        await CallAsync(client, key).ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ThrottledClient_WhoseKeyWasJustActivated_StillGetsIn()
    {
        // Activation changes the key's state, so the next request re-reads it instead of using the cache;
        // a client over its failure budget must not be refused for that.
        var key = await KeyAsync("Activated key");
        const string client = "10.3.0.6";
        await CallAsync(client, key).ExpectAsync(HttpStatusCode.OK);
        for (var i = 0; i < ThrottlingFactory.FailuresPerClient + 1; i++)
        {
            await CallAsync(client, TestKeys.Unknown());
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await CallAsync(client, TestKeys.Unknown())).StatusCode);
        await _factory.ClientFrom(client).SendRawAsync(HttpMethod.Post, Me, Clients.Basic(key).ToString()).ExpectAsync(HttpStatusCode.OK);
        await CallAsync(client, key).ExpectAsync(HttpStatusCode.OK);
    }
}

public sealed class TarpitTests(TarpitFactory factory) : IClassFixture<TarpitFactory>
{
    private Task<HttpResponseMessage> Call(string from, string credential) =>
        factory.ClientFrom(from).ApiGetAsync("/v1/installations/me", credential);

    [Fact]
    public async Task ClientGuessingSecretsOfARealKey_WaitsForItsRefusal_OthersDoNot()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync("Key beside the tarpit", scopes: [Scopes.VendorsRead]);
        await Call("10.9.0.1", key).ExpectAsync(HttpStatusCode.OK);

        const string attacker = "10.9.0.66";
        await Call(attacker, TestKeys.WithWrongSecret(key, 0)).ExpectAsync(HttpStatusCode.Unauthorized);
        await Call(attacker, TestKeys.WithWrongSecret(key, 1)).ExpectAsync(HttpStatusCode.Unauthorized);

        var refused = Call(attacker, TestKeys.WithWrongSecret(key, 2));
        // Other clients, and the attacker's address with a verified key, are answered while it waits.
        await Call("10.9.0.1", key).ExpectAsync(HttpStatusCode.OK);
        await Call("10.9.0.2", TestKeys.Unknown()).ExpectAsync(HttpStatusCode.Unauthorized);
        await Call(attacker, key).ExpectAsync(HttpStatusCode.OK);
        await Task.Delay(50);
        Assert.False(refused.IsCompleted);

        factory.Time.Advance(TimeSpan.FromSeconds(1));
        var response = await refused.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(60), response.Headers.RetryAfter?.Delta);
        var problem = await response.ReadProblemAsync();
        Assert.Equal(429, problem.Status);
        Assert.Equal("Too many failed attempts", problem.Title);
    }

    [Fact]
    public async Task ClientSendingOnlyGarbage_IsRefusedAtOnce()
    {
        // Typos and misconfigured integrations are throttled, but not made to wait.
        const string client = "10.9.1.7";
        await Call(client, TestKeys.Unknown()).ExpectAsync(HttpStatusCode.Unauthorized);
        await Call(client, "not-a-key").ExpectAsync(HttpStatusCode.Unauthorized);

        var response = await Call(client, TestKeys.Unknown()).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("Too many failed attempts", (await response.ReadProblemAsync()).Title);
    }
}
