using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Localization;

namespace PleoKeys.Web;

/// <summary>
/// The app's languages and formats are its own decision, not the host's: a server with <c>LANG=th_TH.UTF-8</c>
/// made .NET format dates in the Buddhist calendar (year 2569), so the Create page offered dates the server
/// then refused. A request gets one of <see cref="Supported"/> through ASP.NET Core request localization: the
/// signed-in user's own choice (Settings → Profile, <see cref="UserLanguageCultureProvider"/>), else the best
/// match of Accept-Language, else <see cref="Default"/>. Everything outside a request (start-up, the operator
/// command, background services, logs) runs in <see cref="Default"/>. Machine-read dates (form values, date
/// inputs, API bodies, headers, audit rows, CSV) are written with the invariant culture whatever the language.
/// </summary>
public static class AppCultures
{
    public const string Default = "en";

    /// <summary>
    /// The languages offered, English first (the default): Danish, Swedish, Norwegian Bokmål and German. To add
    /// one, add its name here and a <c>Resources/SharedResource.{name}.resx</c> with every key of the neutral file
    /// (a test fails on a missing one).
    /// </summary>
    public static readonly string[] Supported = [Default, "da", "sv", "nb", "de"];

    /// <summary>Remembers the language after sign-out, so the sign-in page stays in it (ASP.NET Core's own culture cookie).</summary>
    public const string CookieName = ".AspNetCore.Culture";

    private static readonly Dictionary<string, CultureInfo> Cultures = Supported.ToDictionary(n => n, Create, StringComparer.OrdinalIgnoreCase);

    /// <summary>The culture for a supported name (case-insensitive), or null.</summary>
    public static CultureInfo? Find(string? name) => name is not null && Cultures.TryGetValue(name, out var c) ? c : null;

    /// <summary>
    /// The supported language a culture name stands for: itself or its nearest parent ("da-DK" is "da"); null for none.
    /// Norwegian is Bokmål whatever the browser calls it: browsers send the macrolanguage "no"/"no-NO" (BCP 47) and
    /// Nynorsk "nn"/"nn-NO", and Bokmål is the written Norwegian the app has.
    /// </summary>
    public static string? Match(string? name)
    {
        var language = name?.Split('-', '_')[0];
        if (string.Equals(language, "no", StringComparison.OrdinalIgnoreCase) || string.Equals(language, "nn", StringComparison.OrdinalIgnoreCase))
        {
            return Find("nb")?.Name;
        }

        try
        {
            for (var culture = name is null ? null : CultureInfo.GetCultureInfo(name); culture is not null && culture.Name.Length > 0; culture = culture.Parent)
            {
                if (Find(culture.Name) is { } found)
                {
                    return found.Name;
                }
            }
        }
        catch (CultureNotFoundException)
        {
            // A made-up name in a header matches nothing.
        }

        return null;
    }

    /// <summary>The supported language the request's Accept-Language prefers most (q=0 entries refused, see <see cref="AcceptLanguageCultureProvider"/>), or null.</summary>
    public static string? FromAcceptLanguage(HttpRequest request) =>
        request.GetTypedHeaders().AcceptLanguage
            .Where(l => (l.Quality ?? 1) > 0)
            .OrderByDescending(l => l.Quality ?? 1) // A stable sort: equal weights keep the header's order.
            .Select(l => Match(l.Value.Value))
            .FirstOrDefault(c => c is not null);

    /// <summary>True when <paramref name="name"/> is exactly one of <see cref="Supported"/>.</summary>
    public static bool IsSupported(string? name) => name is not null && Supported.Contains(name, StringComparer.Ordinal);

    /// <summary>The language's name in itself ("Dansk", "Deutsch"), as language pickers show it.</summary>
    public static string NativeName(string name)
    {
        var native = CultureInfo.GetCultureInfo(name).NativeName;
        return char.ToUpper(native[0], CultureInfo.GetCultureInfo(name)) + native[1..];
    }

    /// <summary>
    /// A culture from ICU's data, never the host's settings (no user overrides), always in the Gregorian calendar.
    /// English writes dates as ISO 8601 (yyyy-MM-dd, 24-hour clock), as the app always did: an English page for
    /// Nordic and German companies, not a US one. The others keep their own conventions (26.11.2026, 26.11.2026 09.00).
    /// </summary>
    private static CultureInfo Create(string name)
    {
        var culture = new CultureInfo(name, useUserOverride: false);
        if (culture.DateTimeFormat.Calendar is not GregorianCalendar)
        {
            culture.DateTimeFormat.Calendar = new GregorianCalendar();
        }

        if (name == Default)
        {
            culture.DateTimeFormat.ShortDatePattern = "yyyy-MM-dd";
            culture.DateTimeFormat.ShortTimePattern = "HH:mm";
        }

        return CultureInfo.ReadOnly(culture);
    }

