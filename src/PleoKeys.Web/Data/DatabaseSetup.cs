using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Web.Data;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>The <c>Database</c> configuration section.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>Sqlite (embedded, one instance) or Postgres (several instances behind a load balancer).</summary>
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>
    /// With Postgres, how often each instance asks the database for keys deleted elsewhere: the fallback for
    /// a NOTIFY that never arrived, so it bounds how long a lost notification can keep a deleted key alive.
    /// </summary>
    public int RevocationPollSeconds { get; set; } = 5;
}

public static class DatabaseSetup
{
    /// <summary>
    /// SQLite by default (<c>ConnectionStrings:Sqlite</c>, a relative path being taken inside the app folder);
    /// PostgreSQL with <c>Database:Provider=Postgres</c> and <c>ConnectionStrings:Postgres</c>, together with
    /// what several instances on one database need to agree on revoked keys.
    /// </summary>
    public static IServiceCollection AddPleoKeysDatabase(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section);
        var provider = configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>()?.Provider ?? DatabaseProvider.Sqlite;
        if (provider == DatabaseProvider.Postgres)
        {
            var postgres = configuration.GetConnectionString("Postgres");
            if (string.IsNullOrWhiteSpace(postgres))
            {
                throw new InvalidOperationException(
                    "Database:Provider is Postgres but ConnectionStrings:Postgres is empty. Set ConnectionStrings__Postgres=\"Host=…;Database=…;Username=…;Password=…\".");
            }

            services.AddDbContext<AppDbContext, PostgresAppDbContext>(o => o.UseNpgsql(postgres));
            services.AddScoped<IKeyChangeBroadcaster, PostgresKeyChangeBroadcaster>();
            services.AddHostedService<PostgresKeyChangeListener>();
            services.AddHostedService<KeyChangePoller>();
            return services;
        }

        var sqlite = new SqliteConnectionStringBuilder(configuration.GetConnectionString("Sqlite") ?? "Data Source=pleokeys.db");
        if (!Path.IsPathRooted(sqlite.DataSource) && sqlite.DataSource != ":memory:")
        {
            sqlite.DataSource = Path.Combine(environment.ContentRootPath, sqlite.DataSource);
        }

        // Writers wait for each other instead of failing: Microsoft.Data.Sqlite retries SQLITE_BUSY
        // until the command timeout runs out.
        sqlite.DefaultTimeout = 30;
        services.AddDbContext<AppDbContext, SqliteAppDbContext>(o => o.UseSqlite(sqlite.ToString()));
        return services;
    }

    public static async Task MigrateAndSeedAsync(this IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        // EF Core takes a database-wide lock around migrations, so instances starting together apply them once.
        await db.Database.MigrateAsync();
        if (db.Database.IsSqlite())
        {
            // WAL lets readers go on while one writer commits; it is a property of the file, set once.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
        }

        await FillFoldedNamesAsync(db);
        if (scope.ServiceProvider.GetRequiredService<IOptions<PleoKeysOptions>>().Value.SeedDemoData)
        {
            await DemoData.SeedAsync(scope.ServiceProvider);
        }
    }

    /// <summary>
    /// Computes the search form of names that have none: the FoldedKeyNames migration empties the column,
    /// because Unicode full case folding (<see cref="KeyName.Fold"/>) cannot be written in SQL that both
    /// providers run. A name is never empty, so an empty search form means "not computed yet". Instances that
    /// start together may both fill a row; they write the same value.
    /// </summary>
    private static async Task FillFoldedNamesAsync(AppDbContext db)
    {
        while (true)
        {
            var batch = await db.ApiKeys.Where(k => k.NormalizedName == "").OrderBy(k => k.Id).Take(500).ToListAsync();
            if (batch.Count == 0)
            {
                return;
            }

            foreach (var key in batch)
            {
                // A name that folds to nothing (none can be created) gets a space, so the loop ends.
                key.NormalizedName = KeyName.Fold(key.Name) is { Length: > 0 } folded ? folded : " ";
            }

            await db.SaveChangesAsync();
            db.ChangeTracker.Clear();
        }
    }
}

/// <summary>The SQLite flavour of the context; its migrations live in Data/Migrations/Sqlite.</summary>
public sealed class SqliteAppDbContext(DbContextOptions<SqliteAppDbContext> options) : AppDbContext(options);

/// <summary>The PostgreSQL flavour of the context; its migrations live in Data/Migrations/Postgres.</summary>
public sealed class PostgresAppDbContext(DbContextOptions<PostgresAppDbContext> options) : AppDbContext(options);

/// <summary>Lets <c>dotnet ef</c> build the SQLite context without starting the app.</summary>
public sealed class SqliteDesignTimeFactory : Microsoft.EntityFrameworkCore.Design.IDesignTimeDbContextFactory<SqliteAppDbContext>
{
    public SqliteAppDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteAppDbContext>().UseSqlite("Data Source=design.db").Options);
}

/// <summary>
/// Lets <c>dotnet ef</c> build the PostgreSQL context without starting the app. Adding a migration needs no
/// server; <c>dotnet ef database update</c> takes the real one from <c>--connection</c>.
/// </summary>
public sealed class PostgresDesignTimeFactory : Microsoft.EntityFrameworkCore.Design.IDesignTimeDbContextFactory<PostgresAppDbContext>
{
    public PostgresAppDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresAppDbContext>().UseNpgsql("Host=localhost;Database=pleokeys").Options);
}
