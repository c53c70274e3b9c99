using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Security;

/// <summary>
/// A copy of the database opens nothing: the Data Protection key ring in it is encrypted to a certificate kept
/// outside the database. Each test works on a real SQLite file and its byte-for-byte copy, as someone holding a
/// stolen backup would.
/// </summary>
public sealed class KeyRingAtRestTests
{
    private static readonly Uri Site = new("http://localhost");

    /// <summary>The app started on a given database file with a given secrets folder (SQLite, to copy the file).</summary>
    private sealed class AppOn(string databasePath, string secretsPath) : PleoKeysFactory(databasePath, secretsPath)
    {
        public override DatabaseProvider Provider => DatabaseProvider.Sqlite;
    }

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"pleokeys-keyring-{Guid.NewGuid():N}");

        public string File(string name) => System.IO.Path.Combine(Path, name);

        public TempFolder() => Directory.CreateDirectory(Path);

        public void Dispose()
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(Path, recursive: true);
        }
    }

    /// <summary>A consistent copy of a live SQLite database (the WAL included), as a backup tool makes it.</summary>
    private static void CopyDatabase(string from, string to)
    {
        using var source = new SqliteConnection($"Data Source={from};Pooling=False");
        using var destination = new SqliteConnection($"Data Source={to};Pooling=False");
        source.Open();
        destination.Open();
        source.BackupDatabase(destination);
    }

    /// <summary>Signs in through the real form; returns the browser's cookies as a <c>Cookie</c> header and the sign-in cookie alone.</summary>
    private static async Task<(string Cookies, string SignInCookie)> SignInAsync(PleoKeysFactory app, string email)
    {
        var jar = new CookieContainer();
        var browser = app.CreateDefaultClient(Site, new CookieContainerHandler(jar));
        var page = await browser.GetDocumentAsync("/Account/Login");
        var response = await browser.SubmitAsync(page.Form(), ("Input.Email", email), ("Input.Password", DemoData.Password));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/Settings/ApiKeys")).StatusCode);
        return (jar.GetCookieHeader(Site), jar.GetCookies(Site)["pleokeys.auth"]!.Value);
    }

    private static HttpClient Replaying(PleoKeysFactory app, string cookies)
    {
        var client = app.CreateDefaultClient(Site);
        client.DefaultRequestHeaders.Add("Cookie", cookies);
        return client;
    }

    /// <summary>
    /// What the attacker did: the key ring's rows out of the database copy, loaded into a Data Protection
    /// provider of their own with the app's application name.
    /// </summary>
    private static async Task<IDataProtectionProvider> ProviderFromDatabaseCopyAsync(string databaseCopy, string folder)
    {
        var options = new DbContextOptionsBuilder<SqliteAppDbContext>().UseSqlite($"Data Source={databaseCopy};Pooling=False").Options;
        await using var db = new SqliteAppDbContext(options);
        foreach (var row in await db.DataProtectionKeys.ToListAsync())
        {
            await System.IO.File.WriteAllTextAsync(Path.Combine(folder, $"{row.FriendlyName}.xml"), row.Xml);
        }

        return DataProtectionProvider.Create(new DirectoryInfo(folder), b => b.SetApplicationName("PleoKeys"));
    }

    private static TicketDataFormat SignInCookieFormat(IDataProtectionProvider provider) =>
        new(provider.CreateProtector("Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationMiddleware", IdentityConstants.ApplicationScheme, "v2"));

    /// <summary>A sign-in cookie for the user, with the id and security stamp read from the database copy.</summary>
    private static async Task<string> ForgeSignInCookieAsync(IDataProtectionProvider provider, string databaseCopy, string email, DateTimeOffset now)
    {
        var options = new DbContextOptionsBuilder<SqliteAppDbContext>().UseSqlite($"Data Source={databaseCopy};Pooling=False").Options;
        await using var db = new SqliteAppDbContext(options);
        var user = await db.Users.SingleAsync(u => u.Email == email);
        var identity = new ClaimsIdentity(
            [new(ClaimTypes.NameIdentifier, user.Id), new(ClaimTypes.Name, user.UserName!), new("AspNet.Identity.SecurityStamp", user.SecurityStamp!)],
            IdentityConstants.ApplicationScheme);
        // Issued a minute ago, so the app checks the stamp too, and finds it right.
        var properties = new AuthenticationProperties { IssuedUtc = now.AddMinutes(-1), ExpiresUtc = now.AddDays(1) };
        return SignInCookieFormat(provider).Protect(new AuthenticationTicket(new ClaimsPrincipal(identity), properties, IdentityConstants.ApplicationScheme));
    }

    [Fact]
    public async Task DatabaseCopyAlone_NeitherDecryptsACapturedCookieNorForgesOne()
    {
        using var temp = new TempFolder();
        await using var app = new SqliteFileFactory();
        var (_, signInCookie) = await SignInAsync(app, DemoData.Admin);
        var copy = temp.File("stolen.db");
        CopyDatabase(app.DatabasePath, copy);
        var attackerKeys = Directory.CreateDirectory(temp.File("attacker-keys")).FullName;
        var attacker = await ProviderFromDatabaseCopyAsync(copy, attackerKeys);

        Assert.Null(SignInCookieFormat(attacker).Unprotect(signInCookie));

        var forged = await ForgeSignInCookieAsync(attacker, copy, DemoData.Admin, app.Time.GetUtcNow());
        var response = await Replaying(app, $"pleokeys.auth={forged}").GetAsync("/Settings/ApiKeys");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/Account/Login", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DatabaseCopy_WithoutTheSecret_RejectsTheCookies_WithTheSecret_AcceptsThem()
    {
        using var temp = new TempFolder();
        await using var original = new SqliteFileFactory();
        var (cookies, _) = await SignInAsync(original, DemoData.Admin);
        var withoutSecret = temp.File("copy-without-secret.db");
        var withSecret = temp.File("copy-with-secret.db");
        CopyDatabase(original.DatabasePath, withoutSecret);
        CopyDatabase(original.DatabasePath, withSecret);

        await using (var stranger = new AppOn(withoutSecret, temp.File("other-secrets")))
        {
            var replay = Replaying(stranger, cookies);
            var page = await replay.GetAsync("/Settings/ApiKeys");
            Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
            Assert.StartsWith("/Account/Login", page.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
            // The antiforgery and company cookies it cannot read either: a working page, no 500.
            Assert.Equal(HttpStatusCode.OK, (await replay.GetAsync("/Account/Login")).StatusCode);
            var signIn = await replay.GetDocumentAsync("/Account/Login");
            var posted = await replay.SubmitAsync(signIn.Form(), ("Input.Email", DemoData.Admin), ("Input.Password", DemoData.Password));
            Assert.True((int)posted.StatusCode < 500, $"Sign-in with unreadable cookies answered {(int)posted.StatusCode}.");
        }

        await using (var sameSecret = new AppOn(withSecret, original.SecretsPath))
        {
            Assert.Equal(HttpStatusCode.OK, (await Replaying(sameSecret, cookies).GetAsync("/Settings/ApiKeys")).StatusCode);
        }
    }

    [Fact]
    public async Task KeyRingRows_HoldNoKeyInTheClear()
    {
        await using var app = new SqliteFileFactory();
        await SignInAsync(app, DemoData.Admin);

        var rows = await app.WithDbAsync(db => db.DataProtectionKeys.Select(k => k.Xml).ToListAsync());

        Assert.NotEmpty(rows);
        Assert.All(rows, xml =>
        {
            Assert.Contains("<encryptedSecret", xml, StringComparison.Ordinal);
            Assert.DoesNotContain("<masterKey", xml, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Start_LogsNoUnencryptedKeyRingWarning()
    {
        await using var app = new LoggingFactory();
        await SignInAsync(app, DemoData.Admin);

        Assert.DoesNotContain(app.Logs.Messages, m => m.Contains("No XML encryptor configured", StringComparison.Ordinal));
    }

    [Fact]
    public async Task KeyStoredInTheClearByAnEarlierVersion_IsRevokedAtStart()
    {
        using var temp = new TempFolder();
        var database = temp.File("upgraded.db");
        var secrets = temp.File("secrets");
        await using (var first = new AppOn(database, secrets))
        {
            first.CreateClient();
        }

        // A key as the earlier version stored it: Data Protection without an encryptor writes the master key as is.
        var clearKeys = Directory.CreateDirectory(temp.File("clear-keys")).FullName;
        var earlier = DataProtectionProvider.Create(new DirectoryInfo(clearKeys), b => b.SetApplicationName("PleoKeys"));
        earlier.CreateProtector("warm-up").Protect("creates the key");
        var keyFile = Directory.GetFiles(clearKeys, "key-*.xml").Single();
        var options = new DbContextOptionsBuilder<SqliteAppDbContext>().UseSqlite($"Data Source={database};Pooling=False").Options;
        await using (var db = new SqliteAppDbContext(options))
        {
            db.DataProtectionKeys.Add(new() { FriendlyName = Path.GetFileNameWithoutExtension(keyFile), Xml = await System.IO.File.ReadAllTextAsync(keyFile) });
            await db.SaveChangesAsync();
        }

        await using var upgraded = new AppOn(database, secrets);
        upgraded.CreateClient();
        var forged = await ForgeSignInCookieAsync(earlier, database, DemoData.Admin, upgraded.Time.GetUtcNow());
        var response = await Replaying(upgraded, $"pleokeys.auth={forged}").GetAsync("/Settings/ApiKeys");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var keyId = Path.GetFileNameWithoutExtension(keyFile)["key-".Length..];
        var revocations = await upgraded.WithDbAsync(db => db.DataProtectionKeys.Where(k => k.Xml!.StartsWith("<revocation")).Select(k => k.Xml).ToListAsync());
        Assert.Contains(revocations, xml => xml!.Contains(keyId, StringComparison.Ordinal));
    }
}