    /// <summary>Makes <see cref="Default"/> the culture of this thread and of every thread started after it.</summary>
    public static void UseDefaultForTheProcess()
    {
        var culture = Find(Default)!;
        CultureInfo.DefaultThreadCurrentCulture = culture;
        CultureInfo.DefaultThreadCurrentUICulture = culture;
        CultureInfo.CurrentCulture = culture;
        CultureInfo.CurrentUICulture = culture;
    }

    /// <summary>Runs <paramref name="action"/> with <paramref name="language"/> (a user's stored choice) as the current culture, or <see cref="Default"/>.</summary>
    public static T With<T>(string? language, Func<T> action)
    {
        var (culture, uiCulture) = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
        var chosen = Find(language) ?? Find(Default)!;
        CultureInfo.CurrentCulture = chosen;
        CultureInfo.CurrentUICulture = chosen;
        try
        {
            return action();
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
            CultureInfo.CurrentUICulture = uiCulture;
        }
    }

    public static void Configure(RequestLocalizationOptions options)
    {
        var cultures = Supported.Select(n => Cultures[n]).ToList();
        options.DefaultRequestCulture = new RequestCulture(Cultures[Default]);
        options.SupportedCultures = cultures;
        options.SupportedUICultures = cultures;
        // A parent culture is enough: Accept-Language "da-DK" or "nb-NO" finds "da" or "nb".
        options.FallBackToParentCultures = true;
        options.FallBackToParentUICultures = true;
        // No ?culture= in the query string: the user's choice, then the cookie it leaves for after sign-out, then the browser.
        options.RequestCultureProviders =
        [
            new UserLanguageCultureProvider(),
            new CookieRequestCultureProvider { CookieName = CookieName },
            new AcceptLanguageCultureProvider(),
        ];
    }

    /// <summary>The cookie value that remembers <paramref name="language"/> (ASP.NET Core's format, c=…|uic=…).</summary>
    public static string CookieValue(string language) => CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(language));

    /// <summary>Options of the language cookie: a year, HttpOnly, Lax, essential (it is the user's own choice).</summary>
    public static CookieOptions CookieOptions(HttpRequest request) => new()
    {
        Expires = DateTimeOffset.UtcNow.AddYears(1),
        HttpOnly = true,
        SameSite = SameSiteMode.Lax,
        Secure = request.IsHttps,
        IsEssential = true,
    };
}

/// <summary>
/// The browser's Accept-Language (RFC 9110 §12.5.4), matched with <see cref="AppCultures.Match"/>: the most preferred
/// entry that names a supported language wins, in the header's order among equal weights; an entry with q=0 means
/// "not this one" and is skipped (ASP.NET Core's own provider would still try it); "no"/"nn" mean Bokmål.
/// </summary>
public sealed class AcceptLanguageCultureProvider : RequestCultureProvider
{
    public override Task<ProviderCultureResult?> DetermineProviderCultureResult(HttpContext httpContext) =>
        Task.FromResult(AppCultures.FromAcceptLanguage(httpContext.Request) is { } language ? new ProviderCultureResult(language) : null);
}

/// <summary>
/// The signed-in user's stored language (<see cref="Data.AppUser.Language"/>), read from the user row on every page
/// request, so a choice made on one instance holds on every other from the next request. The row is the one the
/// security stamp check has just loaded into the request's DbContext (UserManager finds it there without a query).
/// Runs after authentication, on pages only (Program.cs: the API answers in English).
/// </summary>
public sealed class UserLanguageCultureProvider : RequestCultureProvider
{
    public override async Task<ProviderCultureResult?> DetermineProviderCultureResult(HttpContext httpContext)
    {
        if (httpContext.User.Identity?.IsAuthenticated != true
            || httpContext.User.FindFirstValue(ClaimTypes.NameIdentifier) is not { } userId)
        {
            return null;
        }

        var users = httpContext.RequestServices.GetRequiredService<Microsoft.AspNetCore.Identity.UserManager<Data.AppUser>>();
        var language = (await users.FindByIdAsync(userId))?.Language;
        return AppCultures.IsSupported(language) ? new ProviderCultureResult(language) : null;
    }
}
