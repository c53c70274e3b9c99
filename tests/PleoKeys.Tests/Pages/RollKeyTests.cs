using System.Globalization;
using System.Net;
using AngleSharp.Html.Dom;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Api;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Pages;

/// <summary>
/// Issue 14, "Roll a key" and "Renew in one click": through the real Details page, roll form and reveal, with the clock
/// moved to the exact end of each grace period.
/// </summary>
public sealed class RollKeyTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    private static readonly TimeZoneInfo Copenhagen = TimeZoneInfo.FindSystemTimeZoneById("Europe/Copenhagen");

    private const string Me = "/v1/installations/me";

    public static TheoryData<string, int> GracePeriods => new() { { "now", 0 }, { "1h", 60 }, { "24h", 24 * 60 }, { "7d", 7 * 24 * 60 } };

    /// <summary>Follows Details → Roll key to the roll form, as a user does.</summary>
    private static async Task<IHtmlDocument> OpenRollFormAsync(HttpClient client, Guid id)
    {
        var details = await client.GetDocumentAsync($"/Settings/ApiKeys/Details/{id}");
        var roll = details.QuerySelectorAll("main .page-head a").Single(a => a.Text() == "Roll key");
        var page = await client.GetDocumentAsync(roll.GetAttribute("href")!);
        Assert.Equal($"/Settings/ApiKeys/Roll/{id}", new Uri(page.Url).AbsolutePath);
        return page;
    }

    /// <summary>Submits the roll form and reads the new key from the one-time reveal.</summary>
    private static async Task<(string Key, IHtmlDocument Reveal)> SubmitRollAsync(HttpClient client, IHtmlDocument form, params (string Name, string Value)[] fields)
    {
        var response = await client.SubmitAsync(form.Form("main form"), fields);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var reveal = await client.GetDocumentAsync(response.Headers.Location!.OriginalString);
        var key = ((IHtmlInputElement?)reveal.QuerySelector("#new-key"))?.Value ?? throw new InvalidOperationException("The reveal shows no key.");
        return (key, reveal);
    }

    private async Task<(string Key, ApiKey Row)> NewKeyAsync(HttpClient client, string name, string expiration = "30", string accessLevel = "Company")
    {
        var key = await client.CreateKeyAsync(name, expiration, accessLevel);
        return (key, await factory.KeyRowAsync(key));
    }

    private static DateTime Local(DateTime utc) => TimeZoneInfo.ConvertTimeFromUtc(utc, Copenhagen);

    [Theory]
    [MemberData(nameof(GracePeriods))]
    public async Task Roll_WithEachGracePeriod_BothSecretsWorkDuringIt_AndTheOldStopsExactlyAtItsEnd(string grace, int minutes)
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Rolled " + grace);
        var (old, row) = await NewKeyAsync(admin, name);
        var api = factory.NewClient();
        // In use before the roll, so this instance has its state cached: the roll must still reach it.
        Assert.Equal(HttpStatusCode.OK, (await api.ApiGetAsync(Me, old)).StatusCode);

        var form = await OpenRollFormAsync(admin, row.Id);
        var rolledAt = factory.Time.GetUtcNow().UtcDateTime;
        var (replacement, reveal) = await SubmitRollAsync(admin, form, ("Input.Grace", grace));

        var end = rolledAt.AddMinutes(minutes);
        var oldRow = await factory.KeyRowAsync(old);
        var newRow = await factory.KeyRowAsync(replacement);
        Assert.Equal(rolledAt, oldRow.RolledAtUtc);
        Assert.Equal(end, oldRow.SecretStopsAtUtc);
        Assert.Equal(newRow.Id, oldRow.ReplacedByKeyId);
        Assert.Equal((name, row.Scopes, row.AccessLevel), (newRow.Name, newRow.Scopes, newRow.AccessLevel));
        Assert.NotEqual(row.KeyId, newRow.KeyId);
        Assert.Equal("Your new API key", reveal.QuerySelector("main h1").Text());

        var fresh = await api.ApiGetAsync(Me, replacement);
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.False(fresh.Headers.Contains("Deprecation"));
        Assert.False(fresh.Headers.Contains("Sunset"));
        if (minutes > 0)
        {
            factory.Time.SetUtcNow(new DateTimeOffset(end.AddTicks(-1), TimeSpan.Zero));
            var lastMoment = await api.ApiGetAsync(Me, old);
            Assert.Equal(HttpStatusCode.OK, lastMoment.StatusCode);
            Assert.Equal("@" + new DateTimeOffset(rolledAt).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), Assert.Single(lastMoment.Headers.GetValues("Deprecation")));
            Assert.Equal(end.ToString("R", CultureInfo.InvariantCulture), Assert.Single(lastMoment.Headers.GetValues("Sunset")));
            Assert.Equal(HttpStatusCode.OK, (await api.ApiGetAsync(Me, replacement)).StatusCode);
            factory.Time.SetUtcNow(new DateTimeOffset(end, TimeSpan.Zero));
        }

        var stopped = await api.ApiGetAsync(Me, old);
        Assert.Equal(HttpStatusCode.Unauthorized, stopped.StatusCode);
        var problem = await stopped.ReadProblemAsync();
        Assert.Equal("API key rolled", problem.Title);
        Assert.Equal($"This API key was rolled on {Local(rolledAt):yyyy-MM-dd}; use its replacement.", problem.Detail);
        Assert.False(stopped.Headers.Contains("Deprecation"));
        Assert.Equal(HttpStatusCode.OK, (await api.ApiGetAsync(Me, replacement)).StatusCode);

        // The audit trail: the roll on both rows, and the old secret's end once (at the roll for "now", else by the
        // background service within its interval after the end).
        var audit = await factory.WithDbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.ApiKeyId == row.Id || e.ApiKeyId == newRow.Id).ToListAsync());
        Assert.Single(audit, e => e.Action == AuditActions.KeyRolled && e.ApiKeyId == row.Id && e.Detail!.Contains(newRow.Fingerprint, StringComparison.Ordinal));
        Assert.Single(audit, e => e.Action == AuditActions.KeyCreated && e.ApiKeyId == newRow.Id && e.Detail!.Contains("replaces " + row.Fingerprint, StringComparison.Ordinal));
        factory.Time.Advance(RolledSecretEnds.Interval);
        var ended = await EventuallyAsync(() => factory.WithDbAsync(db =>
            db.AuditEvents.AsNoTracking().Where(e => e.ApiKeyId == row.Id && e.Action == AuditActions.KeySecretEnded).ToListAsync()));
        Assert.Equal(end, Assert.Single(ended).AtUtc);
        await Task.Delay(200);
        Assert.Single(await factory.WithDbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.ApiKeyId == row.Id && e.Action == AuditActions.KeySecretEnded).ToListAsync()));
    }

    [Fact]
    public async Task Roll_RollForm_DefaultsToTheKeysLengthAndOffersTheFourGracePeriods()
    {
        var bookkeeper = await factory.SignedInClientAsync(DemoData.Bookkeeper);
        var (_, row) = await NewKeyAsync(bookkeeper, PageHelpers.UniqueName("Sixty days"), expiration: "60");

        var form = await OpenRollFormAsync(bookkeeper, row.Id);

        Assert.Equal("60", ((IHtmlInputElement)form.QuerySelector("input[name='Input.Expiration']:checked")!).Value);
        var graces = form.QuerySelectorAll("input[name='Input.Grace']").Cast<IHtmlInputElement>().ToList();
        Assert.Equal(["now", "1h", "24h", "7d"], graces.Select(g => g.Value));
        Assert.Equal(["Now", "1 hour", "24 hours", "7 days"], graces.Select(g => g.ParentElement.Text()));
    }

    [Fact]
    public async Task Roll_TheSameFormSubmittedAgain_RollsNothing_AndARollOfTheRolledKeyIsRefused()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Replayed roll");
        var (_, row) = await NewKeyAsync(admin, name);
        var form = await OpenRollFormAsync(admin, row.Id);
        var secondTab = await admin.GetDocumentAsync($"/Settings/ApiKeys/Roll/{row.Id}");
        await SubmitRollAsync(admin, form, ("Input.Grace", "1h"));

        var replay = await admin.SubmitAsync(form.Form("main form"), ("Input.Grace", "1h"));
        Assert.Equal(HttpStatusCode.Conflict, replay.StatusCode);
        var replayPage = await Html.ParseAsync(replay);
        Assert.Equal("This key was already rolled", replayPage.QuerySelector("main h1").Text());
        Assert.Null(replayPage.QuerySelector("#new-key"));

        var other = await admin.SubmitAsync(secondTab.Form("main form"), ("Input.Grace", "now"));
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        Assert.StartsWith($"API key “{name}” was already rolled on", (await Html.ParseAsync(other)).QuerySelector("main [role=alert]").Text(), StringComparison.Ordinal);

        // Two rows in all (the original and one replacement), the original's grace unchanged by the refused "now".
        Assert.Equal(2, await factory.CountKeysNamedAsync(name));
        Assert.NotNull((await factory.WithDbAsync(db => db.ApiKeys.AsNoTracking().SingleAsync(k => k.Id == row.Id))).SecretStopsAtUtc);
        Assert.Equal(factory.Time.GetUtcNow().UtcDateTime.AddHours(1), (await factory.WithDbAsync(db => db.ApiKeys.AsNoTracking().SingleAsync(k => k.Id == row.Id))).SecretStopsAtUtc);
        // The rolled key's Details no longer offers Roll key; its roll page says why.
        var details = await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}");
        Assert.DoesNotContain(details.QuerySelectorAll("main a"), a => a.Text() == "Roll key");
        Assert.Equal("The key was not rolled", (await admin.GetDocumentAsync($"/Settings/ApiKeys/Roll/{row.Id}")).QuerySelector("main h1").Text());
    }

    [Fact]
    public async Task Roll_TwoConcurrentRollsOfOneKey_MakeOneReplacement()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var bookkeeper = await factory.SignedInClientAsync(DemoData.Bookkeeper);
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var name = PageHelpers.UniqueName("Rolled twice");
            var (_, row) = await NewKeyAsync(admin, name);
            var adminForm = await admin.GetDocumentAsync($"/Settings/ApiKeys/Roll/{row.Id}");
            var bookkeeperForm = await bookkeeper.GetDocumentAsync($"/Settings/ApiKeys/Roll/{row.Id}");

            var answers = await Task.WhenAll(
                admin.SubmitAsync(adminForm.Form("main form"), ("Input.Grace", "24h")),
                bookkeeper.SubmitAsync(bookkeeperForm.Form("main form"), ("Input.Grace", "1h")));

            Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Redirect);
            Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Conflict);
            Assert.Equal(2, await factory.CountKeysNamedAsync(name));
            Assert.Equal(1, await factory.WithDbAsync(db => db.AuditEvents.CountAsync(e => e.ApiKeyId == row.Id && e.Action == AuditActions.KeyRolled)));
        }
    }

    [Fact]
    public async Task Roll_TheSameFormSubmittedConcurrently_IssuesOneKey()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Double click roll");
        var (_, row) = await NewKeyAsync(admin, name);
        var form = await admin.GetDocumentAsync($"/Settings/ApiKeys/Roll/{row.Id}");

        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => admin.SubmitAsync(form.Form("main form"), ("Input.Grace", "1h"))));

        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Redirect);
        Assert.Equal(3, answers.Count(a => a.StatusCode == HttpStatusCode.Conflict));
        Assert.Equal(2, await factory.CountKeysNamedAsync(name));
    }

    [Fact]
    public async Task Roll_KeyOfAnotherCompany_IsNotFound()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SwitchCompanyAsync(DemoData.NordicCoffeeAbId)).StatusCode);
        var (swedish, row) = await NewKeyAsync(admin, PageHelpers.UniqueName("Swedish roll"));
        var bookkeeper = await factory.SignedInClientAsync(DemoData.Bookkeeper);
        var ownKey = (await NewKeyAsync(bookkeeper, PageHelpers.UniqueName("Own"))).Row;
        var ownForm = await bookkeeper.GetDocumentAsync($"/Settings/ApiKeys/Roll/{ownKey.Id}");

        Assert.Equal(HttpStatusCode.NotFound, (await bookkeeper.GetAsync($"/Settings/ApiKeys/Roll/{row.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bookkeeper.GetAsync($"/Settings/ApiKeys/Roll/{Guid.NewGuid()}")).StatusCode);
        // The Bookkeeper's own valid form, posted at the other company's key.
        var form = ownForm.Form("main form");
        form.Action = $"/Settings/ApiKeys/Roll/{row.Id}";
        Assert.Equal(HttpStatusCode.NotFound, (await bookkeeper.SubmitAsync(form, ("Input.Grace", "now"))).StatusCode);
        Assert.Null((await factory.KeyRowAsync(swedish)).RolledAtUtc);
    }

    [Fact]
    public async Task Roll_FormOpenedForApS_SubmittedAfterASecondTabSwitchedToAb_IsRefusedNamingBoth()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Two tabs roll");
        var (key, row) = await NewKeyAsync(admin, name, accessLevel: "Organisation");   // listed in both companies
        var form = await admin.GetDocumentAsync($"/Settings/ApiKeys/Roll/{row.Id}");

        await admin.SwitchCompanyAsync(DemoData.NordicCoffeeAbId);
        var submitted = await admin.SubmitAsync(form.Form("main form"), ("Input.Grace", "now"));

        Assert.Equal(HttpStatusCode.Conflict, submitted.StatusCode);
        Assert.Contains("This form was opened for Nordic Coffee ApS, but you have since switched to Nordic Coffee AB. Nothing was rolled.",
            (await Html.ParseAsync(submitted)).QuerySelector("main [role=alert]").Text(), StringComparison.Ordinal);
        Assert.Null((await factory.KeyRowAsync(key)).RolledAtUtc);
        Assert.Equal(1, await factory.CountKeysNamedAsync(name));
    }

    [Fact]
    public async Task Roll_TheListAndDetailsTellTheStory()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Storyteller");
        var (old, row) = await NewKeyAsync(admin, name);
        var (replacement, _) = await SubmitRollAsync(admin, await OpenRollFormAsync(admin, row.Id), ("Input.Grace", "1h"));
        var newRow = await factory.KeyRowAsync(replacement);
        var stops = Local(factory.Time.GetUtcNow().UtcDateTime.AddHours(1)).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

        var search = "/Settings/ApiKeys?q=" + Uri.EscapeDataString(name);
        var listed = Assert.Single((await admin.GetDocumentAsync(search)).KeyTableRows());
        Assert.Equal($"{newRow.Fingerprint} replaces {row.Fingerprint} old secret stops at {stops}", listed["Key"]);

        var details = await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{newRow.Id}");
        Assert.Contains($"Replaces {row.Fingerprint}: old secret stops at {stops}", details.QuerySelector("dl.facts").Text(), StringComparison.Ordinal);
        var oldDetails = await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}");
        Assert.Contains($"its replacement is {newRow.Fingerprint}. Its old secret stops working at {stops}.", oldDetails.QuerySelector("main .rolled-note").Text(), StringComparison.Ordinal);
        Assert.Contains(oldDetails.QuerySelectorAll("ul.history li"), li => li.Text().Contains("Rolled by", StringComparison.Ordinal));

        factory.Time.Advance(TimeSpan.FromHours(1));
        var later = await factory.SignedInClientAsync(DemoData.Admin);
        Assert.Equal($"{newRow.Fingerprint} replaces {row.Fingerprint}", Assert.Single((await later.GetDocumentAsync(search)).KeyTableRows())["Key"]);
        Assert.Contains("Its old secret stopped working at", (await later.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}")).QuerySelector("main .rolled-note").Text(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.NewClient().ApiGetAsync(Me, old)).StatusCode);
    }

    [Fact]
    public async Task Roll_ReplacementDeletedDuringTheGrace_TheOldKeyIsListedUntilItsSecretStops()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Orphaned");
        var (_, row) = await NewKeyAsync(admin, name);
        var (replacement, _) = await SubmitRollAsync(admin, await OpenRollFormAsync(admin, row.Id), ("Input.Grace", "1h"));
        var newRow = await factory.KeyRowAsync(replacement);
        var delete = await admin.GetDocumentAsync($"/Settings/ApiKeys/Delete/{newRow.Id}");
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SubmitAsync(delete.Form())).StatusCode);
        var stops = Local(factory.Time.GetUtcNow().UtcDateTime.AddHours(1)).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

        var search = "/Settings/ApiKeys?q=" + Uri.EscapeDataString(name);
        var listed = Assert.Single((await admin.GetDocumentAsync(search)).KeyTableRows());
        Assert.Equal($"{row.Fingerprint} rolled, replacement deleted; secret stops at {stops}", listed["Key"]);

        factory.Time.Advance(TimeSpan.FromHours(1));
        Assert.Empty((await (await factory.SignedInClientAsync(DemoData.Admin)).GetDocumentAsync(search)).KeyTableRows());
    }

    [Fact]
    public async Task Renew_FromTheExpiresSoonBadge_IsOneClick_WithTheSameLength()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Expiring soon");
        var (old, row) = await NewKeyAsync(admin, name, expiration: "7");
        // A 7-day key ends at midnight after its 7th day: within 7 days of that instant a day later.
        factory.Time.Advance(TimeSpan.FromDays(1));

        var list = await admin.GetDocumentAsync("/Settings/ApiKeys?q=" + Uri.EscapeDataString(name));
        var badge = list.QuerySelector("table.keys tbody tr .expires a.badge")!;
        Assert.Equal("Expires soon", badge.Text());
        var form = await admin.GetDocumentAsync(badge.GetAttribute("href")!);
        Assert.Equal($"Roll key “{name}”", form.QuerySelector("main h1").Text());

        var (replacement, _) = await SubmitRollAsync(admin, form);   // one click: everything is pre-filled

        var newRow = await factory.KeyRowAsync(replacement);
        var today = DateOnly.FromDateTime(Local(factory.Time.GetUtcNow().UtcDateTime));
        // The same length again: the old key's last day was 7 days after the day it was created.
        Assert.Equal(Expiry.EndOfDayUtc(today.AddDays(7), Copenhagen), newRow.ExpiresAtUtc);
        Assert.Equal(factory.Time.GetUtcNow().UtcDateTime.AddHours(24), (await factory.KeyRowAsync(old)).SecretStopsAtUtc);
        Assert.Equal(HttpStatusCode.OK, (await factory.NewClient().ApiGetAsync(Me, old)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await factory.NewClient().ApiGetAsync(Me, replacement)).StatusCode);
    }

    [Fact]
    public async Task Renew_AnExpiredKey_IssuesANewKeyWithTheSameSettings()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Long expired");
        var (old, row) = await NewKeyAsync(admin, name, expiration: "7", accessLevel: "Organisation");
        factory.Time.Advance(TimeSpan.FromDays(9));
        admin = await factory.SignedInClientAsync(DemoData.Admin);

        var badge = (await admin.GetDocumentAsync("/Settings/ApiKeys?q=" + Uri.EscapeDataString(name))).QuerySelector("table.keys tbody tr .expires a.badge")!;
        Assert.Equal("Expired", badge.Text());
        var form = await admin.GetDocumentAsync(badge.GetAttribute("href")!);
        Assert.Equal($"Renew key “{name}”", form.QuerySelector("main h1").Text());
        Assert.Empty(form.QuerySelectorAll("input[name='Input.Grace']"));
        var (replacement, _) = await SubmitRollAsync(admin, form);

        var newRow = await factory.KeyRowAsync(replacement);
        Assert.Equal((row.Name, row.Scopes, row.AccessLevel, row.CompanyId), (newRow.Name, newRow.Scopes, newRow.AccessLevel, newRow.CompanyId));
        Assert.Equal(HttpStatusCode.OK, (await factory.NewClient().ApiGetAsync(Me, replacement)).StatusCode);
        var stopped = await factory.NewClient().ApiGetAsync(Me, old);
        Assert.Equal("API key rolled", (await stopped.ReadProblemAsync()).Title);
        var listed = Assert.Single((await admin.GetDocumentAsync("/Settings/ApiKeys?q=" + Uri.EscapeDataString(name))).KeyTableRows());
        Assert.EndsWith(" Active", listed["Expires"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_ShowsABannerCountingKeysThatExpireWithinSevenDays_LinkingToThem()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        await NewKeyAsync(admin, PageHelpers.UniqueName("Banner a"), expiration: "7");
        await NewKeyAsync(admin, PageHelpers.UniqueName("Banner b"), expiration: "7");
        factory.Time.Advance(TimeSpan.FromDays(1));
        var now = factory.Time.GetUtcNow().UtcDateTime;
        var expected = await factory.WithDbAsync(db => db.ApiKeys.Where(k => k.DeletedAtUtc == null && k.RolledAtUtc == null
                && ((k.AccessLevel == AccessLevel.Company && k.CompanyId == DemoData.NordicCoffeeApSId) || (k.AccessLevel == AccessLevel.Organisation && k.OrganisationId == DemoData.NordicCoffeeGroupId))
                && k.ExpiresAtUtc > now && k.ExpiresAtUtc <= now.AddDays(7))
            .Select(k => k.Name).ToListAsync());
        Assert.True(expected.Count >= 2);

        var list = await admin.GetDocumentAsync("/Settings/ApiKeys");
        var banner = list.QuerySelector("main .expiring-banner a")!;
        Assert.Equal($"{expected.Count} keys expire within 7 days", banner.Text());
        var filtered = await admin.GetDocumentAsync(banner.GetAttribute("href")!);
        Assert.Equal(expected.Order(StringComparer.Ordinal), filtered.KeyNames().Order(StringComparer.Ordinal));
        Assert.Null(filtered.QuerySelector("main .expiring-banner"));
    }

    private static async Task<List<T>> EventuallyAsync<T>(Func<Task<List<T>>> read)
    {
        for (var i = 0; i < 100; i++)
        {
            var found = await read();
            if (found.Count > 0)
            {
                return found;
            }

            await Task.Delay(50);
        }

        return [];
    }
}
