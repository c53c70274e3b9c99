using System.Globalization;
using System.Net;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>
/// A key stops working at the instant it expires and on the very request after it is deleted, and
/// each key shows when and from where it was last used. These tests move the class's clock forward.
/// </summary>
public sealed class KeyLifecycleTests : IClassFixture<ClientAddressFactory>
{
    private const string Me = "/v1/installations/me";
    private static readonly TimeZoneInfo Copenhagen = TimeZoneInfo.FindSystemTimeZoneById("Europe/Copenhagen");

    private readonly ClientAddressFactory _factory;

    public KeyLifecycleTests(ClientAddressFactory factory) => _factory = factory;

    private Task<HttpResponseMessage> CallAsync(string key, string from = "198.51.100.1") =>
        _factory.ClientFrom(from).ApiGetAsync(Me, key);

    /// <summary>The instant a key chosen to expire on <paramref name="date"/> stops: midnight after it in Copenhagen.</summary>
    private static DateTimeOffset EndOf(DateOnly date) =>
        TimeZoneInfo.ConvertTimeToUtc(date.AddDays(1).ToDateTime(TimeOnly.MinValue), Copenhagen);

    [Fact]
    public async Task Expiry_OneTickBeforeWorks_AtTheInstant401EvenWhileCached()
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        var date = _factory.TodayIn().AddDays(3);
        var key = await admin.CreateKeyExpiringOnAsync(date);
        await CallAsync(key).ExpectAsync(HttpStatusCode.OK);
        var verifies = _factory.Hasher.Verifies;

        _factory.Time.SetUtcNow(EndOf(date).AddTicks(-1));
        var before = await CallAsync(key).ExpectAsync(HttpStatusCode.OK);
        _factory.Time.SetUtcNow(EndOf(date));
        var at = await CallAsync(key).ExpectAsync(HttpStatusCode.Unauthorized);

        Assert.NotNull(before.Header("Pleo-Api-Key-Expires"));
        var problem = await at.ReadProblemAsync();
        Assert.Equal($"This API key expired on {date:yyyy-MM-dd}. Create a new key under Settings → API Keys.", problem.Detail);
        Assert.StartsWith("Basic realm=\"Pleo API\"", at.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal(verifies, _factory.Hasher.Verifies);
    }

    [Fact]
    public async Task Expiry_IsMidnightInTheCompanysZone_NotUtc()
    {
        // 23:30 UTC on the key's last day is already the next day in Copenhagen: the key has expired,
        // and the message names the day the user chose, not the UTC date of the instant.
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        var date = _factory.TodayIn().AddDays(2);
        var key = await admin.CreateKeyExpiringOnAsync(date);
        var end = EndOf(date);
        Assert.Equal(date, DateOnly.FromDateTime(end.UtcDateTime));

        _factory.Time.SetUtcNow(end.AddMinutes(30));
        var response = await CallAsync(key).ExpectAsync(HttpStatusCode.Unauthorized);

        Assert.Equal($"This API key expired on {date:yyyy-MM-dd}. Create a new key under Settings → API Keys.", (await response.ReadProblemAsync()).Detail);
    }

