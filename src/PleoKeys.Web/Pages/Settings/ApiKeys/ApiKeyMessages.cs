using System.Text.RegularExpressions;
using Microsoft.Extensions.Localization;

namespace PleoKeys.Web.Pages.Settings.ApiKeys;

/// <summary>
/// The key domain's messages (ApiKeys/KeyName, ApiKeys/AllowedNetworks: plain English, free of ASP.NET types) shown on
/// the pages in the request's language. A fixed message is its own resource key; a message with values in it is
/// matched against the English resource it was written from (<see cref="WithValues"/>) and said again in the
/// language with the same values.
/// </summary>
public static partial class ApiKeyMessages
{
    /// <summary>The domain's messages that carry values, exactly as the domain writes them, placeholders for the values.</summary>
    public static readonly string[] WithValues =
    [
        "Use at most {0} characters (this one has {1}).",
        "The name can't contain private-use or unassigned characters such as {0}.",
        "The name can't contain text-direction controls such as {0}: each name is shown in its own direction already.",
        "The name can't contain invisible characters such as {0}.",
        "The name stacks too many accents or marks on one letter (at most {0}).",
        "At most {0} addresses or ranges; this list has {1}.",
        "“{0}” is not an IPv4 or IPv6 address or a CIDR range such as 203.0.113.0/24.",
        "“{0}” has bits set after its /{1} prefix; did you mean {2}/{1}?",
    ];

    private static readonly (Regex Pattern, string Key)[] Patterns = [.. WithValues.Select(k => (PatternOf(k), k))];

    /// <summary>The message in <paramref name="t"/>'s language; one the resources do not know stays as the domain wrote it.</summary>
    public static string Translate(IStringLocalizer t, string message)
    {
        foreach (var (pattern, key) in Patterns)
        {
            if (pattern.Match(message) is { Success: true } m)
            {
                var character = key.StartsWith("The name can't contain", StringComparison.Ordinal);
                var values = Enumerable.Range(0, 3).TakeWhile(i => m.Groups["p" + i].Success)
                    .Select(i => (object)(character ? InLanguage(m.Groups["p" + i].Value) : m.Groups["p" + i].Value)).ToArray();
                return t[key, values];
            }
        }

        return t[message] is { ResourceNotFound: false } found ? found.Value : message;
    }

    /// <summary>
    /// A character named in a name's problem, as the page's language can show it: KeyName describes a character by
    /// its code point and its English Unicode name ("U+200B (zero width space)"); in another language only the code
    /// point is said, which needs no words.
    /// </summary>
    private static string InLanguage(string value) =>
        System.Globalization.CultureInfo.CurrentUICulture.TwoLetterISOLanguageName == "en" ? value : CodePointWithName().Replace(value, "$1");

    [GeneratedRegex(@"^(U\+[0-9A-F]{4,6}) \(.*$", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex CodePointWithName();

    /// <summary>The English text as a pattern: each {n} a group p{n} (a repeated one must repeat its value).</summary>
    private static Regex PatternOf(string english)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pattern = Placeholder().Replace(Regex.Escape(english).Replace(@"\{", "{", StringComparison.Ordinal), m =>
            seen.Add(m.Groups[1].Value) ? $"(?<p{m.Groups[1].Value}>.+?)" : $@"\k<p{m.Groups[1].Value}>");
        return new Regex("^" + pattern + "$", RegexOptions.Singleline | RegexOptions.CultureInvariant);
    }

    [GeneratedRegex(@"\{(\d)\}")]
    private static partial Regex Placeholder();
}
