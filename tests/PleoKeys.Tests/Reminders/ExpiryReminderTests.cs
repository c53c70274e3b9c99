using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;
using PleoKeys.Web.Reminders;

namespace PleoKeys.Tests.Reminders;

/// <summary>
/// Expiry reminders received through a real SMTP server in the test process, the clock moved through each
/// threshold. The demo data holds "Vendor import script", expiring at the end of 1 December 2026 (Copenhagen),
/// 5 days after the factory's start, and "Old BI connector", expired 10 days before it.
/// </summary>
public sealed class ExpiryReminderTests : IDisposable
{
    private static readonly DateTime Start = PleoKeysFactory.Start.UtcDateTime;

    private readonly TestSmtpServer _smtp;
    private readonly ReminderFactory _app;

    public ExpiryReminderTests()
    {
        _smtp = new TestSmtpServer();
        _app = new ReminderFactory(_smtp);
        _app.CreateClient().Dispose(); // starts the app: migrations and demo data
    }

    public void Dispose()
    {
        _app.Dispose();
        _smtp.Dispose();
    }

    [Fact]
    public async Task EachThreshold_IsSentOnce_ToTheCompanysAdminsAndBookkeepersWithWorkEmails()
    {
        // Beyond the demo's members (an org-level Admin, an ApS Bookkeeper, an ApS Employee and an ApS Admin on
        // gmail.com): an org-level Bookkeeper, who is told, and a Bookkeeper of the other entity, who is not.
        await AddMemberAsync("org.bookkeeper@nordiccoffee.example", companyId: null, MemberRole.Bookkeeper);
        await AddMemberAsync("ab.bookkeeper@nordiccoffee.example", DemoData.NordicCoffeeAbId, MemberRole.Bookkeeper);
        // The end of 5 January 2027 in Copenhagen, as the Create page sets it: 23:00 UTC.
        var expires = PleoKeys.Web.ApiKeys.Expiry.EndOfDayUtc(new DateOnly(2027, 1, 5), TimeZoneInfo.FindSystemTimeZoneById("Europe/Copenhagen"));
        var keyId = await _app.AddKeyAsync("Payroll export", expires);
        var lastUsed = Start.AddDays(-2);
        await _app.WithDbAsync(db => db.ApiKeys.Where(k => k.Id == keyId).ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAtUtc, lastUsed)));
        var fingerprint = (await _app.WithDbAsync(db => db.ApiKeys.SingleAsync(k => k.Id == keyId))).Fingerprint;
        string[] expected = [DemoData.Admin, DemoData.Bookkeeper, "org.bookkeeper@nordiccoffee.example"];

        (DateTime At, string? Subject)[] steps =
        [
            (Start, null),
            (expires.AddDays(-30).AddMinutes(-1), null),
            (expires.AddDays(-30), "The API key \u2068Payroll export\u2069 expires within 30 days"),
            (expires.AddDays(-7).AddMinutes(1), "The API key \u2068Payroll export\u2069 expires within 7 days"),
            (expires.AddDays(-1).AddHours(2), "The API key \u2068Payroll export\u2069 expires within a day"),
            (expires.AddMinutes(-1), null),
            (expires.AddHours(3), "The API key \u2068Payroll export\u2069 has expired"),
            (expires.AddDays(6), null),
        ];
        var sent = 0;
        foreach (var (at, subject) in steps)
        {
            ReminderKeys.SetTime(at, _app);
            await _app.ScanAsync();
            await _app.ScanAsync();
            if (subject is not null)
            {
                sent++;
            }

            var mails = _smtp.For("Payroll export");
            Assert.Equal(sent, mails.Count);
            if (subject is null)
            {
                continue;
            }

            var mail = mails[^1];
            Assert.Equal(subject, mail.Message.Subject);
            Assert.Equal(expected.Order(), mail.EnvelopeTo.Order());
            Assert.Equal(expected.Order(), mail.Message.To.Mailboxes.Select(m => m.Address).Order());
            Assert.Equal("no-reply@keys.example.test", mail.Message.From.Mailboxes.Single().Address);
            Assert.Equal(ReminderFactory.RenewUrl(keyId), mail.RenewHref);
            Assert.Contains("Renew: " + ReminderFactory.RenewUrl(keyId), mail.Text, StringComparison.Ordinal);
            Assert.Contains(fingerprint, mail.Text, StringComparison.Ordinal);
            Assert.Contains("Nordic Coffee ApS", mail.Text, StringComparison.Ordinal);
            Assert.Contains("Last used:   " + lastUsed.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture) + " UTC", mail.Text, StringComparison.Ordinal);
            Assert.Contains("Tuesday 5 January 2027 (Europe/Copenhagen time)", mail.Text, StringComparison.Ordinal);
            Assert.Contains("2027-01-05 23:00 UTC", mail.Text, StringComparison.Ordinal);
            Assert.Contains("<bdi>Payroll export</bdi>", mail.Html, StringComparison.Ordinal);
        }

        var rows = await _app.RemindersOfAsync(keyId);
        Assert.Equal(
            [ReminderThreshold.Expired, ReminderThreshold.OneDay, ReminderThreshold.SevenDays, ReminderThreshold.ThirtyDays],
            rows.Select(r => r.Threshold).Order());
        Assert.All(rows, r => Assert.True(r.SentAtUtc is not null && r.NextAttemptAtUtc is null && r.Attempts == 1 && r.RecipientCount == 3));
    }

    [Fact]
    public async Task KeyAlreadyPastThresholds_WhenFirstSeen_GetsOnlyTheLatest_AndLongExpiredKeysNone()
    {
        var recentlyExpired = await _app.AddKeyAsync("Expired yesterday", Start.AddDays(-1));
        await _app.ScanAsync();

        var vendor = Assert.Single(_smtp.For("Vendor import script"));
        Assert.Equal("The API key \u2068Vendor import script\u2069 expires within 7 days", vendor.Message.Subject);
        Assert.Equal("The API key \u2068Expired yesterday\u2069 has expired", Assert.Single(_smtp.For("Expired yesterday")).Message.Subject);
        // Expired 10 days ago, before the 7 days the expired reminder is sent for.
        Assert.Empty(_smtp.For("Old BI connector"));
        Assert.Equal(2, _smtp.Received.Count);
        var vendorId = (await _app.KeyRowByNameAsync("Vendor import script")).Id;
        Assert.Equal([ReminderThreshold.SevenDays], (await _app.RemindersOfAsync(vendorId)).Select(r => r.Threshold));
        Assert.Equal([ReminderThreshold.Expired], (await _app.RemindersOfAsync(recentlyExpired)).Select(r => r.Threshold));
    }

    [Fact]
    public async Task DeletedKey_GetsNoReminder_EvenOneRecordedBeforeItWasDeleted()
    {
        await DeleteDemoKeysAsync();
        var deleted = await _app.AddKeyAsync("Deleted before", Start.AddDays(3));
        var deletedLater = await _app.AddKeyAsync("Deleted after", Start.AddDays(3));
        await _app.WithDbAsync(db => db.ApiKeys.Where(k => k.Id == deleted).ExecuteUpdateAsync(s => s.SetProperty(k => k.DeletedAtUtc, Start)));

        _smtp.RefuseNext = 1; // "Deleted after" is recorded, its send fails, and the key is deleted before the retry.
        await _app.ScanAsync();
        Assert.Equal(1, _smtp.Refused);
        await _app.WithDbAsync(db => db.ApiKeys.Where(k => k.Id == deletedLater).ExecuteUpdateAsync(s => s.SetProperty(k => k.DeletedAtUtc, Start)));
        ReminderKeys.SetTime(Start.AddHours(2), _app);
        await _app.ScanAsync();

        Assert.Empty(_smtp.Received);
        Assert.Empty(await _app.RemindersOfAsync(deleted));
        var row = Assert.Single(await _app.RemindersOfAsync(deletedLater));
        Assert.Null(row.SentAtUtc);
        Assert.Null(row.NextAttemptAtUtc);
        Assert.Equal("Key deleted.", row.LastError);
    }

    [Fact]
    public async Task FailedSend_IsRetriedAfterItsDelay_AndSentOnce()
    {
        var vendorId = (await _app.KeyRowByNameAsync("Vendor import script")).Id;
        _smtp.RefuseNext = 1;
        await _app.ScanAsync();
        Assert.Equal(1, _smtp.Refused);
        Assert.Empty(_smtp.Received);
        var failed = Assert.Single(await _app.RemindersOfAsync(vendorId));
        Assert.Equal(1, failed.Attempts);
        Assert.Null(failed.SentAtUtc);
        Assert.Contains("SmtpCommandException", failed.LastError, StringComparison.Ordinal);
        Assert.Equal(Start + ExpiryReminders.RetryDelay(1), failed.NextAttemptAtUtc);

        // Not before its retry time...
        ReminderKeys.SetTime(Start.AddSeconds(30), _app);
        await _app.ScanAsync();
        Assert.Empty(_smtp.Received);
        Assert.Equal(1, (await _app.RemindersOfAsync(vendorId)).Single().Attempts);

        // ...then once, however often the scan runs.
        ReminderKeys.SetTime(Start + ExpiryReminders.RetryDelay(1), _app);
        await _app.ScanAsync();
        await _app.ScanAsync();
        ReminderKeys.SetTime(Start.AddHours(3), _app);
        await _app.ScanAsync();
        Assert.Single(_smtp.For("Vendor import script"));
        var sent = Assert.Single(await _app.RemindersOfAsync(vendorId));
        Assert.Equal(2, sent.Attempts);
        Assert.NotNull(sent.SentAtUtc);
        Assert.Null(sent.LastError);
    }

    [Fact]
    public async Task Restart_OnTheSameDatabase_SendsNothingTwice()
    {
        await _app.ScanAsync();
        Assert.Single(_smtp.Received);

        // The app started again on the same database: its background scan runs at start, as after a deployment.
        await using (var restarted = new ReminderFactory(_smtp) { SharesDatabaseWith = _app, RunBackgroundScan = true })
        {
            ReminderKeys.SetTime(Start.AddMinutes(5), restarted);
            restarted.CreateClient().Dispose();
            await restarted.ScanAsync();
            await Task.Delay(300);
            Assert.Single(_smtp.Received);

            var vendor = await _app.KeyRowByNameAsync("Vendor import script");
            ReminderKeys.SetTime(vendor.ExpiresAtUtc.AddHours(-20), restarted, _app);
            await restarted.ScanAsync();
            await _app.ScanAsync();
            await _smtp.WaitForAsync(2);
            await Task.Delay(300);
            Assert.Equal(2, _smtp.For("Vendor import script").Count);
        }
    }

    [Fact]
    public async Task BackgroundService_ScansAtStartAndEveryIntervalOfTheTimeProvider()
    {
        await using var app = new ReminderFactory(_smtp) { SharesDatabaseWith = _app, RunBackgroundScan = true };
        app.CreateClient().Dispose();
        await _smtp.WaitForAsync(1);
        var vendor = await _app.KeyRowByNameAsync("Vendor import script");

        // The next tick is an hour (Email:ReminderScanInterval) of the app's clock away; moving the clock fires it.
        app.Time.SetUtcNow(new DateTimeOffset(vendor.ExpiresAtUtc.AddHours(-2), TimeSpan.Zero));
        await _smtp.WaitForAsync(2);
        Assert.Equal("The API key \u2068Vendor import script\u2069 expires within a day", _smtp.Received.Last().Message.Subject);
    }

    [Fact]
    public async Task KeyOfAnEmployeeCreator_DoesNotMailTheEmployee_NorAccountsWithPersonalEmail()
    {
        await DeleteDemoKeysAsync();
        var keyId = await _app.AddKeyAsync("Made before a demotion", Start.AddDays(2));
        var employeeId = await _app.UserIdAsync(DemoData.Employee);
        await _app.WithDbAsync(db => db.ApiKeys.Where(k => k.Id == keyId).ExecuteUpdateAsync(s => s.SetProperty(k => k.CreatedByUserId, employeeId)));

        await _app.ScanAsync();

        var mail = Assert.Single(_smtp.Received);
        Assert.DoesNotContain(DemoData.Employee, mail.EnvelopeTo);
        Assert.DoesNotContain(DemoData.PersonalAdmin, mail.EnvelopeTo);
        Assert.DoesNotContain(DemoData.FjordAdmin, mail.EnvelopeTo);
        Assert.Equal(new[] { DemoData.Admin, DemoData.Bookkeeper }.Order(), mail.EnvelopeTo.Order());
    }

    [Fact]
    public async Task RenewLink_OpensTheRollPageOfTheKey()
    {
        await _app.ScanAsync();
        var mail = Assert.Single(_smtp.Received);
        var vendor = await _app.KeyRowByNameAsync("Vendor import script");
        var link = new Uri(mail.RenewHref);
        Assert.Equal(new Uri(ReminderFactory.PublicBaseUrl).Authority, link.Authority);
        Assert.Equal($"/Settings/ApiKeys/Roll/{vendor.Id}", link.AbsolutePath);

        // The roll page comes with "Roll key" (issue 14); where it is in the app, the link opens it for an Admin.
        var hasRollPage = _app.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Any(e => e.Metadata.GetMetadata<PageActionDescriptor>()?.ViewEnginePath == "/Settings/ApiKeys/Roll");
        if (hasRollPage)
        {
            var admin = await _app.SignedInClientAsync(DemoData.Admin);
            var page = await admin.GetAsync(link.PathAndQuery);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("Vendor import script", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    private async Task AddMemberAsync(string email, Guid? companyId, MemberRole role)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = new AppUser { UserName = email, Email = email, EmailConfirmed = true, DisplayName = email };
        Assert.True((await users.CreateAsync(user, DemoData.Password)).Succeeded);
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        db.Memberships.Add(new Membership { UserId = user.Id, OrganisationId = DemoData.NordicCoffeeGroupId, CompanyId = companyId, Role = role });
        await db.SaveChangesAsync();
    }

    private Task<int> DeleteDemoKeysAsync() =>
        _app.WithDbAsync(db => db.ApiKeys.ExecuteUpdateAsync(s => s.SetProperty(k => k.DeletedAtUtc, Start)));
}

/// <summary>Without an SMTP host, the reminder is an .eml file whose Renew link is on PleoKeys:PublicBaseUrl.</summary>
public sealed class PickupFolderReminderTests
{
    [Fact]
    public async Task WithoutSmtpHost_TheDemoKeysReminder_IsWrittenAsEml_WithItsRenewLink()
    {
        await using var app = new PleoKeysFactory();
        app.CreateClient().Dispose(); // the background scan runs at start
        var vendor = await app.KeyRowByNameAsync("Vendor import script");

        var until = DateTime.UtcNow.AddSeconds(20);
        string[] files;
        while ((files = Directory.Exists(app.MailFolder) ? Directory.GetFiles(app.MailFolder, "*.eml") : []).Length == 0 && DateTime.UtcNow < until)
        {
            await Task.Delay(50);
        }

        var message = await MimeKit.MimeMessage.LoadAsync(Assert.Single(files));
        Assert.Equal("The API key \u2068Vendor import script\u2069 expires within 7 days", message.Subject);
        // Without PleoKeys:PublicBaseUrl the links start with the address the server listens on: the test server's is
        // http://localhost (`dotnet run`'s is http://localhost:5080, from launchSettings.json).
        Assert.Contains($"Renew: http://localhost/Settings/ApiKeys/Roll/{vendor.Id}", message.TextBody, StringComparison.Ordinal);
    }
}

/// <summary>Bad email settings stop the app at start with a message naming the setting.</summary>
public sealed class EmailOptionsTests
{
    private sealed class MisconfiguredFactory(string setting, string value) : PleoKeysFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { [setting] = value };
    }

    [Theory]
    [InlineData("Email:Smtp:Port", "0")]
    [InlineData("Email:Smtp:Port", "70000")]
    [InlineData("Email:From", "not an address")]
    [InlineData("Email:ReminderScanInterval", "00:00:00")]
    [InlineData("Email:ReminderScanInterval", "-01:00:00")]
    [InlineData("Email:Smtp:Password", "secret-without-user")]
    [InlineData("PleoKeys:PublicBaseUrl", "keys.example.com")]
    [InlineData("PleoKeys:PublicBaseUrl", "ftp://keys.example.com")]
    public async Task InvalidSetting_StopsTheStart_NamingIt(string setting, string value)
    {
        await using var app = new MisconfiguredFactory(setting, value);
        var error = Assert.Throws<OptionsValidationException>(() => app.CreateClient());
        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-without-user", error.Message, StringComparison.Ordinal);
    }
}

