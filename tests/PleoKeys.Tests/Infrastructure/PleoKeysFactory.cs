using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Infrastructure;

/// <summary>
/// The real app on its own database with the demo data, a movable clock and a BCrypt seam that
/// counts calls. BCrypt runs at work factor 4 so tests stay fast; the production factor is config.
/// The database is a temp SQLite file, or with <c>PLEOKEYS_TEST_PROVIDER=Postgres</c> a fresh PostgreSQL
/// database (see <see cref="TestDatabase"/>); either is deleted when the factory is disposed.
/// </summary>
public class PleoKeysFactory : WebApplicationFactory<Program>
{
    /// <summary>The demo data is seeded at this instant (a Thursday morning in Copenhagen).</summary>
    public static readonly DateTimeOffset Start = new(2026, 11, 26, 9, 0, 0, TimeSpan.Zero);

    private readonly string _dbPath;
    private readonly string _secretsPath;
    private readonly bool _ownsFiles;
    private string? _postgres;

    public PleoKeysFactory()
    {
        _dbPath = Path.Combine(Path.GetTempPath(), $"pleokeys-test-{Guid.NewGuid():N}.db");
        _secretsPath = Path.Combine(Path.GetTempPath(), $"pleokeys-test-secrets-{Guid.NewGuid():N}");
        _ownsFiles = true;
    }

    /// <summary>
    /// An app on an existing SQLite file and secrets folder (another instance's, or a copy), which it leaves in
    /// place when disposed.
    /// </summary>
    protected PleoKeysFactory(string databasePath, string secretsPath)
    {
        _dbPath = databasePath;
        _secretsPath = secretsPath;
    }

    public FakeTimeProvider Time { get; } = new(Start);

    public CountingHasher Hasher { get; } = new(new BCryptKeySecretHasher(4));

    /// <summary>Extra configuration a test class wants (for example a low rate limit).</summary>
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    public string DatabasePath => _dbPath;

    /// <summary>
    /// This app's <c>PleoKeys:SecretsPath</c>, a temp folder (the one of the factory whose database it shares): the
    /// key ring's certificate is created there on first run, never in the source tree.
    /// </summary>
    public string SecretsPath => SharesDatabaseWith?.SecretsPath ?? _secretsPath;

    /// <summary>
    /// Another factory whose database this one uses: a second instance of the app, or the same app restarted. The
    /// other factory creates and drops the database; this one must be disposed first.
    /// </summary>
    public PleoKeysFactory? SharesDatabaseWith { get; init; }

    /// <summary>Where the app writes emails without an SMTP host (Email:PickupDirectory): a temp folder of the factory's own.</summary>
    public string MailFolder { get; } = Path.Combine(Path.GetTempPath(), $"pleokeys-test-mail-{Guid.NewGuid():N}");

    /// <summary>This factory's database, for a second factory on it (<see cref="SharesDatabaseWith"/>).</summary>
    public string SqliteConnectionString => SharesDatabaseWith?.SqliteConnectionString ?? $"Data Source={_dbPath}";

    public string? PostgresConnectionString => SharesDatabaseWith is { } other
        ? other.PostgresConnectionString
        : Provider == DatabaseProvider.Postgres ? _postgres ??= TestDatabase.NewPostgresDatabase() : null;

    /// <summary>The provider this factory runs on; a test class that needs one provider overrides it.</summary>
    public virtual DatabaseProvider Provider => TestDatabase.Provider;

