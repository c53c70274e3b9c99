using System.Net;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests;

/// <summary>The app on PostgreSQL whatever PLEOKEYS_TEST_PROVIDER says: the tests here are about PostgreSQL only.</summary>
public sealed class PostgresFactory : PleoKeysFactory
{
    public override DatabaseProvider Provider => DatabaseProvider.Postgres;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Database:RevocationPollSeconds"] = PollSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public const int PollSeconds = 5;
}

/// <summary>
/// The fallback for a lost NOTIFY: a key deleted without any notice (here straight in the database) stops
/// working once the poll interval has passed, although this instance had it cached as valid.
/// </summary>
[Trait("Category", TestDatabase.PostgresOnly)]
public sealed class KeyChangePollerTests(PostgresFactory factory) : IClassFixture<PostgresFactory>
{
    [PostgresFact]
    public async Task DeletedWithoutNotice_IsRefusedWithinOnePollInterval()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await client.CreateKeyAsync("Deleted behind the app's back");
        var api = factory.NewClient();
        Assert.Equal(HttpStatusCode.OK, (await api.ApiGetAsync("/v1/installations/me", key)).StatusCode);

        var keyId = KeyIdOf(key);
        var now = factory.Time.GetUtcNow().UtcDateTime;
        await factory.WithDbAsync(db => db.ApiKeys.Where(k => k.KeyId == keyId)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.DeletedAtUtc, now)));
        // Nobody told the verifier: its cache still says valid.
        Assert.Equal(HttpStatusCode.OK, (await api.ApiGetAsync("/v1/installations/me", key)).StatusCode);

        var waited = TimeSpan.Zero;
        var status = HttpStatusCode.OK;
        while (status == HttpStatusCode.OK && waited < TimeSpan.FromSeconds(3 * PostgresFactory.PollSeconds))
        {
            factory.Time.Advance(TimeSpan.FromSeconds(1));
            waited += TimeSpan.FromSeconds(1);
            // The poll itself runs on the thread pool against the real database: give it a moment.
            for (var i = 0; i < 20 && status == HttpStatusCode.OK; i++)
            {
                await Task.Delay(25);
                status = (await api.ApiGetAsync("/v1/installations/me", key)).StatusCode;
            }
        }

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.True(waited <= TimeSpan.FromSeconds(PostgresFactory.PollSeconds + 1), $"Refused only after {waited} of clock time.");
    }

    private static string KeyIdOf(string key) =>
        ApiKeyFormat.TryParse(key, out var parsed) == KeyFormatError.None ? parsed!.KeyId : throw new InvalidOperationException("Not a key.");
}
