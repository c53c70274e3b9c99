using System.Globalization;
using System.Net;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Pages;

/// <summary>
/// A key works through the end of its expiry date in the company's time zone, then stops but stays listed.
/// The tests here move the clock forward, each relative to where it finds it.
/// </summary>
public sealed class KeyLifetimeTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    private static readonly TimeZoneInfo Copenhagen = TimeZoneInfo.FindSystemTimeZoneById("Europe/Copenhagen");

    private DateOnly TodayInCopenhagen() => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(factory.Time.GetUtcNow(), Copenhagen).DateTime);

    private static DateTimeOffset MidnightAfter(DateOnly date) =>
        new(TimeZoneInfo.ConvertTimeToUtc(date.AddDays(1).ToDateTime(TimeOnly.MinValue), Copenhagen), TimeSpan.Zero);

    [Fact]
    public async Task Key_WorksUntilMidnightAfterItsDateInCopenhagenAndNotAfter()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var tomorrow = TodayInCopenhagen().AddDays(1);
        var name = PageHelpers.UniqueName("Short-lived");
        var created = await admin.PostCreateFormAsync(name, expiration: "custom", customDate: tomorrow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        var key = ((AngleSharp.Html.Dom.IHtmlInputElement)(await admin.GetDocumentAsync(created.Headers.Location!.ToString())).QuerySelector("#new-key")!).Value;
        var api = factory.NewClient();
        var end = MidnightAfter(tomorrow);

        factory.Time.SetUtcNow(end.AddSeconds(-1));
        var lastSecond = await api.ApiGetAsync("/v1/installations/me", key);
        factory.Time.SetUtcNow(end);
        var atMidnight = await api.ApiGetAsync("/v1/installations/me", key);

        Assert.Equal(HttpStatusCode.OK, lastSecond.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, atMidnight.StatusCode);
        Assert.Equal("API key expired", await StagingEnvironmentTests.ProblemTitleAsync(atMidnight));

        var row = Assert.Single((await (await factory.SignedInClientAsync(DemoData.Admin)).GetDocumentAsync("/Settings/ApiKeys?q=" + Uri.EscapeDataString(name))).KeyTableRows());
        Assert.Equal($"{tomorrow:yyyy-MM-dd} Expired", row["Expires"]);
    }

    [Fact]
    public async Task Key_ApproachingItsDate_TurnsFromActiveToExpiresSoon()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Ageing");
        await admin.CreateKeyAsync(name, expiration: "30");
        var search = "/Settings/ApiKeys?q=" + Uri.EscapeDataString(name);
        Assert.EndsWith(" Active", Assert.Single((await admin.GetDocumentAsync(search)).KeyTableRows())["Expires"], StringComparison.Ordinal);

        factory.Time.Advance(TimeSpan.FromDays(24));

        // Signed in again: the clock moved past the sign-in cookie's lifetime.
        var later = await factory.SignedInClientAsync(DemoData.Admin);
        Assert.EndsWith(" Expires soon", Assert.Single((await later.GetDocumentAsync(search)).KeyTableRows())["Expires"], StringComparison.Ordinal);
    }
}
