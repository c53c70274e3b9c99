using System.Net;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>Low failure budgets (3 a minute per key id, 5 per client address) and settable client addresses.</summary>
public sealed class LowFailureBudgetFactory : ClientAddressFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["PleoKeys:FailedAuthPerMinutePerKey"] = "3",
        ["PleoKeys:FailedAuthPerMinutePerClient"] = "5",
    };
}

/// <summary>Failed authentications are limited per key id and per client, so nobody can pin the CPU on BCrypt.</summary>
public sealed class FailedAuthThrottlingTests : IClassFixture<LowFailureBudgetFactory>
{
    private const string Me = "/v1/installations/me";

    private readonly LowFailureBudgetFactory _factory;

    public FailedAuthThrottlingTests(LowFailureBudgetFactory factory) => _factory = factory;

    private Task<HttpResponseMessage> CallAsync(string from, string key) =>
        _factory.NewClient().SendAsync(ClientAddressFactory.From(from, HttpMethod.Get, Me, Clients.Basic(key).ToString()));

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
    public async Task WrongSecretsForOneKeyId_FromManyClients_Get429AfterTheKeyBudget()
    {
        var key = await KeyAsync("Attacked key");
        await CallAsync("10.1.0.1", key).ExpectAsync(HttpStatusCode.OK);
        var verifies = _factory.Hasher.Verifies;

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            // Each attempt from its own address and with its own secret, so only the key id's budget applies.
            var response = await CallAsync($"10.1.1.{i + 1}", TestKeys.WithWrongSecret(key, i));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                AssertRetryAfter(response);
                Assert.Equal(429, (await response.ReadProblemAsync()).Status);
            }
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 3), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 3)], statuses);
        // Over budget no BCrypt is spent: three wrong secrets cost three verifies, the throttled ones none.
        Assert.Equal(verifies + 3, _factory.Hasher.Verifies);
        // The real key, already verified, keeps working while its key id is under attack.
        await CallAsync("10.1.0.1", key).ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task GarbageFromOneClient_Gets429AfterTheClientBudget_OtherClientsUnaffected()
    {
        var key = await KeyAsync("Innocent key");
        const string attacker = "10.2.0.66";

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 7; i++)
        {
            // Unknown key ids: a fresh one each time, so only the client's budget applies.
            statuses.Add((await CallAsync(attacker, TestKeys.Unknown())).StatusCode);
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.Unauthorized, 5), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 2)], statuses);
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
        for (var i = 0; i < 6; i++)
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
        for (var i = 0; i < 6; i++)
        {
            await CallAsync(client, TestKeys.Unknown());
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await CallAsync(client, TestKeys.Unknown())).StatusCode);
        var activate = ClientAddressFactory.From(client, HttpMethod.Post, Me, Clients.Basic(key).ToString());
        await _factory.NewClient().SendAsync(activate).ExpectAsync(HttpStatusCode.OK);
        await CallAsync(client, key).ExpectAsync(HttpStatusCode.OK);
    }
}

/// <summary>Low failure budgets and the tarpit on (one second, on the factory's fake clock).</summary>
public sealed class TarpitFactory : ClientAddressFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["PleoKeys:FailedAuthPerMinutePerClient"] = "2",
        ["PleoKeys:ThrottledResponseDelay"] = "00:00:01",
    };
}

public sealed class TarpitTests(TarpitFactory factory) : IClassFixture<TarpitFactory>
{
    private Task<HttpResponseMessage> Call(string from, string credential) =>
        factory.NewClient().SendAsync(ClientAddressFactory.From(from, HttpMethod.Get, "/v1/installations/me", Clients.Basic(credential).ToString()));

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
