using System.Globalization;
using System.Resources;
using System.Text.RegularExpressions;
using PleoKeys.Web;

namespace PleoKeys.BrowserTests.Infrastructure;

/// <summary>The app's texts as its resource files hold them, so a test finds a button by the words a person reads in that language.</summary>
public static partial class AppTexts
{
    private static readonly ResourceManager Resources = new("PleoKeys.Web.Resources.SharedResource", typeof(SharedResource).Assembly);

    /// <summary>The text in <paramref name="language"/> (a culture name such as "da" or "en-GB"), placeholders filled, markup removed.</summary>
    public static string L(string language, string english, params object[] arguments)
    {
        var culture = CultureInfo.GetCultureInfo(language);
        var text = Resources.GetString(english, culture) ?? throw new InvalidOperationException($"No text “{english}”.");
        return Tags().Replace(string.Format(culture, text, arguments), "");
    }

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tags();
}
