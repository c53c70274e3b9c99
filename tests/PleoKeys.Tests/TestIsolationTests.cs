using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;

namespace PleoKeys.Tests;

/// <summary>Each test app works on its own database file, so test classes neither share nor keep data.</summary>
public sealed class TestIsolationTests : IClassFixture<TestIsolationTests.SqliteFactory>
{
    /// <summary>The test is about the SQLite file, so it runs on SQLite whatever the provider.</summary>
    public sealed class SqliteFactory : PleoKeysFactory
    {
        public override PleoKeys.Web.Data.DatabaseProvider Provider => PleoKeys.Web.Data.DatabaseProvider.Sqlite;
    }

    private readonly SqliteFactory _factory;

    public TestIsolationTests(SqliteFactory factory) => _factory = factory;

    [Fact]
    public async Task TestApp_UsesTheFactorysOwnDatabaseFile()
    {
        var dataSource = await _factory.WithDbAsync(db =>
            Task.FromResult(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(db.Database.GetConnectionString()).DataSource));

        Assert.Equal(_factory.DatabasePath, dataSource);
        Assert.True(File.Exists(_factory.DatabasePath));
    }
}
