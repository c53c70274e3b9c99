using System.Globalization;
using System.Text.RegularExpressions;

namespace PleoKeys.Web.Pages;

/// <summary>
/// Dates, times and numbers as a person reads them, in the request's language (always Gregorian: see
/// <see cref="AppCultures"/>). Machine-read values (date inputs, data attributes, CSV, audit rows) keep the invariant culture.
/// </summary>
public static partial class Show
{
    /// <summary>A day: 2026-11-26 in English, 26.11.2026 in Danish and German.</summary>
    public static string Day(DateOnly day) => day.ToString("d", CultureInfo.CurrentCulture);

    /// <summary>A time to the minute: 2026-11-26 09:00 in English, 26.11.2026 09.00 in Danish.</summary>
    public static string Minute(DateTime time) => time.ToString("g", CultureInfo.CurrentCulture);

    /// <summary>
    /// A day without its year, for tight spaces such as a chart's axis: the language's own short date with the year
    /// taken out (11-26 in English and Swedish, whose dates are yyyy-MM-dd; 26.11. in Danish, Norwegian and German).
    /// </summary>
    public static string DayMonth(DateOnly day) =>
        day.ToString(YearPart().Replace(CultureInfo.CurrentCulture.DateTimeFormat.ShortDatePattern, ""), CultureInfo.CurrentCulture);

    /// <summary>The year of a short date pattern with its separator; after a dot the dot stays ("dd.MM." is how Danish and German write a day).</summary>
    [GeneratedRegex(@"^y+[^dM]*|(?<=\.)y+$|[^dM.]*y+$")]
    private static partial Regex YearPart();

    /// <summary>
    /// A country (ISO 3166-1 alpha-2 code, as companies store it) by its name in the page's language: "Denmark",
    /// "Dänemark". Where ICU gives no name in that language, the country's own ("Danmark"); an unknown code as it is.
    /// </summary>
    public static string Country(string? code)
    {
        if (string.IsNullOrEmpty(code))
        {
            return "";
        }

        RegionInfo region;
        try
        {
            region = new RegionInfo(code);
        }
        catch (ArgumentException)
        {
            return code;
        }

        if (CultureInfo.CurrentUICulture.TwoLetterISOLanguageName == "en")
        {
            return region.EnglishName;
        }

        // RegionInfo.DisplayName is in the UI language only where ICU has that name; otherwise it is the English one.
        return region.DisplayName != region.EnglishName ? region.DisplayName : region.NativeName;
    }

    /// <summary>A count with the language's digit grouping: 12,345 in English, 12.345 in Danish.</summary>
    public static string Count(long n) => n.ToString("N0", CultureInfo.CurrentCulture);
}
