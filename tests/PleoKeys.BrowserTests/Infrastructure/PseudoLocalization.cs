using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PleoKeys.BrowserTests.Infrastructure;

/// <summary>
/// The test suite's pseudo-language (issue 16), never in the product: a request carrying the cookie
/// <see cref="CookieName"/> gets every text of the app 40 % longer, in the language the request chose otherwise, so
/// a layout that only fits today's words shows up before a real translation (German runs about that much longer than
/// English) breaks it. The extra length is a few long made-up words after the text, outside its markup and placeholders.
/// </summary>
public static class PseudoLocalization
{
    public const string CookieName = "pleokeys.pseudo";

    /// <summary>Puts the pseudo-language around the app's own localizer factory.</summary>
    public static void Register(IServiceCollection services) =>
        services.AddSingleton<IStringLocalizerFactory>(sp => new Factory(
            new ResourceManagerStringLocalizerFactory(sp.GetRequiredService<IOptions<LocalizationOptions>>(), sp.GetRequiredService<ILoggerFactory>()),
            sp.GetRequiredService<IHttpContextAccessor>()));

    /// <summary>The text made about 40 % longer: long pseudo words, as long compounds are in German or Finnish.</summary>
    public static string Longer(string text)
    {
        var extra = (int)Math.Ceiling(text.Length * 0.4);
        if (extra == 0)
        {
            return text;
        }

        const string words = "Ŀőŋğŵőŕđşçĥĺüşşëĺ Ƥşëüđőĺőķåĺïşïëŕüŋğ Ëŕŵëïţëŕüŋğşŵőŕţ ";
        var padding = string.Concat(Enumerable.Repeat(words, extra / words.Length + 1))[..extra].TrimEnd();
        return text + " " + padding;
    }

    private sealed class Factory(IStringLocalizerFactory inner, IHttpContextAccessor http) : IStringLocalizerFactory
    {
        public IStringLocalizer Create(Type resourceSource) => new Localizer(inner.Create(resourceSource), http);

        public IStringLocalizer Create(string baseName, string location) => new Localizer(inner.Create(baseName, location), http);
    }

    private sealed class Localizer(IStringLocalizer inner, IHttpContextAccessor http) : IStringLocalizer
    {
        private bool On => http.HttpContext?.Request.Cookies.ContainsKey(CookieName) == true;

        public LocalizedString this[string name] => Pseudo(inner[name]);

        public LocalizedString this[string name, params object[] arguments] =>
            On ? new LocalizedString(name, string.Format(CultureInfo.CurrentCulture, Longer(inner[name].Value), arguments)) : inner[name, arguments];

        public IEnumerable<LocalizedString> GetAllStrings(bool includeParentCultures) => inner.GetAllStrings(includeParentCultures);

        private LocalizedString Pseudo(LocalizedString s) => On ? new LocalizedString(s.Name, Longer(s.Value), s.ResourceNotFound, s.SearchedLocation) : s;
    }
}
