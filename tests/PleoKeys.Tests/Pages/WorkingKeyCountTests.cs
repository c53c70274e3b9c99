using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Pages;

/// <summary>
/// Create counts the company's working keys twice (before hashing, and again under the company's lock) and a roll with
/// a grace period once, so the count must not read every key row: a company with 10,000 keys made it 7 ms a count on
/// SQLite, most of key creation's time beyond its hash (bench/run.sh, scenario 5c).
/// </summary>
public sealed class WorkingKeyCountTests(SqliteFileFactory factory) : IClassFixture<SqliteFileFactory>
{
    [Fact]
    public async Task CountingWorkingKeys_ReadsTheIndexAlone()
    {
        var plan = await factory.WithDbAsync(async db =>
        {
            var company = await db.Companies.Select(c => c.Id).FirstAsync();
            // The query CountAsync sends, with the count's COUNT(*) as a constant column.
            await using var command = db.ApiKeys.WorkingIn(company, DateTime.UtcNow).Select(k => 1).CreateDbCommand();
            command.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
            await db.Database.OpenConnectionAsync();
            await using var reader = await command.ExecuteReaderAsync();
            var details = new List<string>();
            while (await reader.ReadAsync())
            {
                details.Add(reader.GetString(reader.GetOrdinal("detail")));
            }

            return string.Join(" | ", details);
        });

        Assert.Contains("COVERING INDEX IX_ApiKeys_CompanyId_DeletedAtUtc_ExpiresAtUtc_SecretStopsAtUtc", plan, StringComparison.Ordinal);
    }
}
