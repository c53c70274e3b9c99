using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Security;

/// <summary>Sign-in lockout and rate limit, no user enumeration, and the API's failed-authentication budgets.</summary>
public sealed partial class BruteForceTests(ThrottlingFactory factory) : IClassFixture<ThrottlingFactory>
{
    private const string WrongPassword = "Not-The-Password-1!";

    private static async Task<(int Status, string Message)> SignInAsync(HttpClient client, string email, string password)
    {
        var page = await client.GetDocumentAsync("/Account/Login");
        var response = await client.SubmitAsync(page.Form(), ("Input.Email", email), ("Input.Password", password));
        var html = await response.Content.ReadAsStringAsync();
        var alert = AlertText().Match(html);
        return ((int)response.StatusCode, alert.Success ? Regex.Replace(alert.Groups[1].Value, "<[^>]+>", "").Trim() : "");
    }

    [Fact]
    public async Task SignIn_FiveFailures_LockTheAccount_AndUnknownWrongAndLockedAnswerAlike()
    {
        var client = factory.ClientFrom("10.0.1.1");
        var unknown = await SignInAsync(client, "nobody@nordiccoffee.example", WrongPassword);
        var wrong = await SignInAsync(client, DemoData.PersonalAdmin, WrongPassword);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(wrong, await SignInAsync(client, DemoData.Employee, WrongPassword));
        }

        // The fifth failure locks the account: from then on even the right password is refused, in the same words.
        var fifth = await SignInAsync(client, DemoData.Employee, WrongPassword);
        var locked = await SignInAsync(client, DemoData.Employee, DemoData.Password);

