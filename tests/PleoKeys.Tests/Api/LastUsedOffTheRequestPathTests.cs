using System.Diagnostics;
using System.Net;
using Microsoft.Data.Sqlite;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>These tests lock the SQLite file and put a trigger in it, so they run on SQLite whatever the provider.</summary>
public sealed class SqliteFileFactory : PleoKeysFactory
{
    public override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

/// <summary>
/// Issue 13.5: when a key was last used is noted in memory and flushed in batches, so a busy or failing database
/// never holds up or fails an API call; a flush that fails is retried.
/// </summary>
public sealed class LastUsedOffTheRequestPathTests(SqliteFileFactory factory) : IClassFixture<SqliteFileFactory>
{
    private const string Me = "/v1/installations/me";

    private static readonly TimeSpan LockTime = TimeSpan.FromSeconds(5);

    private async Task<string> CachedKeyAsync(string name)
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName(name), scopes: [Scopes.VendorsRead]);
        await factory.NewClient().ApiGetAsync(Me, key).ExpectAsync(HttpStatusCode.OK);
        return key;
    }

    private SqliteConnection OpenOwnConnection()
    {
        // Not pooled, so closing it really lets go of the file.
        var connection = new SqliteConnection($"Data Source={factory.DatabasePath};Pooling=False");
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Flushes until the key's use at <paramref name="usedAtUtc"/> is written (a failed flush keeps it for the next).</summary>
    private async Task<ApiKey> FlushUntilWrittenAsync(string key, DateTime usedAtUtc)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await factory.FlushLastUsedAsync(key, usedAtUtc);
            }
            catch (Xunit.Sdk.XunitException) when (attempt < 3)
            {
                // The flush that ran may have met the lock's last moments; the next one retries.
            }
        }
    }

    [Fact]
    public async Task DatabaseLockedFiveSeconds_ACachedKeysCall_Answers200AtOnce_AndLastUsedIsWrittenAfterTheLock()
    {
        var key = await CachedKeyAsync("Called while locked");
        var api = factory.NewClient();
        var calledAt = factory.Time.GetUtcNow().UtcDateTime;

        using var holder = OpenOwnConnection();
        Execute(holder, "BEGIN EXCLUSIVE");
        var locked = Stopwatch.StartNew();
        var answered = Stopwatch.StartNew();
        await api.ApiGetAsync(Me, key).ExpectAsync(HttpStatusCode.OK);
        answered.Stop();
        // A flush is due while the lock is held: it waits or fails, off every request's path.
        factory.Time.Advance(LastUsedRecorder.FlushInterval);
        var lastCallAt = factory.Time.GetUtcNow().UtcDateTime;
        await api.ApiGetAsync("/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);
        Assert.True(locked.Elapsed < LockTime, $"The calls took {locked.Elapsed}, as long as the lock was held");
        Assert.Null((await ReadLastUsedAsync(key)).At);

        await Task.Delay(LockTime - locked.Elapsed);
        Execute(holder, "ROLLBACK");
        holder.Close();

        Assert.True(answered.Elapsed < TimeSpan.FromSeconds(2), $"The call with the database locked took {answered.Elapsed}");
        var row = await FlushUntilWrittenAsync(key, lastCallAt);
        Assert.True(row.LastUsedAtUtc > calledAt);
    }

    [Fact]
    public async Task DatabaseErrorDuringTheFlush_NeverTurnsACallInto500_AndTheUseIsWrittenOnceItClears()
    {
        var key = await CachedKeyAsync("Flush fails");
        var api = factory.NewClient();
        using var connection = OpenOwnConnection();
        // A real database error for exactly the flush's statement: the app is not changed, its database answers no.
        Execute(connection, """
            CREATE TRIGGER fail_last_used BEFORE UPDATE OF LastUsedAtUtc ON ApiKeys
            BEGIN SELECT RAISE(ABORT, 'simulated failure of the last-used write'); END
            """);
        try
        {
            for (var i = 0; i < 3; i++)
            {
                await api.ApiGetAsync(Me, key).ExpectAsync(HttpStatusCode.OK);
                factory.Time.Advance(LastUsedRecorder.FlushInterval);
                await Task.Delay(200);
            }

            await api.ApiGetAsync(Me, key).ExpectAsync(HttpStatusCode.OK);
            Assert.Null((await ReadLastUsedAsync(key)).At);
        }
        finally
        {
            Execute(connection, "DROP TRIGGER fail_last_used");
        }

        var lastCall = factory.Time.GetUtcNow().UtcDateTime;
        var row = await factory.FlushLastUsedAsync(key, lastCall);
        Assert.NotNull(row.LastUsedIp);
    }

    private async Task<(DateTime? At, string? Ip)> ReadLastUsedAsync(string key)
    {
        var row = await factory.KeyRowAsync(key);
        return (row.LastUsedAtUtc, row.LastUsedIp);
    }
}
