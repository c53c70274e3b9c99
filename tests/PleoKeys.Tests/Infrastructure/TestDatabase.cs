using Npgsql;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Infrastructure;

/// <summary>
/// Which database the tests run on. SQLite unless <c>PLEOKEYS_TEST_PROVIDER=Postgres</c>; PostgreSQL needs
/// <c>PLEOKEYS_TEST_POSTGRES</c>, a connection string for a role that may create databases (each factory
/// creates its own database and drops it when disposed).
/// </summary>
public static class TestDatabase
{
    public const string ProviderVariable = "PLEOKEYS_TEST_PROVIDER";
    public const string PostgresVariable = "PLEOKEYS_TEST_POSTGRES";

    /// <summary>The trait of test classes that run on PostgreSQL whatever the provider (CI runs them once, with the PostgreSQL run).</summary>
    public const string PostgresOnly = "PostgresOnly";

    public const string HowToRunPostgres =
        "PostgreSQL tests skipped: " + PostgresVariable + " is not set. To run them, start a local server and export its " +
        "connection string (any role with CREATEDB will do): export " + PostgresVariable + "=\"$(scripts/start-postgres.sh | tail -n1)\" " +
        "then run dotnet test again; add " + ProviderVariable + "=Postgres to run the whole suite on PostgreSQL. .ci/run does both.";

    public static DatabaseProvider Provider { get; } =
        Enum.TryParse<DatabaseProvider>(Environment.GetEnvironmentVariable(ProviderVariable), ignoreCase: true, out var p) ? p : DatabaseProvider.Sqlite;

    /// <summary>The server to create test databases on, or null when none is configured.</summary>
    public static string? PostgresConnectionString { get; } =
        Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } cs ? cs : null;

    public static string RequirePostgres() => PostgresConnectionString
        ?? throw new InvalidOperationException(HowToRunPostgres);

    /// <summary>Creates an empty, uniquely named database on the test server; returns its connection string.</summary>
    public static string NewPostgresDatabase()
    {
        var database = new NpgsqlConnectionStringBuilder(RequirePostgres()) { Database = $"pleokeys_t_{Guid.NewGuid():N}" };
        using var admin = new NpgsqlConnection(RequirePostgres());
        admin.Open();
        using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.Database}\"", admin);
        create.ExecuteNonQuery();
        return database.ConnectionString;
    }

    /// <summary>Drops a database made by <see cref="NewPostgresDatabase"/>, closing whatever still uses it.</summary>
    public static async Task DropPostgresDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        using (var pooled = new NpgsqlConnection(connectionString))
        {
            NpgsqlConnection.ClearPool(pooled);
        }

        await using var admin = new NpgsqlConnection(RequirePostgres());
        await admin.OpenAsync();
        // A background worker of the server's own (autovacuum) can hold the database for a moment, and
        // FORCE may not end another role's session: try a few times, then leave the throwaway database.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", admin);
                await drop.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException) when (attempt < 5)
            {
                await Task.Delay(200 * attempt);
            }
            catch (PostgresException)
            {
                return;
            }
        }
    }
}

/// <summary>
/// A test that needs a PostgreSQL server. xunit 2 has no dynamic skip, so the attribute skips itself, with the
/// instructions in the reason, when <c>PLEOKEYS_TEST_POSTGRES</c> is not set.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (TestDatabase.PostgresConnectionString is null)
        {
            Skip = TestDatabase.HowToRunPostgres;
        }
    }
}
