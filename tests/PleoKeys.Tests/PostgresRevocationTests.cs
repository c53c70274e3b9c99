using System.Globalization;
using System.Net;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests;

/// <summary>The app on PostgreSQL whatever PLEOKEYS_TEST_PROVIDER says: the tests using it are about PostgreSQL only.</summary>
public class PostgresFactory : PleoKeysFactory
{
    public override DatabaseProvider Provider => DatabaseProvider.Postgres;

    public virtual int PollSeconds => 5;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Database:KeyChangePollInterval"] = TimeSpan.FromSeconds(PollSeconds).ToString("c", CultureInfo.InvariantCulture),
    };
}

/// <summary>PostgreSQL with the polling fallback out of the way (once an hour), so only the listener can revoke.</summary>
public sealed class ListenerOnlyPostgresFactory : PostgresFactory
{
    public override int PollSeconds => 3600;
}

/// <summary>Marks a key deleted straight in the database: a change no instance is told about.</summary>
internal static class SilentDelete
{
    public static async Task DeleteBehindTheAppsBackAsync(this PleoKeysFactory factory, string key)
    {
        var keyId = ApiKeyFormat.TryParse(key, out var parsed) == KeyFormatError.None ? parsed!.KeyId : throw new InvalidOperationException("Not a key.");
        var now = factory.Time.GetUtcNow().UtcDateTime;
        await factory.WithDbAsync(db => db.ApiKeys.Where(k => k.KeyId == keyId).ExecuteUpdateAsync(s => s.SetProperty(k => k.DeletedAtUtc, now).SetProperty(k => k.ChangedAtUtc, now)
            .SetProperty(k => k.ChangeCount, k => k.ChangeCount + 1)));
    }

    /// <summary>Moves the clock a second at a time, calling the API in between, until the key is refused; returns the clock time it took.</summary>
    public static async Task<TimeSpan> AdvanceUntilRefusedAsync(this PleoKeysFactory factory, HttpClient api, string key, TimeSpan limit)
    {
        var waited = TimeSpan.Zero;
        while (waited <= limit)
        {
            // The background service runs on the thread pool against the real database: give it a moment.
            for (var i = 0; i < 40; i++)
            {
                if ((await api.ApiGetAsync("/v1/installations/me", key)).StatusCode == HttpStatusCode.Unauthorized)
                {
                    return waited;
                }

                await Task.Delay(25);
            }

            factory.Time.Advance(TimeSpan.FromSeconds(1));
            waited += TimeSpan.FromSeconds(1);
        }

        throw new Xunit.Sdk.XunitException($"The deleted key was still accepted after {limit} of clock time.");
    }
}

/// <summary>
/// The fallback for a lost NOTIFY: a key deleted without any notice stops working once the poll interval has
/// passed, although this instance had it cached as valid.
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

        await factory.DeleteBehindTheAppsBackAsync(key);
        // Nobody told the verifier: its cache still says valid.
        Assert.Equal(HttpStatusCode.OK, (await api.ApiGetAsync("/v1/installations/me", key)).StatusCode);

        var took = await factory.AdvanceUntilRefusedAsync(api, key, TimeSpan.FromSeconds(3 * factory.PollSeconds));
        Assert.True(took <= TimeSpan.FromSeconds(factory.PollSeconds), $"Refused only after {took} of clock time.");
    }
}

/// <summary>
/// The listener's connection can drop (server restart, failover); notices sent meanwhile are lost, so after
/// reconnecting it forgets every cached key state.
/// </summary>
[Trait("Category", TestDatabase.PostgresOnly)]
public sealed class KeyChangeListenerTests(ListenerOnlyPostgresFactory factory) : IClassFixture<ListenerOnlyPostgresFactory>
{
    [PostgresFact]
    public async Task ListenerConnectionKilled_ReconnectsAndForgetsCachedKeys()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await client.CreateKeyAsync("Deleted while the listener was away");
        var api = factory.NewClient();
        Assert.Equal(HttpStatusCode.OK, (await api.ApiGetAsync("/v1/installations/me", key)).StatusCode);

        var killed = await factory.WithDbAsync(db => db.Database.SqlQuery<bool>($"""
            SELECT pg_terminate_backend(pid) AS "Value" FROM pg_stat_activity
            WHERE application_name = 'pleokeys-key-listener' AND datname = current_database()
            """).ToListAsync());
        Assert.Equal([true], killed);
        await factory.DeleteBehindTheAppsBackAsync(key);
        Assert.Equal(HttpStatusCode.OK, (await api.ApiGetAsync("/v1/installations/me", key)).StatusCode);

        // The listener retries after a second of backoff; the poll is an hour away.
        var took = await factory.AdvanceUntilRefusedAsync(api, key, TimeSpan.FromSeconds(10));
        Assert.True(took < TimeSpan.FromSeconds(factory.PollSeconds));
    }
}
