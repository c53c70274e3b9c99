using Microsoft.Extensions.Time.Testing;
using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Tests.Unit;

public sealed class ExpiryTests
{
    private static readonly TimeZoneInfo Copenhagen = TimeZoneInfo.FindSystemTimeZoneById("Europe/Copenhagen");
    private static readonly TimeZoneInfo Stockholm = TimeZoneInfo.FindSystemTimeZoneById("Europe/Stockholm");

    private static DateTime Utc(int y, int mo, int d, int h, int mi = 0, int s = 0) => new(y, mo, d, h, mi, s, DateTimeKind.Utc);

    [Fact]
    public void QuickChoices_Are7_30_60_90DaysAndOneYear()
    {
        Assert.Equal([7, 30, 60, 90, 365], Expiry.QuickChoices);
    }

    [Theory]
    [InlineData("2026-11-26T22:59:59Z", "2026-11-26")] // 23:59:59 in Copenhagen (CET, UTC+1)
    [InlineData("2026-11-26T23:00:00Z", "2026-11-27")] // midnight in Copenhagen, still the 26th in UTC
    [InlineData("2027-06-30T21:59:59Z", "2027-06-30")] // 23:59:59 CEST (UTC+2)
    [InlineData("2027-06-30T22:00:00Z", "2027-07-01")]
    public void Today_IsTheDateInTheCompanysTimeZone(string utcNow, string expected)
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse(utcNow, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(DateOnly.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), Expiry.Today(time, Copenhagen));
    }

    public static TheoryData<DateOnly, DateTime> EndsOfDays => new()
    {
        { new DateOnly(2026, 11, 27), Utc(2026, 11, 27, 23) },  // winter time: midnight CET is 23:00 UTC
        { new DateOnly(2027, 6, 15), Utc(2027, 6, 15, 22) },    // summer time: midnight CEST is 22:00 UTC
        { new DateOnly(2027, 3, 28), Utc(2027, 3, 28, 22) },    // the day clocks go forward ends in summer time
        { new DateOnly(2026, 10, 25), Utc(2026, 10, 25, 23) },  // the day clocks go back ends in winter time
        { new DateOnly(2026, 12, 31), Utc(2026, 12, 31, 23) },
    };

    [Theory]
    [MemberData(nameof(EndsOfDays))]
    public void EndOfDayUtc_IsMidnightAfterTheDateInCopenhagen(DateOnly date, DateTime expected)
    {
        var end = Expiry.EndOfDayUtc(date, Copenhagen);

        Assert.Equal(expected, end);
        Assert.Equal(DateTimeKind.Utc, end.Kind);
    }

    [Fact]
    public void EndOfDayUtc_FollowsTheGivenZone()
    {
        Assert.Equal(Utc(2027, 1, 10, 23), Expiry.EndOfDayUtc(new DateOnly(2027, 1, 10), Stockholm));
        Assert.Equal(Utc(2027, 1, 11, 0), Expiry.EndOfDayUtc(new DateOnly(2027, 1, 10), TimeZoneInfo.Utc));
    }

    [Fact]
    public void LastDay_OfTheEndOfADay_IsThatDay()
    {
        for (var date = new DateOnly(2026, 1, 1); date < new DateOnly(2028, 1, 1); date = date.AddDays(1))
        {
            Assert.Equal(date, Expiry.LastDay(Expiry.EndOfDayUtc(date, Copenhagen), Copenhagen));
        }
    }

    [Theory]
    [InlineData("2026-11-26", "2027-11-26")]
    [InlineData("2028-02-29", "2029-02-28")] // a leap day's anniversary falls back to the 28th
    [InlineData("2027-12-31", "2028-12-31")]
    public void Latest_IsOneYearAhead(string today, string latest)
    {
        Assert.Equal(DateOnly.Parse(latest, System.Globalization.CultureInfo.InvariantCulture),
            Expiry.Latest(DateOnly.Parse(today, System.Globalization.CultureInfo.InvariantCulture)));
    }
}
