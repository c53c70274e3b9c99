using System.Net;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>
/// Issue 13.4: a correct secret is accepted however many wrong secrets others sent for its key id; the budgets
/// for failures apply to the clients that fail. The measured case was an instance whose cache was cold.
/// </summary>
public sealed class CorrectKeyAlwaysWorksTests(ThrottlingFactory factory) : IClassFixture<ThrottlingFactory>
{
    private const string Me = "/v1/installations/me";

    [Fact]
    public async Task TwentyWrongSecretsFromOneAddress_ThenTheOwnersFirstCallOnAColdInstance_Gets200()
    {
        var key = await factory.NewAdminKeyAsync("Owner on a cold instance");
        // Another instance on the same database, which has never seen the key.
        await using var cold = new ThrottlingFactory { SharesDatabaseWith = factory };
        const string attacker = "10.13.4.66";

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 20; i++)
        {
            answers.Add((await cold.ApiGetFromAsync(attacker, Me, TestKeys.WithWrongSecret(key, i))).StatusCode);
        }

        await cold.ApiGetFromAsync("10.13.4.1", Me, key).ExpectAsync(HttpStatusCode.OK);
        // The guessing client paid for its failures: 401 while within its budget, 429 after.
        Assert.Equal(
            [.. Enumerable.Repeat(HttpStatusCode.Unauthorized, ThrottlingFactory.FailuresPerClient),
             .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 20 - ThrottlingFactory.FailuresPerClient)],
            answers);
    }

    [Fact]
    public async Task WrongSecretClient_IsThrottledAfterItsBudget_WhileTheOwnerIsNot()
    {
        var key = await factory.NewAdminKeyAsync("Owner beside a guesser");
        const string attacker = "10.13.5.66";
        const string owner = "10.13.5.1";

        for (var i = 0; i < ThrottlingFactory.FailuresPerClient; i++)
        {
            await factory.ApiGetFromAsync(attacker, Me, TestKeys.WithWrongSecret(key, i)).ExpectAsync(HttpStatusCode.Unauthorized);
            // Interleaved, as an integration keeps calling while someone guesses.
            await factory.ApiGetFromAsync(owner, Me, key).ExpectAsync(HttpStatusCode.OK);
        }

        var throttled = await factory.ApiGetFromAsync(attacker, Me, TestKeys.WithWrongSecret(key, 31)).ExpectAsync(HttpStatusCode.TooManyRequests);
        Assert.NotNull(throttled.Headers.RetryAfter?.Delta);
        for (var i = 0; i < 3; i++)
        {
            await factory.ApiGetFromAsync(owner, Me, key).ExpectAsync(HttpStatusCode.OK);
            await factory.ApiGetFromAsync(owner, "/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task ClientOverItsBudget_StillGetsInWithItsCorrectKey_OnAnInstanceThatHasNotSeenTheKey()
    {
        // The attack's case: after a restart, an address spends its budget on garbage, then calls with its own key.
        var key = await factory.NewAdminKeyAsync("Own key after garbage");
        await using var cold = new ThrottlingFactory { SharesDatabaseWith = factory };
        const string client = "10.13.6.9";
        for (var i = 0; i < ThrottlingFactory.FailuresPerClient; i++)
        {
            await cold.ApiGetFromAsync(client, Me, "garbage" + i).ExpectAsync(HttpStatusCode.Unauthorized);
        }

        await cold.ApiGetFromAsync(client, Me, "garbage").ExpectAsync(HttpStatusCode.TooManyRequests);
        await cold.ApiGetFromAsync(client, Me, key).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(0, cold.Hasher.Verifies);
    }

    [Theory]
    [InlineData("2001:db8:7::50", "2001:db8:7::51")]
    [InlineData("198.51.100.50", "::ffff:198.51.100.50")]
    public async Task OneClient_UnderOtherAddressesOfItsOwn_SharesOneBudget(string first, string second)
    {
        // An IPv6 host may use any address of its /64, and an IPv4 address may arrive IPv4-mapped: one budget each.
        var key = await factory.NewAdminKeyAsync("Guessed from one network");
        for (var i = 0; i < ThrottlingFactory.FailuresPerClient; i++)
        {
            await factory.ApiGetFromAsync(first, Me, TestKeys.WithWrongSecret(key, i)).ExpectAsync(HttpStatusCode.Unauthorized);
        }

        await factory.ApiGetFromAsync(second, Me, TestKeys.WithWrongSecret(key, 30)).ExpectAsync(HttpStatusCode.TooManyRequests);
        await factory.ApiGetFromAsync("2001:db8:8::1", Me, TestKeys.WithWrongSecret(key, 31)).ExpectAsync(HttpStatusCode.Unauthorized);
    }
}