        Assert.Equal(200, unknown.Status);
        Assert.Contains("Incorrect email or password", unknown.Message, StringComparison.Ordinal);
        Assert.Equal(unknown, wrong);
        Assert.Equal(unknown, fifth);
        Assert.Equal(unknown, locked);
        var user = await factory.WithDbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Email == DemoData.Employee));
        Assert.True(user.LockoutEnd > DateTimeOffset.UtcNow.AddMinutes(10), "the account is not locked for 15 minutes");
        var lockedAudit = await factory.WithDbAsync(db => db.AuditEvents.AsNoTracking()
            .Where(e => e.ActorUserId == user.Id && e.Action == AuditActions.SignInFailed).ToListAsync());
        Assert.Equal(6, lockedAudit.Count);
        Assert.All(lockedAudit, e => Assert.Equal("10.0.1.1", e.IpAddress));
        Assert.Contains(lockedAudit, e => e.Detail == "locked out");
    }

    [Fact]
    public async Task SignIn_UnknownWrongLockedAndRight_EachCostOnePasswordHashVerification()
    {
        await factory.WithDbAsync(db => db.Users.Where(u => u.Email == DemoData.FjordAdmin)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.LockoutEnd, DateTimeOffset.UtcNow.AddDays(1))));
        var client = factory.ClientFrom("10.0.5.1");
        var attempts = new (string Email, string Password)[]
        {
            ("nobody@fjordbikes.example", WrongPassword), (DemoData.Bookkeeper, WrongPassword), (DemoData.FjordAdmin, DemoData.Password), (DemoData.Bookkeeper, DemoData.Password),
        };
        var costs = new List<int>();
        foreach (var (email, password) in attempts)
        {
            var before = factory.PasswordVerifications;
            await SignInAsync(client, email, password);
            costs.Add(factory.PasswordVerifications - before);
        }

        // The same work for every kind of attempt: response time does not tell which emails exist or are locked.
        Assert.Equal([1, 1, 1, 1], costs);
    }

    [Fact]
    public async Task SignIn_OverTheLimitFromOneAddress_Returns429WithRetryAfter_OtherAddressesUnaffected()
    {
        var attacker = factory.ClientFrom("10.0.2.1");
        for (var i = 0; i < ThrottlingFactory.SignInsPerMinute; i++)
        {
            Assert.Equal(200, (await SignInAsync(attacker, $"guess{i}@nordiccoffee.example", WrongPassword)).Status);
        }

        var page = await attacker.GetDocumentAsync("/Account/Login");
        var limited = await attacker.SubmitAsync(page.Form(), ("Input.Email", DemoData.Bookkeeper), ("Input.Password", DemoData.Password));

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero, "429 without Retry-After");
        Assert.Contains("Wait a minute and try again", await limited.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await attacker.GetAsync("/Account/Login")).StatusCode);
        var bystander = factory.ClientFrom("10.0.2.2");
        Assert.Equal((302, ""), await SignInAsync(bystander, DemoData.Bookkeeper, DemoData.Password));
    }

    [Fact]
    public async Task ApiFailures_OverTheBudgetOfOneAddress_Return429WithRetryAfter_OtherAddressesStill401()
    {
        var attacker = factory.ClientFrom("10.0.3.1");
        for (var i = 0; i < ThrottlingFactory.FailuresPerClient; i++)
        {
            var key = ApiKeyFormat.Generate(KeyEnvironment.Staging).Key;
            Assert.Equal(HttpStatusCode.Unauthorized, (await attacker.ApiGetAsync("/v1/installations/me", key)).StatusCode);
        }

        var limited = await attacker.ApiGetAsync("/v1/installations/me", ApiKeyFormat.Generate(KeyEnvironment.Staging).Key);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero, "429 without Retry-After");
        Assert.Contains("Too many failed authentication attempts", await limited.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var other = factory.ClientFrom("10.0.3.2");
        Assert.Equal(HttpStatusCode.Unauthorized, (await other.ApiGetAsync("/v1/installations/me", ApiKeyFormat.Generate(KeyEnvironment.Staging).Key)).StatusCode);
    }

    [Fact]
    public async Task ApiFailures_OverTheBudgetOfOneKeyId_FromManyAddresses_Get401_AuditOneBurst_AndTheOwnerStillGets200()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync("Under attack");
        var id = await factory.ClientFrom("10.0.4.250").KeyRowIdAsync(key);

        // Guesses at the secret behind the public key id, each from a new address: no client is over its own budget.
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < ThrottlingFactory.FailuresPerKey + 6; i++)
        {
            answers.Add((await factory.ClientFrom($"10.0.4.{i + 1}").ApiGetAsync("/v1/installations/me", TestKeys.WithWrongSecret(key, i))).StatusCode);
        }

        // Issue 13.4: the key id's count is for the audit trail; nobody is refused for it, the owner least of all.
        Assert.All(answers, s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.Equal(HttpStatusCode.OK, (await factory.ClientFrom("10.0.4.250").ApiGetAsync("/v1/installations/me", key)).StatusCode);

        // One audit row for the burst, however long it goes on, naming the key by id and fingerprint, never the secret.
        var bursts = await factory.WithDbAsync(db => db.AuditEvents.AsNoTracking()
            .Where(e => e.ApiKeyId == id && e.Action == AuditActions.KeyAuthFailures).ToListAsync());
        var burst = Assert.Single(bursts);
        ApiKeyFormat.TryParse(key, out var parsed);
        Assert.Equal(parsed!.ToString(), burst.KeyFingerprint);
        Assert.Equal($"10.0.4.{ThrottlingFactory.FailuresPerKey}", burst.IpAddress);
        Assert.DoesNotContain(key[^10..], $"{burst.Detail}{burst.KeyFingerprint}", StringComparison.Ordinal);

        // The key's own page shows it.
        var details = await admin.GetStringAsync($"/Settings/ApiKeys/Details/{id}");
        Assert.Contains($"Failed authentications: {ThrottlingFactory.FailuresPerKey} in a minute", details, StringComparison.Ordinal);
    }

    [GeneratedRegex("<div class=\"alert alert-error[^>]*>(.*?)</div>", RegexOptions.Singleline)]
    private static partial Regex AlertText();
}
