using System.Net;
using System.Text;
using Microsoft.Data.Sqlite;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Pages;

/// <summary>Only a BCrypt hash of a key is stored or logged; every character of the key counts.</summary>
public sealed class KeyStorageTests(KeyStorageTests.SqliteLoggingFactory factory) : IClassFixture<KeyStorageTests.SqliteLoggingFactory>
{
    /// <summary>These tests read the database file itself, byte by byte, so they run on SQLite whatever the provider.</summary>
    public sealed class SqliteLoggingFactory : LoggingFactory
    {
        public override DatabaseProvider Provider => DatabaseProvider.Sqlite;
    }

    /// <summary>Every value of every column of every row of every table, as text (blobs as ASCII).</summary>
    private List<(string Table, string Column, string Value)> EveryStoredValue()
    {
        var values = new List<(string, string, string)>();
        using var connection = new SqliteConnection($"Data Source={factory.DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        var tables = new List<string>();
        using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table'";
            using var reader = list.ExecuteReader();
            while (reader.Read())
            {
                tables.Add(reader.GetString(0));
            }
        }

        foreach (var table in tables)
        {
            using var select = connection.CreateCommand();
#pragma warning disable CA2100 // The table names come from sqlite_master, not from input.
            select.CommandText = $"SELECT * FROM \"{table}\"";
#pragma warning restore CA2100
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    var value = reader.GetValue(i) switch
                    {
                        byte[] bytes => Encoding.ASCII.GetString(bytes),
                        DBNull => "",
                        var v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "",
                    };
                    values.Add((table, reader.GetName(i), value));
                }
            }
        }

        return values;
    }

    private static readonly string[] FileSuffixes = ["", "-wal"];

    private byte[] DatabaseFiles() =>
        FileSuffixes.Select(suffix => factory.DatabasePath + suffix).Where(File.Exists)
            .SelectMany(path =>
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                return copy.ToArray();
            })
            .ToArray();

    [Fact]
    public async Task CreateUseAndDelete_PlaintextIsStoredNowhere()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Never stored");
        var key = await admin.CreateKeyAsync(name);
        await factory.NewClient().ApiGetAsync("/v1/installations/me", key);
        await factory.NewClient().ApiGetAsync("/v1/installations/me", TestKeys.ChangeAt(key, 40));
        var row = await factory.KeyRowAsync(key);
        var delete = await admin.GetDocumentAsync($"/Settings/ApiKeys/Delete/{row.Id}");
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SubmitAsync(delete.Form())).StatusCode);

        var values = EveryStoredValue();

        // The test would prove nothing if it did not see the key's rows: it sees them, by their public parts.
        Assert.Contains(values, v => v.Table == "ApiKeys" && v.Value == row.KeyId);
        Assert.Contains(values, v => v.Table == "AuditEvents" && v.Value.Contains(row.KeyId, StringComparison.Ordinal));
        var secret = TestKeys.SecretOf(key);
        var leaks = values.Where(v => v.Value.Contains(secret, StringComparison.Ordinal) || v.Value.Contains(key[..TestKeys.ChecksumStart], StringComparison.Ordinal))
            .Select(v => $"{v.Table}.{v.Column}").ToList();
        Assert.Empty(leaks);
        var bytes = Encoding.ASCII.GetString(DatabaseFiles());
        Assert.DoesNotContain(secret, bytes, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateAndUse_PlaintextIsNeverLogged()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName("Never logged"));
        await factory.NewClient().ApiGetAsync("/v1/installations/me", key);
        await factory.NewClient().ApiGetAsync("/v1/installations/me", TestKeys.ChangeAt(key, 40));
        await factory.NewClient().ApiGetAsync("/v1/installations/me", TestKeys.ChangeAt(key, 58));

        var secret = TestKeys.SecretOf(key);

        Assert.NotEmpty(factory.Logs.Messages);
        Assert.DoesNotContain(factory.Logs.Messages, m => m.Contains(secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Create_StoresAVerifiableBCryptHashAndOnlyTheNonSecretParts()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);

        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName("Hashed"));

        var row = await factory.KeyRowAsync(key);
        Assert.Matches(@"^\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}$", row.SecretHash);
        Assert.True(BCrypt.Net.BCrypt.Verify(key, row.SecretHash));
        Assert.False(BCrypt.Net.BCrypt.Verify(TestKeys.ChangeAt(key, 40), row.SecretHash));
        Assert.Equal(TestKeys.KeyIdOf(key), row.KeyId);
        Assert.Equal(key[^4..], row.Last4);
    }

    [Fact]
    public async Task Api_EveryCharacterOfTheKeyChanged_IsRefused()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName("Every character"));
        var api = factory.NewClient();
        Assert.Equal(HttpStatusCode.OK, (await api.ApiGetAsync("/v1/installations/me", key)).StatusCode);

        var accepted = new List<int>();
        for (var position = 0; position < key.Length; position++)
        {
            var response = await api.ApiGetAsync("/v1/installations/me", TestKeys.ChangeAt(key, position));
            if (response.StatusCode != HttpStatusCode.Unauthorized)
            {
                accepted.Add(position);
            }

            // A changed secret character passes the format and checksum checks: only the stored credential (the
            // key's digest, or its BCrypt hash) can refuse it, in the words for a wrong secret.
            if (position is >= TestKeys.SecretStart and < TestKeys.ChecksumStart)
            {
                var problem = await response.ReadProblemAsync();
                Assert.True(problem.Detail?.StartsWith("This API key is not valid.", StringComparison.Ordinal) == true,
                    $"position {position} was refused before the stored credential was consulted: {problem.Detail}");
            }
        }

        Assert.Empty(accepted);
        Assert.Equal(61, key.Length);
    }
}