/// <summary>The pure parts: when each reminder is due, and how the email isolates and encodes the key's name.</summary>
public sealed class ReminderRulesTests
{
    private static readonly DateTime Expires = new(2026, 12, 1, 23, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData(-31 * 24 * 60, null)]
    [InlineData(-30 * 24 * 60, ReminderThreshold.ThirtyDays)]
    [InlineData(-7 * 24 * 60 - 1, ReminderThreshold.ThirtyDays)]
    [InlineData(-7 * 24 * 60, ReminderThreshold.SevenDays)]
    [InlineData(-24 * 60 - 1, ReminderThreshold.SevenDays)]
    [InlineData(-24 * 60, ReminderThreshold.OneDay)]
    [InlineData(-1, ReminderThreshold.OneDay)]
    [InlineData(0, ReminderThreshold.Expired)]
    [InlineData(7 * 24 * 60 - 1, ReminderThreshold.Expired)]
    [InlineData(7 * 24 * 60, null)]
    public void DueAt_FollowsTheThresholds(int minutesFromExpiry, ReminderThreshold? expected) =>
        Assert.Equal(expected, ExpiryReminders.DueAt(Expires, Expires.AddMinutes(minutesFromExpiry)));

    [Fact]
    public void Email_IsolatesAndEncodesTheName()
    {
        const string name = "<img src=x> \u202Etxt.exe";
        var message = ReminderEmail.Compose(
            new ReminderKey(Guid.NewGuid(), name, "pleo_test_abc_…1234", "Nordic Coffee ApS", "Europe/Copenhagen", Expires, null),
            ReminderThreshold.SevenDays,
            new MimeKit.MailboxAddress("PleoKeys", "no-reply@example.com"),
            [new MimeKit.MailboxAddress("A", "a@example.com")],
            "https://keys.example.test/");

        Assert.Contains("<bdi>&lt;img src=x&gt; &#x202E;txt.exe</bdi>", message.HtmlBody, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", message.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("\u2068" + name + "\u2069", message.TextBody, StringComparison.Ordinal);
        Assert.Contains("\u2068" + name + "\u2069", message.Subject, StringComparison.Ordinal);
        Assert.Contains("Last used:   never used", message.TextBody, StringComparison.Ordinal);
        Assert.Contains("https://keys.example.test/Settings/ApiKeys/Roll/", message.TextBody, StringComparison.Ordinal);
    }
}
