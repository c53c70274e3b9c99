using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Pages.Settings.ApiKeys;

/// <summary>One day of a key's recorded API requests (a day in the company's time zone), by outcome.</summary>
public sealed record UsageDay(DateOnly Date, long[] ByOutcome)
{
    public long Total => ByOutcome.Sum();

    public long this[UsageOutcome outcome] => ByOutcome[(int)outcome];
}

/// <summary>
/// Reads a key's recorded usage (<see cref="KeyUsageHour"/>, written by Api/UsageRecorder) for the Details page, its
/// CSV and the list's sparklines. Days are the company's days: hours are stored in UTC and summed into local dates.
/// </summary>
public static class KeyUsage
{
    public const int ChartDays = 30;

    public static readonly UsageOutcome[] Outcomes = Enum.GetValues<UsageOutcome>();

    /// <summary>What the page and the CSV call each outcome bucket.</summary>
    public static string Label(UsageOutcome outcome) => outcome switch
    {
        UsageOutcome.Success => "Succeeded (2xx)",
        UsageOutcome.Denied => "Refused (401/403)",
        UsageOutcome.RateLimited => "Rate-limited (429)",
        UsageOutcome.ClientError => "Other client errors (4xx)",
        _ => "Server errors (5xx)",
    };

    public static string CssClass(UsageOutcome outcome) => "usage-" + outcome.ToString().ToLowerInvariant();

    /// <summary>The first local day of a window of <paramref name="days"/> days that ends today.</summary>
    public static DateOnly FirstDay(DateOnly today, int days) => today.AddDays(1 - days);

    /// <summary>Daily totals by outcome for the keys, from <paramref name="firstDay"/> through <paramref name="today"/>, every day present (zeros included).</summary>
    public static async Task<Dictionary<Guid, List<UsageDay>>> DailyAsync(
        AppDbContext db, IReadOnlyCollection<Guid> keyIds, DateOnly firstDay, DateOnly today, TimeZoneInfo zone, CancellationToken ct = default)
    {
        var fromUtc = TimeZoneInfo.ConvertTimeToUtc(firstDay.ToDateTime(TimeOnly.MinValue), zone);
        var rows = await db.KeyUsageHours.AsNoTracking()
            .Where(u => keyIds.Contains(u.ApiKeyId) && u.HourUtc >= fromUtc)
            .GroupBy(u => new { u.ApiKeyId, u.HourUtc, u.Outcome })
            .Select(g => new { g.Key.ApiKeyId, g.Key.HourUtc, g.Key.Outcome, Requests = g.Sum(u => u.Requests) })
            .ToListAsync(ct);
        var result = new Dictionary<Guid, List<UsageDay>>();
        var count = today.DayNumber - firstDay.DayNumber + 1;
        foreach (var id in keyIds)
        {
            result[id] = [.. Enumerable.Range(0, count).Select(i => new UsageDay(firstDay.AddDays(i), new long[Outcomes.Length]))];
        }

        foreach (var row in rows)
        {
            var day = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(row.HourUtc, zone));
            var index = day.DayNumber - firstDay.DayNumber;
            if (index >= 0 && index < count)
            {
                result[row.ApiKeyId][index].ByOutcome[(int)row.Outcome] += row.Requests;
            }
        }

        return result;
    }

    /// <summary>
    /// The daily usage as CSV (RFC 4180): a header row, then one row per day, oldest first, with a column per outcome
    /// and the total.
    /// </summary>
    public static string Csv(IEnumerable<UsageDay> days)
    {
        var csv = new StringBuilder("date,succeeded_2xx,refused_401_403,rate_limited_429,other_4xx,server_errors_5xx,total\r\n");
        foreach (var day in days)
        {
            csv.Append(day.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            foreach (var outcome in Outcomes)
            {
                csv.Append(',').Append(day[outcome].ToString(CultureInfo.InvariantCulture));
            }

            csv.Append(',').Append(day.Total.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        }

        return csv.ToString();
    }

    /// <summary>The points of a sparkline of daily totals in a <paramref name="width"/> × <paramref name="height"/> box.</summary>
    public static string SparklinePoints(IReadOnlyList<UsageDay> days, int width, int height)
    {
        var max = Math.Max(1, days.Max(d => d.Total));
        var step = days.Count > 1 ? (double)width / (days.Count - 1) : 0;
        return string.Join(' ', days.Select((d, i) => string.Create(CultureInfo.InvariantCulture,
            $"{i * step:0.#},{height - 1 - ((height - 2) * (double)d.Total / max):0.#}")));
    }
}

/// <summary>The geometry of the Details page's stacked bar chart (drawn as SVG on the server; no script).</summary>
public sealed class UsageChart
{
    public const int Width = 720;
    public const int Height = 180;
    public const int Left = 44;
    public const int Bottom = 24;
    public const int Top = 8;

    public sealed record Segment(double Y, double Height, UsageOutcome Outcome, long Requests);

    public sealed record Bar(double X, double Width, UsageDay Day, IReadOnlyList<Segment> Segments);

    public UsageChart(IReadOnlyList<UsageDay> days)
    {
        Max = Math.Max(1, days.Count == 0 ? 0 : days.Max(d => d.Total));
        var plotWidth = Width - Left - 4.0;
        var plotHeight = Height - Bottom - Top;
        var slot = plotWidth / Math.Max(1, days.Count);
        Bars = [.. days.Select((day, i) =>
        {
            var y = (double)(Height - Bottom);
            var segments = new List<Segment>();
            foreach (var outcome in KeyUsage.Outcomes)
            {
                var n = day[outcome];
                if (n == 0)
                {
                    continue;
                }

                var h = Math.Max(1, plotHeight * (double)n / Max);
                y -= h;
                segments.Add(new Segment(Math.Round(y, 1), Math.Round(h, 1), outcome, n));
            }

            return new Bar(Math.Round(Left + (i * slot) + (slot * 0.15), 1), Math.Round(slot * 0.7, 1), day, segments);
        })];
    }

    public long Max { get; }

    public IReadOnlyList<Bar> Bars { get; }

    public static string F(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);
}
