using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using System.Resources;
using System.Text.RegularExpressions;
using AngleSharp.Html.Dom;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web;

namespace PleoKeys.Tests.Languages;

/// <summary>The app's texts as the resource files hold them, per language.</summary>
public static partial class Texts
{
    /// <summary>The languages besides English (the neutral resources).</summary>
    public static readonly string[] Translated = AppCultures.Supported.Where(c => c != AppCultures.Default).ToArray();

    /// <summary>Every language, English included (its pages must name it in &lt;html lang&gt; and look up nothing missing).</summary>
    public static TheoryData<string> AllLanguages()
    {
        var data = new TheoryData<string>();
        foreach (var language in AppCultures.Supported)
        {
            data.Add(language);
        }

        return data;
    }

    public static TheoryData<string> TranslatedLanguages()
    {
        var data = new TheoryData<string>();
        foreach (var language in Translated)
        {
            data.Add(language);
        }

        return data;
    }

    private static readonly ResourceManager Resources = new("PleoKeys.Web.Resources.SharedResource", typeof(SharedResource).Assembly);

    /// <summary>Every key and value of one language's own file (the neutral file for English): no fallback to a parent.</summary>
    public static IReadOnlyDictionary<string, string> Of(string language)
    {
        var culture = language == AppCultures.Default ? CultureInfo.InvariantCulture : CultureInfo.GetCultureInfo(language);
        var set = Resources.GetResourceSet(culture, createIfNotExists: true, tryParents: false)
            ?? throw new Xunit.Sdk.XunitException($"There are no resources for '{language}'.");
        return set.Cast<DictionaryEntry>().ToDictionary(e => (string)e.Key, e => (string)e.Value!, StringComparer.Ordinal);
    }

    /// <summary>
    /// The English texts a page in <paramref name="language"/> must not show: every English value whose translation
    /// differs (one written the same, such as "OK" or German "Name", cannot be told apart), as literal fragments
    /// between its placeholders and markup, each long enough to mean something (short ones as whole words).
    /// </summary>
    public static IReadOnlyList<(string Key, Regex Fragment)> EnglishFragments(string language)
    {
        var english = Of(AppCultures.Default);
        var translated = Of(language);
        var fragments = new List<(string, Regex)>();
        foreach (var (key, value) in english)
        {
            if (translated.TryGetValue(key, out var other) && other == value)
            {
                continue;
            }

            var whole = !Placeholder().IsMatch(value) && !Markup().IsMatch(value);
            foreach (var part in Placeholder().Split(Markup().Replace(value, "\u0001")).SelectMany(p => p.Split('\u0001')))
            {
                var text = part.Trim(' ', '.', ',', ';', ':', '(', ')', '“', '”', '·');
                // A whole text of four letters or more; a piece of a longer one ("{1} time") only when it says something itself.
                if ((whole ? text.Length >= 4 : text.Length >= 8 && text.Contains(' ', StringComparison.Ordinal)) && !DateFormat().IsMatch(text))
                {
                    fragments.Add((key, new Regex(@"(?<![\p{L}\p{N}])" + Regex.Escape(text) + @"(?![\p{L}\p{N}])", RegexOptions.CultureInvariant)));
                }
            }
        }

        return fragments;
    }

    /// <summary>What a person reads on a page: its text and the labels of its controls (aria-label, title, data-label).</summary>
    public static string Readable(IHtmlDocument page)
    {
        var attributes = page.QuerySelectorAll("[aria-label], [title], [data-label]")
            .SelectMany(e => new[] { e.GetAttribute("aria-label"), e.GetAttribute("title"), e.GetAttribute("data-label") })
            .Where(a => !string.IsNullOrEmpty(a));
        // Code (scopes, paths, samples, the API's types) is not in any language.
        var body = (IHtmlElement)page.Body!.Clone(deep: true);
        foreach (var code in body.QuerySelectorAll("code, pre").ToList())
        {
            code.Remove();
        }

        var text = page.Title + "\n" + body.TextContent + "\n" + string.Join("\n", attributes);
        // The demo's people and keys are data, not the app's words ("Astrid Admin", "Bo Bookkeeper").
        foreach (var data in DemoWords)
        {
            text = text.Replace(data, " ", StringComparison.Ordinal);
        }

        return text;
    }

    /// <summary>The English resource texts found in <paramref name="page"/>, as "key ⇒ what was found".</summary>
    public static IReadOnlyList<string> EnglishIn(IHtmlDocument page, string language)
    {
        var text = Readable(page);
        return EnglishFragments(language).Select(f => (f.Key, Match: f.Fragment.Match(text)))
            .Where(f => f.Match.Success)
            .Select(f => $"“{f.Key}” ⇒ “{f.Match.Value}”")
            .Distinct()
            .ToList();
    }

    private static readonly string[] DemoWords =
        ["Astrid Admin", "Bo Bookkeeper", "Erik Employee", "Nina Nordic", "Frida Fjord", "Vendor import script", "Old BI connector", "PleoKeys"];

    [GeneratedRegex(@"\{\d+[^}]*\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"<[^>]+>")]
    private static partial Regex Markup();

    [GeneratedRegex(@"^[dMyHhms '\.,]+$")]
    private static partial Regex DateFormat();
}

/// <summary>
/// Every text lookup the app makes, through its own localizer factory: a lookup of a name the resources do not
/// hold (<see cref="LocalizedString.ResourceNotFound"/>, shown as the bare English key) is recorded.
/// </summary>
public sealed class MissingTexts
{
    public ConcurrentDictionary<string, byte> Names { get; } = new();
}

public sealed class RecordingLocalizerFactory(IStringLocalizerFactory inner, MissingTexts missing) : IStringLocalizerFactory
{
    public IStringLocalizer Create(Type resourceSource) => new Recording(inner.Create(resourceSource), missing);

    public IStringLocalizer Create(string baseName, string location) => new Recording(inner.Create(baseName, location), missing);

    private sealed class Recording(IStringLocalizer inner, MissingTexts missing) : IStringLocalizer
    {
        public LocalizedString this[string name] => Record(inner[name]);

        public LocalizedString this[string name, params object[] arguments] => Record(inner[name, arguments]);

        public IEnumerable<LocalizedString> GetAllStrings(bool includeParentCultures) => inner.GetAllStrings(includeParentCultures);

        private LocalizedString Record(LocalizedString s)
        {
            if (s.ResourceNotFound)
            {
                missing.Names.TryAdd(s.Name, 0);
            }

            return s;
        }
    }
}

/// <summary>The app with its text lookups recorded (<see cref="MissingTexts"/>).</summary>
public sealed class LanguageFactory : PleoKeysFactory
{
    public MissingTexts Missing { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<IStringLocalizerFactory>(sp => new RecordingLocalizerFactory(
                new ResourceManagerStringLocalizerFactory(sp.GetRequiredService<IOptions<LocalizationOptions>>(), sp.GetRequiredService<ILoggerFactory>()),
                Missing));
        });
    }
}