    [Fact]
    public async Task ExpiredKey_WithWrongSecret_IsJustInvalid()
    {
        // Only the holder of the real key learns that it expired.
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        var date = _factory.TodayIn().AddDays(1);
        var key = await admin.CreateKeyExpiringOnAsync(date);
        _factory.Time.SetUtcNow(EndOf(date).AddHours(1));

        var response = await CallAsync(TestKeys.WithWrongSecret(key)).ExpectAsync(HttpStatusCode.Unauthorized);

        Assert.DoesNotContain("expired", (await response.ReadProblemAsync()).Detail, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task DeleteInTheUi_MakesTheVeryNextRequest401Deleted()
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync("Doomed key");
        var row = await _factory.KeyRowAsync(key);
        await CallAsync(key).ExpectAsync(HttpStatusCode.OK);
        await CallAsync(key).ExpectAsync(HttpStatusCode.OK);

        var details = await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}");
        var deleted = await admin.SubmitAsync(details.Form($"form[method=post][action='/Settings/ApiKeys/Delete/{row.Id}']"));
        Assert.Equal(HttpStatusCode.Redirect, deleted.StatusCode);
        var response = await CallAsync(key).ExpectAsync(HttpStatusCode.Unauthorized);

        var problem = await response.ReadProblemAsync();
        Assert.StartsWith("This API key has been deleted.", problem.Detail, StringComparison.Ordinal);
        Assert.Null(response.Header("Pleo-Api-Key-Expires"));
        var list = await admin.GetStringAsync("/Settings/ApiKeys");
        Assert.DoesNotContain(row.Fingerprint, list, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeletedKey_WithWrongSecret_IsJustInvalid()
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync("Deleted, then guessed");
        var row = await _factory.KeyRowAsync(key);
        var details = await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}");
        await admin.SubmitAsync(details.Form($"form[method=post][action='/Settings/ApiKeys/Delete/{row.Id}']"));

        var response = await CallAsync(TestKeys.WithWrongSecret(key)).ExpectAsync(HttpStatusCode.Unauthorized);

        Assert.DoesNotContain("deleted", (await response.ReadProblemAsync()).Detail, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("This API key has been deleted.", (await (await CallAsync(key)).ReadProblemAsync()).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LastUsed_NeverUsedUntilACall_ThenTimeAndAddressInTheListAfterTheFlush()
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync("Shown in list");
        var row = await _factory.KeyRowAsync(key);
        Assert.Equal("Never used", await LastUsedCellAsync(admin, row.Fingerprint));

        var calledAt = _factory.Time.GetUtcNow().UtcDateTime;
        await CallAsync(key, from: "203.0.113.7").ExpectAsync(HttpStatusCode.OK);
        await _factory.FlushLastUsedAsync(key, calledAt);

        var local = TimeZoneInfo.ConvertTimeFromUtc(calledAt, Copenhagen);
        var cell = await LastUsedCellAsync(admin, row.Fingerprint);
        Assert.Contains(local.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture), cell, StringComparison.Ordinal);
        Assert.Contains("from 203.0.113.7", cell, StringComparison.Ordinal);
        var details = await admin.GetStringAsync($"/Settings/ApiKeys/Details/{row.Id}");
        Assert.Contains("from 203.0.113.7", details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LastUsed_IsWrittenOncePerFlushInterval_WithTheLatestUse()
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync("Busy key");
        var first = _factory.Time.GetUtcNow().UtcDateTime;
        await CallAsync(key, from: "192.0.2.1").ExpectAsync(HttpStatusCode.OK);
        // The call only noted it: nothing is written on the request path (issue 13.5).
        Assert.Null((await _factory.KeyRowAsync(key)).LastUsedAtUtc);

        // A second at a time until the recorder's timer ticks, so the test knows when the next tick is due.
        var waited = TimeSpan.Zero;
        while ((await _factory.KeyRowAsync(key)).LastUsedAtUtc is null)
        {
            Assert.True(waited <= LastUsedRecorder.FlushInterval, $"Not written after {waited} of clock time.");
            _factory.Time.Advance(TimeSpan.FromSeconds(1));
            waited += TimeSpan.FromSeconds(1);
            await Task.Delay(100);
        }

        Assert.Equal((first, "192.0.2.1"), ((await _factory.KeyRowAsync(key)).LastUsedAtUtc, (await _factory.KeyRowAsync(key)).LastUsedIp));

        // Two more uses within the next minute (the tick came less than 20 s ago): neither is written until the next tick, which writes the later one.
        _factory.Time.Advance(TimeSpan.FromSeconds(20));
        await CallAsync(key, from: "192.0.2.2").ExpectAsync(HttpStatusCode.OK);
        _factory.Time.Advance(TimeSpan.FromSeconds(20));
        var last = _factory.Time.GetUtcNow().UtcDateTime;
        await CallAsync(key, from: "192.0.2.3").ExpectAsync(HttpStatusCode.OK);
        await Task.Delay(200);
        var within = await _factory.KeyRowAsync(key);
        Assert.Equal((first, "192.0.2.1"), (within.LastUsedAtUtc, within.LastUsedIp));

        _factory.Time.Advance(TimeSpan.FromSeconds(20));
        var after = await _factory.WaitForKeyRowAsync(key, r => r.LastUsedAtUtc != first);
        Assert.Equal((last, "192.0.2.3"), (after.LastUsedAtUtc, after.LastUsedIp));
    }

    [Fact]
    public async Task LastUsed_IsPerKey()
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        var one = await admin.CreateKeyAsync("Key one");
        var two = await admin.CreateKeyAsync("Key two");
        var calledAt = _factory.Time.GetUtcNow().UtcDateTime;

        await CallAsync(one, from: "192.0.2.11").ExpectAsync(HttpStatusCode.OK);
        await CallAsync(two, from: "192.0.2.12").ExpectAsync(HttpStatusCode.OK);

        Assert.Equal("192.0.2.11", (await _factory.FlushLastUsedAsync(one, calledAt)).LastUsedIp);
        Assert.Equal("192.0.2.12", (await _factory.WaitForKeyRowAsync(two, r => r.LastUsedAtUtc == calledAt)).LastUsedIp);
    }

    [Fact]
    public async Task FailedCalls_DoNotCountAsUse()
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync("Guessed at");

        await CallAsync(TestKeys.WithWrongSecret(key)).ExpectAsync(HttpStatusCode.Unauthorized);
        _factory.Time.Advance(LastUsedRecorder.FlushInterval);
        await Task.Delay(300);

        Assert.Null((await _factory.KeyRowAsync(key)).LastUsedAtUtc);
    }

    private static async Task<string> LastUsedCellAsync(HttpClient admin, string fingerprint)
    {
        var list = await admin.GetDocumentAsync("/Settings/ApiKeys");
        var row = list.QuerySelectorAll("tr").Single(r => r.QuerySelector("code")?.TextContent == fingerprint);
        return row.QuerySelector("td[data-label='Last used']")!.TextContent.Trim();
    }
}
