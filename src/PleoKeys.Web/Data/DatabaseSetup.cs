using System.ComponentModel.DataAnnotations;
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

/// <summary>The <c>Database</c> configuration section, validated at start (each message names the setting).</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>Sqlite (embedded, one instance) or Postgres (several instances behind a load balancer).</summary>
    [EnumDataType(typeof(DatabaseProvider), ErrorMessage = "Database:Provider must be Sqlite or Postgres.")]
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>
    /// How often each instance asks the database for keys changed elsewhere (deleted, activated, their company's
    /// access switched): the only way a change made by another process reaches a SQLite app, and on Postgres the
    /// fallback for a NOTIFY that never arrived. It bounds how long another process's change can go unseen; the
    /// default keeps the promise that a switch takes effect within a second. Each poll is one indexed range read.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00", ErrorMessage = "Database:KeyChangePollInterval must be between 00:00:00.001 and 01:00:00, such as 00:00:00.5.")]
    public TimeSpan KeyChangePollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// With Postgres, whether this instance LISTENs for key changes (taking effect at once). Turn it off behind
    /// a pooler that cannot hold a LISTEN session (PgBouncer in transaction mode); changes then arrive by polling
    /// within <see cref="KeyChangePollInterval"/>. The instance still NOTIFYs the others of its own changes.
    /// </summary>
    public bool ListenForKeyChanges { get; set; } = true;
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
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var database = configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var provider = database.Provider;
        // Every instance polls for key changes: another process (a second instance, the operator command) may
        // have made them, and on SQLite nothing else would tell this one.
        services.AddHostedService<KeyChangePoller>();
        if (provider == DatabaseProvider.Postgres)
        {
            var postgres = configuration.GetConnectionString("Postgres");
            if (string.IsNullOrWhiteSpace(postgres))
            {
                throw new InvalidOperationException(
                    "Database:Provider is Postgres but ConnectionStrings:Postgres is empty. Set ConnectionStrings__Postgres=\"Host=…;Database=…;Username=…;Password=…\".");
            }

            services.AddDbContextPool<AppDbContext, PostgresAppDbContext>(o => o.UseNpgsql(postgres).AddInterceptors(AuditAppendOnlyInterceptor.Instance));
            services.AddScoped<IKeyChangeBroadcaster, PostgresKeyChangeBroadcaster>();
            if (database.ListenForKeyChanges)
            {
                services.AddHostedService<PostgresKeyChangeListener>();
            }

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
        // Pooled (EF Core's DbContext pooling): a context per request or key lookup is reset and reused instead of built,
        // which was about a third of a key's first lookup after a restart.
        services.AddDbContextPool<AppDbContext, SqliteAppDbContext>(o => o.UseSqlite(sqlite.ToString()).AddInterceptors(AuditAppendOnlyInterceptor.Instance));
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
