using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Web.Data;

public static class DatabaseSetup
{
    /// <summary>
    /// SQLite by default: <c>ConnectionStrings:Sqlite</c>, a relative path being taken inside the app folder.
    /// The connection string is read when a context is made, not while Program runs: a host that adds
    /// configuration after Program's top-level code (WebApplicationFactory's settings) must be obeyed,
    /// or every test app would share the app folder's database.
    /// </summary>
    public static IServiceCollection AddPleoKeysDatabase(this IServiceCollection services) =>
        services.AddDbContext<AppDbContext, SqliteAppDbContext>((sp, o) =>
            o.UseSqlite(SqliteConnectionString(sp.GetRequiredService<IConfiguration>(), sp.GetRequiredService<IHostEnvironment>())));

    private static string SqliteConnectionString(IConfiguration configuration, IHostEnvironment environment)
    {
        var sqlite = new SqliteConnectionStringBuilder(configuration.GetConnectionString("Sqlite") ?? "Data Source=pleokeys.db");
        if (!Path.IsPathRooted(sqlite.DataSource) && sqlite.DataSource != ":memory:")
        {
            sqlite.DataSource = Path.Combine(environment.ContentRootPath, sqlite.DataSource);
        }

        // Writers wait for each other instead of failing: Microsoft.Data.Sqlite retries SQLITE_BUSY
        // until the command timeout runs out.
        sqlite.DefaultTimeout = 30;
        return sqlite.ToString();
    }

    public static async Task MigrateAndSeedAsync(this IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await db.Database.MigrateAsync();
        if (db.Database.IsSqlite())
        {
            // WAL lets readers go on while one writer commits; it is a property of the file, set once.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
        }

        if (scope.ServiceProvider.GetRequiredService<IOptions<PleoKeysOptions>>().Value.SeedDemoData)
        {
            await DemoData.SeedAsync(scope.ServiceProvider);
        }
    }
}

/// <summary>The SQLite flavour of the context; its migrations live in Data/Migrations/Sqlite.</summary>
public sealed class SqliteAppDbContext(DbContextOptions<SqliteAppDbContext> options) : AppDbContext(options);

/// <summary>Lets <c>dotnet ef</c> build the SQLite context without starting the app.</summary>
public sealed class SqliteDesignTimeFactory : Microsoft.EntityFrameworkCore.Design.IDesignTimeDbContextFactory<SqliteAppDbContext>
{
    public SqliteAppDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteAppDbContext>().UseSqlite("Data Source=design.db").Options);
}
