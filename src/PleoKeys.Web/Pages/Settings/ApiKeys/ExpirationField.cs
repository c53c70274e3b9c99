using System.Globalization;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.Extensions.Localization;
using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Web.Pages.Settings.ApiKeys;

/// <summary>
/// The Expiration field of Create and Roll: a quick choice (<see cref="Expiry.QuickChoices"/> days) or a custom date,
/// re-checked on the server against the same list the form shows.
/// </summary>
public static class ExpirationField
{
    /// <summary>The date a quick choice stands for: today plus the days, "1 year" being <see cref="Expiry.Latest"/>.</summary>
    public static DateOnly QuickChoiceDate(DateOnly today, int days) => days == 365 ? Expiry.Latest(today) : today.AddDays(days);

    /// <summary>The chosen last day, or null with the field's message added to <paramref name="modelState"/>.</summary>
    public static DateOnly? Parse(string? expiration, string? customDate, DateOnly today, ModelStateDictionary modelState, IStringLocalizer t)
    {
        if (expiration == "custom")
        {
            if (string.IsNullOrWhiteSpace(customDate))
            {
                modelState.AddModelError("Input.CustomDate", t["Enter the expiration date."]);
                return null;
            }

            if (!DateOnly.TryParseExact(customDate.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var custom))
            {
                modelState.AddModelError("Input.CustomDate", t["Enter the date as YYYY-MM-DD, for example {0}.", today.AddDays(30).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)]);
                return null;
            }

            if (custom <= today)
            {
                modelState.AddModelError("Input.CustomDate", t["Choose a date after today."]);
                return null;
            }

            if (custom > Expiry.Latest(today))
            {
                modelState.AddModelError("Input.CustomDate", t["Choose a date at most one year ahead ({0} at the latest).", PleoKeys.Web.Pages.Show.Day(Expiry.Latest(today))]);
                return null;
            }

            return custom;
        }

        if (int.TryParse(expiration, NumberStyles.None, CultureInfo.InvariantCulture, out var days) && Expiry.QuickChoices.Contains(days))
        {
            return QuickChoiceDate(today, days);
        }

        modelState.AddModelError("Input.Expiration", t["Choose when the key expires."]);
        return null;
    }

    /// <summary>
    /// The choice that gives a key the same length again (its last day minus the day it was created, in the company's
    /// zone): the matching quick choice, else a custom date that many days from today, at most one year ahead.
    /// </summary>
    public static (string Expiration, string? CustomDate) SameLength(DateTime createdAtUtc, DateTime expiresAtUtc, TimeZoneInfo zone, DateOnly today)
    {
        var created = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(createdAtUtc, zone));
        var lastDay = Expiry.LastDay(expiresAtUtc, zone);
        if (lastDay >= Expiry.Latest(created))
        {
            return ("365", null);
        }

        var days = Math.Max(1, lastDay.DayNumber - created.DayNumber);
        if (Expiry.QuickChoices.Contains(days))
        {
            return (days.ToString(CultureInfo.InvariantCulture), null);
        }

        var date = today.AddDays(days);
        return ("custom", (date > Expiry.Latest(today) ? Expiry.Latest(today) : date).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
    }
}
