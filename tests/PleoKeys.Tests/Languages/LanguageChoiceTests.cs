using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using AngleSharp.Html.Dom;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web;
using PleoKeys.Web.Data;
using PleoKeys.Web.Pages;

namespace PleoKeys.Tests.Languages;

/// <summary>
/// Issue 16's choice: Settings → Profile stores the language on the user, so it holds in a new session and on
/// another instance; with no choice, the browser's Accept-Language decides, then English.
/// </summary>
public sealed partial class LanguageChoiceTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    private static string Lang(IHtmlDocument page) => page.DocumentElement.GetAttribute("lang")!;

    private static async Task<HttpResponseMessage> ChooseAsync(HttpClient client, string language)
    {
        var profile = await client.GetDocumentAsync("/Settings/Profile");
        return await client.SubmitAsync(profile.Form(), ("Input.Language", language));
    }

    [Fact]
    public async Task NoChoiceNoHeader_IsEnglish()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var list = await client.GetDocumentAsync("/Settings/ApiKeys");
        Assert.Equal("en", Lang(list));
        Assert.Equal("API Keys", list.QuerySelector("h1")!.TextContent.Trim());
        Assert.Equal("en", Lang(await factory.NewClient().GetDocumentAsync("/Account/Login")));
    }

    [Fact]
    public async Task ChoosingDanish_OnTheProfilePage_HoldsInANewSession()
    {
        var first = await factory.SignedInClientAsync(DemoData.Bookkeeper);
        var settings = await first.GetDocumentAsync("/Settings");
        Assert.Contains(settings.QuerySelectorAll("nav.subnav a"), a => a.GetAttribute("href") == "/Settings/Profile");

        var saved = await ChooseAsync(first, "da");
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        var profile = await first.GetDocumentAsync(saved.Headers.Location!.OriginalString);
        Assert.Equal("da", Lang(profile));
        Assert.Equal("Siderne vises nu på dansk.", profile.QuerySelector("[role=status]")!.TextContent.Trim());
        Assert.Equal("da", await factory.WithDbAsync(db => db.Users.Where(u => u.Email == DemoData.Bookkeeper).Select(u => u.Language).SingleAsync()));

        try
        {
            // A new browser: no cookie of the old session, not even the language reminder.
            var second = await factory.SignedInClientAsync(DemoData.Bookkeeper);
            var list = await second.GetDocumentAsync("/Settings/ApiKeys");
            Assert.Equal("da", Lang(list));
            Assert.Equal("API-nøgler", list.QuerySelector("h1")!.TextContent.Trim());
            Assert.Equal("Log ud", list.QuerySelector("form[action='/Account/Logout'] button")!.TextContent.Trim());

            // Signing out leaves the sign-in page in Danish (ASP.NET Core's culture cookie, set at sign-in).
            var signOut = await second.SubmitAsync(list.Form("form[action='/Account/Logout']"));
            var login = await second.GetDocumentAsync(signOut.Headers.Location!.OriginalString);
            Assert.Equal("da", Lang(login));
            Assert.Equal("Log ind", login.QuerySelector("h1")!.TextContent.Trim());
        }
        finally
        {
            await ChooseAsync(first, ProfileChoice.Browser);
        }
    }

    [Fact]
    public async Task AcceptLanguageSwedish_SeesSwedish_BeforeAnyChoice()
    {
        var anonymous = factory.NewClient();
        anonymous.DefaultRequestHeaders.AcceptLanguage.ParseAdd("sv-SE,sv;q=0.9,en-US;q=0.8,en;q=0.7");
        var login = await anonymous.GetDocumentAsync("/Account/Login");
        Assert.Equal("sv", Lang(login));
        Assert.Equal("Logga in", login.QuerySelector("h1")!.TextContent.Trim());

        var signedIn = await anonymous.SubmitAsync(login.Form(), ("Input.Email", DemoData.Admin), ("Input.Password", DemoData.Password));
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var list = await anonymous.GetDocumentAsync("/Settings/ApiKeys");
        Assert.Equal("sv", Lang(list));
        Assert.Equal("API-nycklar", list.QuerySelector("h1")!.TextContent.Trim());
    }

    [Fact]
    public async Task NorwegianFromTheBrowser_nbNO_IsBokmal()
    {
        var client = factory.NewClient();
        client.DefaultRequestHeaders.AcceptLanguage.ParseAdd("nb-NO");
        Assert.Equal("nb", Lang(await client.GetDocumentAsync("/Account/Login")));
    }

    [Theory]
    [InlineData("no-NO")]
    [InlineData("no")]
    [InlineData("nn-NO")]
    [InlineData("nn")]
    public async Task NorwegianFromTheBrowser_NoOrNynorsk_IsBokmal(string header)
    {
        var client = factory.NewClient();
        client.DefaultRequestHeaders.AcceptLanguage.ParseAdd(header + ", en;q=0.5");
        var login = await client.GetDocumentAsync("/Account/Login");
        Assert.Equal("nb", Lang(login));
        Assert.Equal("nb", AppCultures.Match(header));
    }

    [Fact]
    public async Task AcceptLanguage_QZero_IsRefused_NotMatched()
    {
        var client = factory.NewClient();
        client.DefaultRequestHeaders.AcceptLanguage.ParseAdd("da;q=0, de");
        Assert.Equal("de", Lang(await client.GetDocumentAsync("/Account/Login")));

        // Only refusals: English, not the refused language.
        var refusing = factory.NewClient();
        refusing.DefaultRequestHeaders.AcceptLanguage.ParseAdd("da;q=0, sv;q=0");
        Assert.Equal("en", Lang(await refusing.GetDocumentAsync("/Account/Login")));
    }

    [Fact]
    public async Task BackToTheBrowsersLanguage_ConfirmsInIt_SkippingQZero()
    {
        var client = await factory.SignedInClientAsync(DemoData.Employee);
        // The browser refuses Danish and asks for nothing else: English, the message too.
        client.DefaultRequestHeaders.AcceptLanguage.ParseAdd("da;q=0");
        try
        {
            await ChooseAsync(client, "sv");
            var saved = await ChooseAsync(client, ProfileChoice.Browser);
            var profile = await client.GetDocumentAsync(saved.Headers.Location!.OriginalString);
            Assert.Equal("en", Lang(profile));
            Assert.Equal("Pages are now shown in your browser's language.", profile.QuerySelector("[role=status]")!.TextContent.Trim());
        }
        finally
        {
            await ChooseAsync(client, ProfileChoice.Browser);
        }
    }

    [Fact]
    public async Task UsersChoice_BeatsAcceptLanguage()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        client.DefaultRequestHeaders.AcceptLanguage.ParseAdd("de-DE,de;q=0.9");
        Assert.Equal("de", Lang(await client.GetDocumentAsync("/Settings/ApiKeys")));
        try
        {
            await ChooseAsync(client, "nb");
            var list = await client.GetDocumentAsync("/Settings/ApiKeys");
            Assert.Equal("nb", Lang(list));
            Assert.Equal("API-nøkler", list.QuerySelector("h1")!.TextContent.Trim());

            // Back to the browser's language: German again.
            await ChooseAsync(client, ProfileChoice.Browser);
            Assert.Equal("de", Lang(await client.GetDocumentAsync("/Settings/ApiKeys")));
            Assert.Null(await factory.WithDbAsync(db => db.Users.Where(u => u.Email == DemoData.Admin).Select(u => u.Language).SingleAsync()));
        }
        finally
        {
            await ChooseAsync(client, ProfileChoice.Browser);
        }
    }

    [Theory]
    [InlineData("xx")]
    [InlineData("fr")]
    [InlineData("DA")]
    [InlineData("da-DK")]
    [InlineData("<script>")]
    [InlineData("th-TH-u-ca-buddhist")]
    public async Task UnknownLanguage_IsAFieldError_AndNothingIsSaved(string value)
    {
        var client = await factory.SignedInClientAsync(DemoData.Employee);
        var answer = await ChooseAsync(client, value);
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        var page = await Html.ParseAsync(answer);
        Assert.Equal("Choose one of the languages in the list.", page.QuerySelector("#language-error")!.TextContent.Trim());
        Assert.Null(await factory.WithDbAsync(db => db.Users.Where(u => u.Email == DemoData.Employee).Select(u => u.Language).SingleAsync()));
    }

    [Fact]
    public async Task Profile_WithoutTheAntiforgeryToken_ChangesNothing()
    {
        var client = await factory.SignedInClientAsync(DemoData.Employee);
        var answer = await client.PostAsync("/Settings/Profile", new FormUrlEncodedContent([new("Input.Language", "de")]));
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Null(await factory.WithDbAsync(db => db.Users.Where(u => u.Email == DemoData.Employee).Select(u => u.Language).SingleAsync()));
    }

    [Fact]
    public async Task Profile_SignedOut_GoesToSignIn()
    {
        var answer = await factory.NewClient().GetAsync("/Settings/Profile");
        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        Assert.StartsWith("/Account/Login", answer.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\b\d{2}\.\d{2}\.2026\b")]
    private static partial Regex DanishDate();

    [Theory]
    [InlineData("da", "dd.MM.yyyy")]
    [InlineData("de", "dd.MM.yyyy")]
    [InlineData("nb", "dd.MM.yyyy")]
    [InlineData("sv", "yyyy-MM-dd")]
    [InlineData("en", "yyyy-MM-dd")]
    public async Task Dates_AreTheLanguagesGregorianDates_AndDateInputsStayIso(string language, string pattern)
    {
        var client = factory.NewClient();
        client.DefaultRequestHeaders.AcceptLanguage.ParseAdd(language);
        var login = await client.GetDocumentAsync("/Account/Login");
        await client.SubmitAsync(login.Form(), ("Input.Email", DemoData.Admin), ("Input.Password", DemoData.Password));
        var create = await client.GetDocumentAsync("/Settings/ApiKeys/Create");
        Assert.Equal(language, Lang(create));
        var today = factory.TodayIn();
        // The quick choice "30 days" shows its date in the language's own format; the date input's bounds stay ISO.
        var thirty = create.QuerySelectorAll("label.pill").Single(l => l.QuerySelector("input")!.GetAttribute("value") == "30");
        Assert.Contains(today.AddDays(30).ToString(pattern, CultureInfo.InvariantCulture), thirty.TextContent, StringComparison.Ordinal);
        var input = create.QuerySelector("#Input_CustomDate")!;
        Assert.Equal(today.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), input.GetAttribute("min"));
        Assert.Equal(PleoKeys.Web.ApiKeys.Expiry.Latest(today).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), input.GetAttribute("max"));

        // A custom date typed as ISO is accepted in every language.
        var name = PageHelpers.UniqueName("Dated " + language);
        var answer = await client.SubmitAsync(create.Form(), ("Input.Name", name), ("Input.Expiration", "custom"),
            ("Input.CustomDate", today.AddDays(40).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)), ("Input.AccessLevel", "Company"), ("Input.Scopes", "vendors:read"));
        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        var reveal = await client.GetDocumentAsync(answer.Headers.Location!.OriginalString);
        Assert.Contains(today.AddDays(40).ToString(pattern, CultureInfo.InvariantCulture), reveal.QuerySelector("p.lede")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void EverySupportedCulture_IsGregorian_WithTheLanguagesOwnNumbers()
    {
        var day = new DateOnly(2026, 11, 26);
        var expected = new Dictionary<string, (string Day, string Count)>
        {
            ["en"] = ("2026-11-26", "12,345"),
            ["da"] = ("26.11.2026", "12.345"),
            ["sv"] = ("2026-11-26", "12\u00a0345"),
            ["nb"] = ("26.11.2026", "12\u00a0345"),
            ["de"] = ("26.11.2026", "12.345"),
        };
        Assert.Equal(expected.Keys.Order(), AppCultures.Supported.Order());
        foreach (var language in AppCultures.Supported)
        {
            var culture = AppCultures.Find(language)!;
            Assert.IsType<GregorianCalendar>(culture.Calendar);
            Assert.IsType<GregorianCalendar>(culture.DateTimeFormat.Calendar);
            var (shownDay, shownCount) = AppCultures.With(language, () => (Show.Day(day), Show.Count(12345)));
            Assert.Equal(expected[language].Day, shownDay);
            Assert.Equal(expected[language].Count, shownCount.Replace('\u202f', '\u00a0'));
        }
    }

    private static class ProfileChoice
    {
        public const string Browser = "";
    }
}
