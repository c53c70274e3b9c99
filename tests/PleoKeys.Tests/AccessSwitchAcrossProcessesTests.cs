using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Api;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;
using Xunit.Abstractions;

namespace PleoKeys.Tests;

/// <summary>
/// The operator command is its own process, run beside the app: whatever the app caches, a switch reaches it
/// within a second. Measured from the command's exit (its change is committed by then) to the first answer
/// that shows the new state, with the API called as fast as the app answers.
/// </summary>
internal static class AccessSwitchAcrossProcesses
{
    public const string AbKeyName = "AB integration";

    /// <summary>Signs the Admin in on the app, switches to Nordic Coffee AB and creates an entity key there through the forms.</summary>
    public static async Task<string> CreateAbKeyAsync(AppProcess app)
    {
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = app.BaseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
        var login = await browser.GetDocumentAsync("/Account/Login");
        var signedIn = await browser.SubmitAsync(login.Form(), ("Input.Email", DemoData.Admin), ("Input.Password", DemoData.Password));
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        await browser.SwitchCompanyAsync(DemoData.NordicCoffeeAbId);
        return await browser.CreateKeyAsync(PageHelpers.UniqueName(AbKeyName), scopes: ["vendors:read"]);
    }

    /// <summary>
    /// Runs the command while calling <c>GET /v1/vendors</c> on <paramref name="app"/> until it answers
    /// <paramref name="expected"/>; returns the command's output and how long after its exit the app still
    /// answered the old way (zero when the new answer came before the exit).
    /// </summary>
    public static async Task<(string Output, TimeSpan Delay)> SwitchAsync(
        AppProcess app, IDictionary<string, string> database, string key, string value, HttpStatusCode expected)
    {
        using var api = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        // The app answers the old way before the command, or the measurement would prove nothing.
        var settled = Stopwatch.StartNew();
        while ((await api.ApiGetAsync("/v1/vendors", key)).StatusCode == expected)
        {
            Assert.True(settled.Elapsed < TimeSpan.FromSeconds(5), $"The app answered {expected} before the command ran.");
            await Task.Delay(50);
        }

        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var polling = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var sent = clock.Elapsed;
                using var response = await api.ApiGetAsync("/v1/vendors", key);
                if (response.StatusCode == expected)
                {
                    return (TimeSpan?)sent;
                }
            }

            return null;
        });

        var (exit, output) = await AppProcess.RunCommandAsync(database, OperatorCommands.ApiKeyAccess, "Nordic Coffee AB", value);
        var exitedAt = clock.Elapsed;
        Assert.True(exit == 0, $"The command exited with {exit}: {output}");
        stop.CancelAfter(TimeSpan.FromSeconds(10));
        var answeredAt = await polling;
        Assert.True(answeredAt is not null, $"The app did not answer {expected} within 10 s of the command.");
        var delay = answeredAt.Value - exitedAt;
        return (output, delay < TimeSpan.Zero ? TimeSpan.Zero : delay);
    }

    public static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture) + " ms";
}

/// <summary>The app on a SQLite file and the command run as a separate process on the same file.</summary>
public sealed class SqliteAppProcess : IAsyncLifetime
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"pleokeys-process-{Guid.NewGuid():N}.db");

    public AppProcess App { get; private set; } = null!;

    public Dictionary<string, string> Database => AppProcess.Sqlite(_path);

    // The per-key request limit would answer 429 to calls made as fast as the app answers, well past 600 a minute.
    public async Task InitializeAsync() => App = await AppProcess.StartOnSqliteAsync(AppProcess.Ports(1)[0], _path,
        new Dictionary<string, string> { ["PleoKeys__RequestsPerMinute"] = "1000000" });

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync();
        }

        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(_path + suffix);
        }
    }
}

