using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using AngleSharp.Html.Dom;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;
using Xunit.Abstractions;

namespace PleoKeys.Tests.Security;

/// <summary>
/// The built app as a real process on its own SQLite file, killed with SIGKILL in the middle of a create and
/// delete load, ten times over. Afterwards the file is intact, every key whose reveal reached the client exists
/// once and works, every delete that was confirmed holds, and no change is half-written.
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output) : IDisposable
{
    private const int Crashes = 10;
    private const int Workers = 6;

    private readonly string _dbPath = Path.Combine(Path.GetTempPath(), $"pleokeys-crash-{Guid.NewGuid():N}.db");
    // One secrets folder for every restart, as on a server: the key ring's certificate survives the kills.
    private readonly string _secretsPath = Path.Combine(Path.GetTempPath(), $"pleokeys-crash-secrets-{Guid.NewGuid():N}");
    private readonly ConcurrentQueue<string> _appOutput = new();
    private Process? _app;
    private TimeSpan _startingUp;

    private sealed class Ledger
    {
        public ConcurrentDictionary<string, Guid?> Revealed { get; } = new(StringComparer.Ordinal);
        public ConcurrentQueue<(string Key, Guid Id)> Alive { get; } = new();
        public ConcurrentBag<string> ConfirmedDeletes { get; } = [];
        public ConcurrentBag<string> DeletesInDoubt { get; } = [];
        public int ServerErrors;
        public int InterruptedRequests;
    }

    [Fact]
    [Trait("Category", "Crash")]
    public async Task AppKilledTenTimesUnderLoad_DatabaseIntact_RevealedKeysWork_ConfirmedDeletesHold()
    {
        var port = Port();
        var baseAddress = new Uri($"http://127.0.0.1:{port}");
        var ledger = new Ledger();
        var random = new Random();
        var clock = Stopwatch.StartNew();

        for (var crash = 1; crash <= Crashes; crash++)
        {
            await StartAppAsync(port, baseAddress);
            using var load = new CancellationTokenSource();
            var revealedBefore = ledger.Revealed.Count;
            var workers = await StartLoadAsync(baseAddress, ledger, load.Token);
            // Kill once the load is surely in flight (a key revealed in this run), at a random moment after.
            var inFlight = Stopwatch.StartNew();
            while (ledger.Revealed.Count == revealedBefore && inFlight.Elapsed < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(20);
            }

            await Task.Delay(random.Next(0, 1000));
            _app!.Kill(entireProcessTree: true); // SIGKILL on Unix: no shutdown code runs.
            await _app.WaitForExitAsync();
            await load.CancelAsync();
            await Task.WhenAll(workers);
        }

        // A last start recovers from the last crash; every revealed key is then tried through HTTP.
        await StartAppAsync(port, baseAddress);
        var api = new HttpClient { BaseAddress = baseAddress };
        var answers = new Dictionary<string, HttpStatusCode>(StringComparer.Ordinal);
        foreach (var (key, _) in ledger.Revealed)
        {
            answers[key] = (await api.ApiGetAsync("/v1/installations/me", key)).StatusCode;
        }

        _app!.Kill(entireProcessTree: true);
        await _app.WaitForExitAsync();

        await using var db = new SqliteAppDbContext(new DbContextOptionsBuilder<SqliteAppDbContext>().UseSqlite($"Data Source={_dbPath};Pooling=False").Options);
        Assert.Equal("ok", string.Join(';', await db.Database.SqlQueryRaw<string>("PRAGMA integrity_check").ToListAsync()));
        var rows = await db.ApiKeys.AsNoTracking().Select(k => new { k.Id, k.KeyId, k.Name, k.DeletedAtUtc }).ToListAsync();
        var audit = await db.AuditEvents.AsNoTracking().Where(e => e.ApiKeyId != null).Select(e => new { e.Action, e.ApiKeyId }).ToListAsync();
        foreach (var (key, _) in ledger.Revealed)
        {
            ApiKeyFormat.TryParse(key, out var parsed);
            var row = Assert.Single(rows, r => r.KeyId == parsed!.KeyId);
            var deleted = row.DeletedAtUtc is not null;
            if (ledger.ConfirmedDeletes.Contains(key))
            {
                Assert.True(deleted, "a confirmed delete did not hold");
            }
            else if (!ledger.DeletesInDoubt.Contains(key))
            {
                Assert.False(deleted, "a key nobody deleted is marked deleted");
            }

            Assert.Equal(deleted ? HttpStatusCode.Unauthorized : HttpStatusCode.OK, answers[key]);
        }

        // Nothing half-written: each created key row came with exactly one "created" audit row (same transaction),
        // each deletion with exactly one "deleted" row, and no audit row points at a key that is not there.
        foreach (var row in rows)
        {
            var created = audit.Count(e => e.ApiKeyId == row.Id && e.Action == AuditActions.KeyCreated);
            Assert.Equal(row.Name.StartsWith("Crash load", StringComparison.Ordinal) ? 1 : 0, created);
            Assert.Equal(row.DeletedAtUtc is null ? 0 : 1, audit.Count(e => e.ApiKeyId == row.Id && e.Action == AuditActions.KeyDeleted));
        }

        Assert.All(audit, e => Assert.Contains(rows, r => r.Id == e.ApiKeyId));
        Assert.Equal(0, ledger.ServerErrors);
        Assert.True(ledger.Revealed.Count >= Crashes, $"only {ledger.Revealed.Count} keys were revealed across {Crashes} runs");
        Assert.True(ledger.InterruptedRequests > 0, "no request was in flight when the app was killed");
        output.WriteLine($"crash test: {Crashes} SIGKILLs under load survived in {clock.Elapsed.TotalSeconds:F0} s ({_startingUp.TotalSeconds:F0} s of it starting the app {Crashes + 1} times); {ledger.Revealed.Count} revealed keys all present once " +
            $"and answering as their state says, {ledger.ConfirmedDeletes.Count} confirmed deletes held ({ledger.DeletesInDoubt.Count} cut off by a kill, each all-or-nothing), " +
            $"{ledger.InterruptedRequests} requests cut off in all, 0 responses ≥ 500, {rows.Count} key rows each with its audit rows, integrity_check ok");
    }

    private static async Task<List<Task>> StartLoadAsync(Uri baseAddress, Ledger ledger, CancellationToken stop)
    {
        var cookies = new CookieContainer();
        using (var signIn = Browser(baseAddress, cookies))
        {
            var page = await signIn.GetDocumentAsync("/Account/Login");
            var response = await signIn.SubmitAsync(page.Form(), ("Input.Email", DemoData.Admin), ("Input.Password", DemoData.Password));
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        }

        return Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            var own = new CookieContainer();
            own.Add(cookies.GetAllCookies());
            using var browser = Browser(baseAddress, own);
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    if (n++ % 3 == 2 && ledger.Alive.TryDequeue(out var victim))
                    {
                        HttpResponseMessage delete;
                        try
                        {
                            var (token, ticket) = await browser.FormTokensAsync($"/Settings/ApiKeys/Delete/{victim.Id}");
                            delete = await browser.PostFormAsync($"/Settings/ApiKeys/Delete/{victim.Id}",
                                [new("__RequestVerificationToken", token), new(PleoKeys.Web.Auth.FormTicket.FieldName, ticket)]);
                        }
                        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                        {
                            ledger.DeletesInDoubt.Add(victim.Key);
                            throw;
                        }

                        Count(delete);
                        if (delete.StatusCode == HttpStatusCode.Redirect)
                        {
                            ledger.ConfirmedDeletes.Add(victim.Key);
                        }

                        continue;
                    }

                    var (createToken, createTicket) = await browser.FormTokensAsync("/Settings/ApiKeys/Create");
                    var create = await browser.PostFormAsync("/Settings/ApiKeys/Create", PageHelpers.CreateFields(createToken, $"Crash load {w}-{n}", ticket: createTicket));
                    Count(create);
                    if (create.StatusCode != HttpStatusCode.Redirect)
                    {
                        continue;
                    }

                    var reveal = await Html.ParseAsync(await browser.GetAsync(create.Headers.Location));
                    if (reveal.QuerySelector("#new-key") is IHtmlInputElement { Value: { Length: > 0 } key })
                    {
                        // From here on the user has the key: it must survive whatever happens next.
                        ledger.Revealed[key] = null;
                        var installation = await browser.ApiGetAsync("/v1/installations/me", key);
                        Count(installation);
                        if (installation.StatusCode == HttpStatusCode.OK)
                        {
                            using var json = JsonDocument.Parse(await installation.Content.ReadAsStringAsync());
                            var id = json.RootElement.GetProperty("id").GetGuid();
                            ledger.Revealed[key] = id;
                            ledger.Alive.Enqueue((key, id));
                        }
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                {
                    // The app was killed mid-request; whatever the request did or did not do is checked at the end.
                    Interlocked.Increment(ref ledger.InterruptedRequests);
                    break;
                }
            }
        }, CancellationToken.None)).ToList();

        void Count(HttpResponseMessage response)
        {
            if ((int)response.StatusCode >= 500)
            {
                Interlocked.Increment(ref ledger.ServerErrors);
            }
        }
    }

    private static HttpClient Browser(Uri baseAddress, CookieContainer cookies) =>
        new(new SocketsHttpHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };

    private async Task StartAppAsync(int port, Uri baseAddress)
    {
        var bin = AppContext.BaseDirectory;
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = bin,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(bin, "PleoKeys.Web.dll"));
        start.ArgumentList.Add("--contentRoot");
        start.ArgumentList.Add(bin);
        var env = start.Environment;
        env["ASPNETCORE_ENVIRONMENT"] = "Production";
        env["ASPNETCORE_URLS"] = baseAddress.ToString();
        env["ConnectionStrings__Sqlite"] = $"Data Source={_dbPath}";
        env["PleoKeys__SecretsPath"] = _secretsPath;
        env["PleoKeys__SeedDemoData"] = "true";
        env["PleoKeys__BCryptWorkFactor"] = "4";
        env["PleoKeys__FailedAuthPerMinutePerClient"] = "100000";
        env["PleoKeys__FailedAuthPerMinutePerKey"] = "100000";
        env["PleoKeys__SignInAttemptsPerMinutePerClient"] = "100000";
        env["PleoKeys__KeyCreationsPerMinutePerUser"] = "100000";
        env["PleoKeys__MaxActiveKeysPerCompany"] = "100000";
        env["PleoKeys__RequestsPerMinute"] = "100000";
        env["Logging__LogLevel__Default"] = "Warning";
        _app = Process.Start(start)!;
        _app.OutputDataReceived += (_, e) => Keep(e.Data);
        _app.ErrorDataReceived += (_, e) => Keep(e.Data);
        _app.BeginOutputReadLine();
        _app.BeginErrorReadLine();

        using var probe = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        try
        {
            await WaitUntilAnsweringAsync();
        }
        finally
        {
            _startingUp += deadline.Elapsed;
        }

        async Task WaitUntilAnsweringAsync()
        {
            while (deadline.Elapsed < TimeSpan.FromSeconds(90))
            {
                Assert.False(_app!.HasExited, "The app exited on start:\n" + string.Join('\n', _appOutput));
                try
                {
                    if ((await probe.GetAsync("/Account/Login")).StatusCode == HttpStatusCode.OK)
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException)
                {
                }

                await Task.Delay(100);
            }

            Assert.Fail("The app did not answer within 90 s:\n" + string.Join('\n', _appOutput));
        }

        void Keep(string? line)
        {
            if (line is null)
            {
                return;
            }

            _appOutput.Enqueue(line);
            while (_appOutput.Count > 200)
            {
                _appOutput.TryDequeue(out _);
            }
        }
    }

    /// <summary>PLEOKEYS_TEST_PORT when set (a port set aside for the run), else a free loopback port.</summary>
    private static int Port()
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("PLEOKEYS_TEST_PORT"), out var port))
        {
            return port;
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (_app is { HasExited: false })
        {
            _app.Kill(entireProcessTree: true);
            _app.WaitForExit();
        }

        _app?.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(_dbPath + suffix);
        }

        if (Directory.Exists(_secretsPath))
        {
            Directory.Delete(_secretsPath, recursive: true);
        }
    }
}
