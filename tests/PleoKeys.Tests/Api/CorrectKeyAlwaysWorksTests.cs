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
}