    /// <summary>
    /// The hosting environment: Development, as `dotnet run` (its appsettings turn demo seeding on); a subclass
    /// runs the app as Production to test what that turns on.
    /// </summary>
    protected virtual string EnvironmentName => "Development";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(EnvironmentName);
        var settings = new Dictionary<string, string?>
        {
            ["Database:Provider"] = Provider.ToString(),
            ["ConnectionStrings:Sqlite"] = SqliteConnectionString,
            ["PleoKeys:SecretsPath"] = SecretsPath,
            ["ConnectionStrings:Postgres"] = PostgresConnectionString,
            // Reminders for the demo key expiring within 7 days are written here, never into the source tree.
            ["Email:PickupDirectory"] = MailFolder,
            ["PleoKeys:Environment"] = "Staging",
            ["PleoKeys:FailedAuthPerMinutePerClient"] = "100000",
            ["PleoKeys:FailedAuthPerMinutePerKey"] = "100000",
            // Throttled answers come at once unless a test is about the tarpit (the clock is fake).
            ["PleoKeys:ThrottledResponseDelay"] = "00:00:00",
            // Every test signs in through the real form from the same (absent) client address.
            ["PleoKeys:SignInAttemptsPerMinutePerClient"] = "100000",
            // Tests create keys by the dozen as one user; the creation limits have their own tests.
            ["PleoKeys:KeyCreationsPerMinutePerUser"] = "100000",
            ["PleoKeys:MaxActiveKeysPerCompany"] = "100000",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        if (EnvironmentName == "Development")
        {
            settings["PleoKeys:SeedDemoData"] = "true";
        }

        foreach (var (k, v) in Settings)
        {
            settings[k] = v;
        }

        builder.ConfigureAppConfiguration(c => c.AddInMemoryCollection(settings));
        // Program.cs reads the connection string while it builds the services, before the callback above
        // applies (minimal hosting); host settings are visible from the start. Without this every factory
        // shared the developer's src/PleoKeys.Web/pleokeys.db.
        foreach (var (k, v) in settings)
        {
            builder.UseSetting(k, v);
        }
        builder.ConfigureServices(services =>
        {
            services.RemoveAll<TimeProvider>();
            services.AddSingleton<TimeProvider>(Time);
            services.RemoveAll<IKeySecretHasher>();
            services.AddSingleton<IKeySecretHasher>(Hasher);
        });
    }

    public async Task<T> WithDbAsync<T>(Func<AppDbContext, Task<T>> action)
    {
        await using var scope = Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (_postgres is not null)
        {
            // The host is gone by now (the base disposes it, sync or async), so nothing reconnects to the database.
            TestDatabase.DropPostgresDatabaseAsync(_postgres).GetAwaiter().GetResult();
            _postgres = null;
        }

        try
        {
            Directory.Delete(MailFolder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Nothing was written.
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (!_ownsFiles)
        {
            return;
        }

        if (Directory.Exists(_secretsPath))
        {
            Directory.Delete(_secretsPath, recursive: true);
        }

        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            try
            {
                File.Delete(_dbPath + suffix);
            }
            catch (IOException)
            {
                // A file still held open is left in the temp folder; it does not affect other tests.
            }
        }
    }
}

/// <summary>
/// Counts BCrypt calls, and the most that ran at once: the verifier's promise is a count, and the BCrypt gate's a
/// bound on concurrency, which timing could not prove. <see cref="Delay"/> makes each call take longer, so calls
/// that could overlap do.
/// </summary>
public sealed class CountingHasher(IKeySecretHasher inner) : IKeySecretHasher
{
    private int _verifies;
    private int _hashes;
    private int _running;
    private int _maxConcurrent;

    public int Verifies => Volatile.Read(ref _verifies);

    public int Hashes => Volatile.Read(ref _hashes);

    /// <summary>The most BCrypt calls (hashes and verifies together) that ran at the same time.</summary>
    public int MaxConcurrent => Volatile.Read(ref _maxConcurrent);

    public TimeSpan Delay { get; set; }

    public void ResetConcurrency() => Volatile.Write(ref _maxConcurrent, 0);

    public string Hash(string key)
    {
        Interlocked.Increment(ref _hashes);
        return Run(() => inner.Hash(key));
    }

    public bool Verify(string key, string hash)
    {
        Interlocked.Increment(ref _verifies);
        return Run(() => inner.Verify(key, hash));
    }

    private T Run<T>(Func<T> work)
    {
        var running = Interlocked.Increment(ref _running);
        try
        {
            int max;
            while (running > (max = Volatile.Read(ref _maxConcurrent)) && Interlocked.CompareExchange(ref _maxConcurrent, running, max) != max)
            {
            }

            if (Delay > TimeSpan.Zero)
            {
                Thread.Sleep(Delay);
            }

            return work();
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }
}
