using System.Globalization;
using Microsoft.AspNetCore.Localization;

namespace PleoKeys.Web;

/// <summary>
/// The app's languages and formats are its own decision, not the host's: a server with <c>LANG=th_TH.UTF-8</c>
/// made .NET format dates in the Buddhist calendar (year 2569), so the Create page offered dates the server
/// then refused. Requests get a supported culture through ASP.NET Core request localization (Accept-Language,
/// cookie or query string, falling back to <see cref="Default"/>); everything outside a request (start-up,
/// the operator command, background services, logs) runs in <see cref="Default"/>. Machine-read dates (form
/// values, API bodies, headers, audit rows) are written with the invariant culture whatever the language.
/// </summary>
public static class AppCultures
{
    public const string Default = "en";

    /// <summary>The cultures a request may choose; add one here (with its translations) to offer it.</summary>
    public static readonly string[] Supported = [Default];

    /// <summary>Makes <see cref="Default"/> the culture of this thread and of every thread started after it.</summary>
    public static void UseDefaultForTheProcess()
    {
        var culture = CultureInfo.GetCultureInfo(Default);
        CultureInfo.DefaultThreadCurrentCulture = culture;
        CultureInfo.DefaultThreadCurrentUICulture = culture;
        CultureInfo.CurrentCulture = culture;
        CultureInfo.CurrentUICulture = culture;
    }

    public static void Configure(RequestLocalizationOptions options)
    {
        options.SetDefaultCulture(Default).AddSupportedCultures(Supported).AddSupportedUICultures(Supported);
        // A parent culture is enough: Accept-Language "en-GB" or "da-DK" finds "en" or a later "da".
        options.FallBackToParentCultures = true;
        options.FallBackToParentUICultures = true;
    }
}
