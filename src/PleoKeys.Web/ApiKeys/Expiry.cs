namespace PleoKeys.Web.ApiKeys;

/// <summary>Expiry dates are whole days in the company's time zone; a key works through the end of its date.</summary>
public static class Expiry
{
    public static readonly int[] QuickChoices = [7, 30, 60, 90, 365];

    public static DateOnly Today(TimeProvider time, TimeZoneInfo zone) =>
        DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(time.GetUtcNow().UtcDateTime, zone));

    /// <summary>The instant the date ends in the zone: midnight at the start of the next day, as UTC.</summary>
    public static DateTime EndOfDayUtc(DateOnly date, TimeZoneInfo zone)
    {
        var nextMidnight = date.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        // A zone whose clocks skip midnight (none in the Nordics) would make this invalid; fall back an hour.
        return zone.IsInvalidTime(nextMidnight)
            ? TimeZoneInfo.ConvertTimeToUtc(nextMidnight.AddHours(1), zone)
            : TimeZoneInfo.ConvertTimeToUtc(nextMidnight, zone);
    }

    /// <summary>The last day the key works, in the zone.</summary>
    public static DateOnly LastDay(DateTime expiresAtUtc, TimeZoneInfo zone) =>
        DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(expiresAtUtc.AddTicks(-1), zone));

    /// <summary>At most one year ahead: today plus one year (a leap day maps to the 28th).</summary>
    public static DateOnly Latest(DateOnly today) => today.AddYears(1);
}