public sealed class AccessSwitchAcrossProcessesTests(SqliteAppProcess fixture, ITestOutputHelper output) : IClassFixture<SqliteAppProcess>
{
    [Fact]
    public async Task CommandInAnotherProcess_SwitchesTheRunningSqliteAppsKeysOffAndOn_WithinOneSecond()
    {
        var key = await AccessSwitchAcrossProcesses.CreateAbKeyAsync(fixture.App);
        using (var api = new HttpClient { BaseAddress = fixture.App.BaseAddress })
        {
            // Verified and cached as valid: only a change the app learns of makes it look again.
            await api.ApiGetAsync("/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);
        }

        var (offOutput, offDelay) = await AccessSwitchAcrossProcesses.SwitchAsync(fixture.App, fixture.Database, key, "off", HttpStatusCode.Unauthorized);
        var (onOutput, onDelay) = await AccessSwitchAcrossProcesses.SwitchAsync(fixture.App, fixture.Database, key, "on", HttpStatusCode.OK);

        output.WriteLine($"Switched off: refused {AccessSwitchAcrossProcesses.Ms(offDelay)} after the command; back on: accepted {AccessSwitchAcrossProcesses.Ms(onDelay)} after.");
        Assert.Contains("is now off: 1 key suspended", offOutput, StringComparison.Ordinal);
        Assert.Contains("is now on: 1 key restored", onOutput, StringComparison.Ordinal);
        Assert.True(offDelay < TimeSpan.FromSeconds(1), $"The app accepted the switched-off key for {AccessSwitchAcrossProcesses.Ms(offDelay)} after the command.");
        Assert.True(onDelay < TimeSpan.FromSeconds(1), $"The app refused the switched-on key for {AccessSwitchAcrossProcesses.Ms(onDelay)} after the command.");

        var options = new DbContextOptionsBuilder<SqliteAppDbContext>().UseSqlite(fixture.Database["ConnectionStrings__Sqlite"]).Options;
        await using var db = new SqliteAppDbContext(options);
        var audit = await db.AuditEvents.AsNoTracking().Where(e => e.Action == AuditActions.ApiKeyAccessSwitched).OrderBy(e => e.Id).ToListAsync();
        Assert.Equal(["on → off", "off → on"], audit.Select(e => e.Detail!.Contains("on → off", StringComparison.Ordinal) ? "on → off" : "off → on"));
        Assert.All(audit, e => Assert.Equal((OperatorCommands.Actor, DemoData.NordicCoffeeAbId), (e.ActorName, e.CompanyId!.Value)));
    }
}

/// <summary>Two app processes on one PostgreSQL database: A LISTENs, B does not (Database:ListenForKeyChanges=false).</summary>
public sealed class ListeningAndPollingInstances : IAsyncLifetime
{
    private string? _database;

    public AppProcess Listening { get; private set; } = null!;

    public AppProcess Polling { get; private set; } = null!;

    public Dictionary<string, string> Database => AppProcess.Postgres(_database!);

    public async Task InitializeAsync()
    {
        if (TestDatabase.PostgresConnectionString is null)
        {
            return; // The tests skip themselves and say how to run them.
        }

        _database = TestDatabase.NewPostgresDatabase();
        var ports = AppProcess.Ports(2);
        var settings = new Dictionary<string, string> { ["PleoKeys__RequestsPerMinute"] = "1000000" };
        Listening = await AppProcess.StartAsync(ports[0], _database, settings);
        Polling = await AppProcess.StartAsync(ports[1], _database, new Dictionary<string, string>(settings) { ["Database__ListenForKeyChanges"] = "false" });
    }

    public async Task DisposeAsync()
    {
        foreach (var app in new[] { Listening, Polling })
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }
        }

        if (_database is not null)
        {
            await TestDatabase.DropPostgresDatabaseAsync(_database);
        }
    }
}

/// <summary>
/// On PostgreSQL the command NOTIFYs like a deletion does, so a listening instance refuses at once; an instance
/// that does not listen gets the switch by polling, within the same second.
/// </summary>
[Trait("Category", TestDatabase.PostgresOnly)]
public sealed class AccessSwitchOnPostgresTests(ListeningAndPollingInstances apps, ITestOutputHelper output) : IClassFixture<ListeningAndPollingInstances>
{
    [PostgresFact]
    public async Task CommandInAnotherProcess_ReachesListeningAndPollingInstances_WithinOneSecond()
    {
        var key = await AccessSwitchAcrossProcesses.CreateAbKeyAsync(apps.Listening);
        foreach (var app in new[] { apps.Listening, apps.Polling })
        {
            using var api = new HttpClient { BaseAddress = app.BaseAddress };
            await api.ApiGetAsync("/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);
        }

        // Each instance is measured on its own run of the command: off then on, for the listening one, then the polling one.
        foreach (var (name, app) in new[] { ("listening", apps.Listening), ("polling", apps.Polling) })
        {
            foreach (var (value, expected) in new[] { ("off", HttpStatusCode.Unauthorized), ("on", HttpStatusCode.OK) })
            {
                var (_, delay) = await AccessSwitchAcrossProcesses.SwitchAsync(app, apps.Database, key, value, expected);
                output.WriteLine($"{value}: the {name} instance answered {(int)expected} {AccessSwitchAcrossProcesses.Ms(delay)} after the command.");
                Assert.True(delay < TimeSpan.FromSeconds(1), $"The {name} instance took {AccessSwitchAcrossProcesses.Ms(delay)} to see the switch {value}.");
            }
        }
    }
}
