using System.Diagnostics;
using System.Net;
using Microsoft.Data.Sqlite;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>
/// Issue 13.5: when a key was last used is noted in memory and flushed in batches, so a busy or failing database
/// never holds up or fails an API call; a flush that fails is retried. The tests lock the SQLite file and put a
/// trigger in it, so they run on SQLite whatever the provider.
/// </summary>
public sealed class LastUsedOffTheRequestPathTests(SqliteFileFactory factory) : IClassFixture<SqliteFileFactory>
{
    private const string Me = "/v1/installations/me";

    private static readonly TimeSpan LockTime = TimeSpan.FromSeconds(5);

    private async Task<string> CachedKeyAsync(string name)
    {
        var key = await factory.NewAdminKeyAsync(name);
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

    [Fact]
    public async Task DatabaseLockedFiveSeconds_ACachedKeysCall_Answers200AtOnce_AndLastUsedIsWrittenAfterTheLock()
    {
        var key = await CachedKeyAsync("Called while locked");
        var api = factory.NewClient();
        var calledAt = factory.Time.GetUtcNow().UtcDateTime;

        using var holder = OpenOwnConnection();
        Execute(holder, "BEGIN EXCLUSIVE");
        var locked = Stopwatch.StartNew();
        var first = Stopwatch.StartNew();
        await api.ApiGetAsync(Me, key).ExpectAsync(HttpStatusCode.OK);
        first.Stop();

        // A flush falls due while the lock is held. The fake clock runs the timer's work on the thread that moves it
        // (a timer thread in production), and the flush waits there for the lock: off every request's path.
        var ticking = Task.Run(() => factory.Time.Advance(LastUsedRecorder.FlushInterval));
        await Task.Delay(300);
        var during = Stopwatch.StartNew();
        await api.ApiGetAsync("/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);
        during.Stop();
        Assert.Null((await ReadLastUsedAsync(key)).At);
        Assert.True(locked.Elapsed < LockTime, $"The calls took {locked.Elapsed}, as long as the lock was held");

        await Task.Delay(LockTime - locked.Elapsed);
        Execute(holder, "ROLLBACK");
        holder.Close();
        await ticking.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(first.Elapsed < TimeSpan.FromSeconds(2), $"The call with the database locked took {first.Elapsed}");
        Assert.True(during.Elapsed < TimeSpan.FromSeconds(2), $"The call during a flush waiting for the lock took {during.Elapsed}");
        var row = await factory.WaitForKeyRowAsync(key, r => r.LastUsedAtUtc >= calledAt);
        Assert.NotNull(row.LastUsedAtUtc);
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
        await factory.FlushLastUsedAsync(key, lastCall);
    }

    private async Task<(DateTime? At, string? Ip)> ReadLastUsedAsync(string key)
    {
        var row = await factory.KeyRowAsync(key);
        return (row.LastUsedAtUtc, row.LastUsedIp);
    }
}
