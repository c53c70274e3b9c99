using System.Net;
using AngleSharp.Html.Dom;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Languages;

/// <summary>
/// Issue 16: every page in English, Danish, Swedish, Norwegian Bokmål and German. Each page is opened in each
/// language as the users who see it; it must render, name its language in &lt;html lang&gt;, look up no text the
/// resources lack, and show none of the English resource texts (a text missing from a language's file falls back
/// to English, and is caught here as well as by <see cref="Resources_EveryKeyOfTheNeutralFile_IsInEveryLanguage"/>).
/// </summary>
public sealed class LanguagePagesTests(LanguageFactory factory) : IClassFixture<LanguageFactory>
{
    [Fact]
    public void Resources_EveryKeyOfTheNeutralFile_IsInEveryLanguage()
    {
        var english = Texts.Of(AppCultures.Default);
        Assert.True(english.Count > 300, $"Only {english.Count} English texts.");
        foreach (var language in Texts.Translated)
        {
            var translated = Texts.Of(language);
            var missing = english.Keys.Where(k => !translated.TryGetValue(k, out var v) || string.IsNullOrWhiteSpace(v)).ToList();
            Assert.True(missing.Count == 0, $"{language} lacks {missing.Count} text(s): {string.Join(" | ", missing.Take(10))}");
            var extra = translated.Keys.Except(english.Keys).ToList();
            Assert.True(extra.Count == 0, $"{language} has text(s) English lacks: {string.Join(" | ", extra.Take(10))}");
        }
    }

    [Fact]
    public void Resources_KeepEveryPlaceholderAndTag()
    {
        var english = Texts.Of(AppCultures.Default);
        foreach (var language in Texts.Translated)
        {
            foreach (var (key, value) in Texts.Of(language))
            {
                var expected = System.Text.RegularExpressions.Regex.Matches(english[key], @"\{\d+\}|<[^>]+>").Select(m => m.Value).Order().ToList();
                var actual = System.Text.RegularExpressions.Regex.Matches(value, @"\{\d+\}|<[^>]+>").Select(m => m.Value).Order().ToList();
                Assert.True(expected.SequenceEqual(actual), $"{language}: “{value}” does not keep the placeholders and tags of “{key}”.");
            }
        }
    }

    /// <summary>
    /// A reviewer's kinds of wording, checked over every text of a language (not only the examples found): German
    /// says "Secret" for a key's secret as the rest of the app does, Swedish and Norwegian spell their own word for
    /// time zone, the Nordic texts say "du" to the reader and never the plural "you", and no text says "scopes" where
    /// the pages say permissions.
    /// </summary>
    [Theory]
    [InlineData("de", "Geheimnis")]
    [InlineData("de", " Scopes")]
    [InlineData("de", "Abzeichen")]
    [InlineData("de", "Der Name stapelt")]
    [InlineData("sv", "tidszone")]
    [InlineData("nb", "tidszone")]
    [InlineData("da", "jeres")]
    [InlineData("sv", " era ")]
    [InlineData("nb", "deres egne")]
    [InlineData("nb", "administratorene deres")]
    [InlineData("da", "scopes")]
    [InlineData("sv", "scopes")]
    [InlineData("nb", "scopene")]
    [InlineData("da", "længere forbinde")]
    [InlineData("sv", "jobbmejl")]
    [InlineData("da", "indsættelse")]
    public void Resources_AvoidWordingTheReviewFound(string language, string wording)
    {
        var found = Texts.Of(language).Where(e => e.Value.Contains(wording, StringComparison.Ordinal)).Select(e => e.Value).ToList();
        Assert.True(found.Count == 0, $"{language} says “{wording}”: {string.Join(" | ", found)}");
    }

    [Theory]
    [InlineData("sv", "stopped working at the end of {0} ({1} time), {2}", "slutade fungera vid slutet av {0} (tidszon {1}), {2}")]
    [InlineData("nb", "works through {0} ({1} time) and stops at {2}", "virker til og med {0} (tidssone {1}) og stopper {2}")]
    [InlineData("nb", "This key replaces <code>{0}</code>, whose old secret keeps working until {1}.", "Denne nøkkelen erstatter <code>{0}</code>. Den gamle hemmeligheten virker til {1}.")]
    [InlineData("de", "Created by {0} from {1}", "Erstellt von {0} (von {1} aus)")]
    [InlineData("de", "IP allowlist set to {0} by {1}", "IP-Zulassungsliste von {1} auf {0} gesetzt")]
    [InlineData("da", " and {0} more", " og {0} flere")]
    [InlineData("sv", "Expired", "Utgången")]
    [InlineData("da", "Someone reported the API key “{0}” ({1}) of {2} as exposed, on {3}.", "Nogen meldte API-nøglen “{0}” ({1}) i {2} som lækket den {3}.")]
    public void Resources_ReviewedTexts(string language, string key, string expected) => Assert.Equal(expected, Texts.Of(language)[key]);

    /// <summary>The pages an Admin opens, in the order a new user meets them (the key's pages on a key made for the purpose).</summary>
    private static async Task<List<(string Url, IHtmlDocument Page)>> AdminPagesAsync(HttpClient client)
    {
        var pages = new List<(string, IHtmlDocument)>();
        async Task Open(string url, HttpStatusCode status = HttpStatusCode.OK)
        {
            var response = await client.GetAsync(url);
            Assert.True(response.StatusCode == status, $"{url} answered {(int)response.StatusCode}, not {(int)status}.");
            pages.Add((url, await Html.ParseAsync(response)));
        }

        await Open("/");
        await Open("/Settings");
        await Open("/Settings/Profile");
        await Open("/Settings/ApiKeys");
        await Open("/Settings/ApiKeys?expiring=true");
        await Open("/Settings/ApiKeys?q=nothing-is-called-this");
        await Open("/Settings/ApiKeys/Create");

        var created = await client.PostCreateFormAsync(PageHelpers.UniqueName("Probe"), scopes: ["vendors:read", "users:read"]);
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        var reveal = created.Headers.Location!.OriginalString;
        await Open(reveal);
        await Open(reveal, HttpStatusCode.Gone);
        var id = reveal.Split('/').Last();
        await Open($"/Settings/ApiKeys/Details/{id}");
        await Open($"/Settings/ApiKeys/Roll/{id}");
        await Open($"/Settings/ApiKeys/Delete/{id}");
        var vendorScript = (await client.GetDocumentAsync("/Settings/ApiKeys")).QuerySelectorAll("a.row-link")
            .First(a => a.TextContent.Contains("Vendor import script", StringComparison.Ordinal)).GetAttribute("href")!;
        await Open(vendorScript);
        await Open("/api-reference");
        await Open("/Status/404", HttpStatusCode.NotFound);
        await Open("/Status/400", HttpStatusCode.BadRequest);
        await Open("/Status/405", HttpStatusCode.MethodNotAllowed);
        await Open("/Status/429", HttpStatusCode.TooManyRequests);
        await Open("/Status/500", HttpStatusCode.InternalServerError);
        return pages;
    }

    private async Task<HttpClient> SignedInInAsync(string email, string language)
    {
        var client = await factory.SignedInClientAsync(email);
        var profile = await client.GetDocumentAsync("/Settings/Profile");
        var saved = await client.SubmitAsync(profile.Form(), ("Input.Language", language));
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        return client;
    }

    private static void AssertIn(string language, string url, IHtmlDocument page)
    {
        Assert.True(page.DocumentElement.GetAttribute("lang") == language, $"{url}: <html lang=\"{page.DocumentElement.GetAttribute("lang")}\">, not {language}.");
        if (language != AppCultures.Default)
        {
            var english = Texts.EnglishIn(page, language);
            Assert.True(english.Count == 0, $"{url} in {language} shows English: {string.Join("; ", english)}");
        }
    }

    [Theory]
    [MemberData(nameof(Texts.AllLanguages), MemberType = typeof(Texts))]
    public async Task EveryPage_AsTheAdmin_IsInTheChosenLanguage(string language)
    {
        var client = await SignedInInAsync(DemoData.Admin, language);
        foreach (var (url, page) in await AdminPagesAsync(client))
        {
            AssertIn(language, url, page);
        }

        Assert.True(factory.Missing.Names.IsEmpty, "Not in the resources: " + string.Join(" | ", factory.Missing.Names.Keys.Order()));
    }

    [Theory]
    [MemberData(nameof(Texts.AllLanguages), MemberType = typeof(Texts))]
    public async Task EveryPage_AsTheBookkeeperAndTheEmployee_IsInTheChosenLanguage(string language)
    {
        var bookkeeper = await SignedInInAsync(DemoData.Bookkeeper, language);
        var list = await bookkeeper.GetDocumentAsync("/Settings/ApiKeys");
        AssertIn(language, "/Settings/ApiKeys", list);
        var details = list.QuerySelector("a.row-link")!.GetAttribute("href")!;
        AssertIn(language, details, await bookkeeper.GetDocumentAsync(details));
        AssertIn(language, "/Settings/ApiKeys/Delete", await bookkeeper.GetDocumentAsync(details.Replace("Details", "Delete", StringComparison.Ordinal)));

        var employee = await SignedInInAsync(DemoData.Employee, language);
        AssertIn(language, "/", await employee.GetDocumentAsync("/"));
        AssertIn(language, "/Settings", await employee.GetDocumentAsync("/Settings"));
        var forbidden = await employee.GetAsync("/Settings/ApiKeys");
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        AssertIn(language, "/Settings/ApiKeys (403)", await Html.ParseAsync(forbidden));

        var personal = await SignedInInAsync(DemoData.PersonalAdmin, language);
        var refused = await personal.GetAsync("/Settings/ApiKeys");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        AssertIn(language, "/Settings/ApiKeys (403, personal email)", await Html.ParseAsync(refused));
        Assert.True(factory.Missing.Names.IsEmpty, "Not in the resources: " + string.Join(" | ", factory.Missing.Names.Keys.Order()));
    }

    [Theory]
    [MemberData(nameof(Texts.TranslatedLanguages), MemberType = typeof(Texts))]
    public async Task SignInPage_AndItsErrors_FollowAcceptLanguage(string language)
    {
        var client = factory.NewClient();
        client.DefaultRequestHeaders.AcceptLanguage.ParseAdd(language + "-XX, " + language + ";q=0.9, en;q=0.5");
        var login = await client.GetDocumentAsync("/Account/Login");
        AssertIn(language, "/Account/Login", login);

        var empty = await client.SubmitAsync(login.Form(), ("Input.Email", ""), ("Input.Password", ""));
        AssertIn(language, "/Account/Login (empty)", await Html.ParseAsync(empty));
        var wrong = await client.SubmitAsync(login.Form(), ("Input.Email", DemoData.Admin), ("Input.Password", "not the password"));
        var wrongPage = await Html.ParseAsync(wrong);
        AssertIn(language, "/Account/Login (wrong password)", wrongPage);
        Assert.Equal(Texts.Of(language)["Incorrect email or password. After {0} failed attempts the account is locked for {1} minutes."].Replace("{0}", "5").Replace("{1}", "15"),
            wrongPage.QuerySelector(".alert-error li")!.TextContent.Trim());
        Assert.True(factory.Missing.Names.IsEmpty, "Not in the resources: " + string.Join(" | ", factory.Missing.Names.Keys.Order()));
    }

    [Fact]
    public async Task Create_WithEveryFieldWrong_SaysSoInTheChosenLanguage()
    {
        var client = await SignedInInAsync(DemoData.Admin, "de");
        var page = await client.GetDocumentAsync("/Settings/ApiKeys/Create");
        var answer = await client.SubmitAsync(page.Form(), ("Input.Name", ""), ("Input.Expiration", "custom"), ("Input.CustomDate", "2026-13-45"),
            ("Input.AccessLevel", "Galaxy"));
        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        var form = await Html.ParseAsync(answer);
        AssertIn("de", "/Settings/ApiKeys/Create (400)", form);
        Assert.Equal("Geben Sie einen Namen für den Schlüssel ein.", form.QuerySelector("#name-error")!.TextContent.Trim());
        Assert.Equal("Wählen Sie mindestens eine Berechtigung.", form.QuerySelector("#scopes-error")!.TextContent.Trim());
        Assert.Equal("Wählen Sie eine Zugriffsebene.", form.QuerySelector("#access-error")!.TextContent.Trim());
        Assert.StartsWith("Geben Sie das Datum als JJJJ-MM-TT ein", form.QuerySelector("#customdate-error")!.TextContent.Trim(), StringComparison.Ordinal);

        // The key domain's messages with values in them (ApiKeys/KeyName, ApiKeys/AllowedNetworks) too.
        var again = await client.SubmitAsync(form.Form(), ("Input.Name", new string('x', 101)), ("Input.Expiration", "30"), ("Input.CustomDate", ""),
            ("Input.AccessLevel", "Company"), ("Input.Scopes", "vendors:read"), ("Input.AllowedNetworks", "10.0.0.1/8\nnonsense"));
        var second = await Html.ParseAsync(again);
        AssertIn("de", "/Settings/ApiKeys/Create (400, values)", second);
        Assert.Equal("Verwenden Sie höchstens 100 Zeichen (dieser hat 101).", second.QuerySelector("#name-error")!.TextContent.Trim());
        Assert.Equal("„10.0.0.1/8“ hat Bits nach seinem /8-Präfix gesetzt; meinten Sie 10.0.0.0/8? " +
            "„nonsense“ ist keine IPv4- oder IPv6-Adresse und kein CIDR-Bereich wie 203.0.113.0/24.", second.QuerySelector("#allowlist-error")!.TextContent.Trim());
    }

    /// <summary>
    /// Values on a German page are German too: a key's counts with German digit grouping (12.345), the chart's axis
    /// days without the English "MM-dd", the history's roll and failed-authentication details in German (the audit
    /// rows hold English records), the company's country by name rather than its code, and a key name's invisible
    /// character by code point without its English Unicode name.
    /// </summary>
    [Fact]
    public async Task Values_OnAGermanPage_AreGerman()
    {
        var client = await SignedInInAsync(DemoData.Admin, "de");
        var name = PageHelpers.UniqueName("Werte");
        await client.CreateKeyAsync(name);
        var row = await factory.KeyRowByNameAsync(name);
        var now = factory.Time.GetUtcNow().UtcDateTime;
        await factory.WithDbAsync(db =>
        {
            db.KeyUsageHours.Add(new KeyUsageHour { ApiKeyId = row.Id, HourUtc = now.AddHours(-1).Date.AddHours(now.AddHours(-1).Hour), Endpoint = "GET /v1/vendors",
                EndpointGroup = "vendors", Scope = "vendors:read", Requests = 12345 });
            db.KeyUsageAddresses.Add(new KeyUsageAddress { ApiKeyId = row.Id, Address = "192.0.2.77", FirstSeenUtc = now.AddHours(-1), LastSeenUtc = now.AddHours(-1), Requests = 12345 });
            // The row AuthFailureAudit writes on a burst of failed authentications.
            db.AuditEvents.Add(new AuditEvent { AtUtc = now, Action = AuditActions.KeyAuthFailures, IpAddress = "198.51.100.9", CompanyId = row.CompanyId, ApiKeyId = row.Id,
                KeyFingerprint = row.Fingerprint, Detail = "10 in a minute; the key itself keeps working, the failing clients are throttled" });
            return db.SaveChangesAsync();
        });

        // A real roll writes the roll's audit row.
        var rollForm = await client.GetDocumentAsync($"/Settings/ApiKeys/Roll/{row.Id}");
        var rolled = await client.SubmitAsync(rollForm.Form("main form"), ("Input.Grace", "1h"));
        Assert.Equal(HttpStatusCode.Redirect, rolled.StatusCode);

        var details = await client.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}");
        AssertIn("de", "/Settings/ApiKeys/Details (values)", details);
        var text = details.QuerySelector("main")!.TextContent;
        Assert.DoesNotContain("12345", text, StringComparison.Ordinal);
        Assert.Contains("12.345", text, StringComparison.Ordinal);
        var ticks = details.QuerySelectorAll("text.usage-tick").Select(e => e.TextContent.Trim()).ToList();
        Assert.Contains(ticks, t => System.Text.RegularExpressions.Regex.IsMatch(t, @"^\d\d\.\d\d\.$"));

        var history = string.Join("\n", details.QuerySelectorAll("ul.history li").Select(li => li.TextContent));
        Assert.Contains("10 in einer Minute; der Schlüssel selbst funktioniert weiter", history, StringComparison.Ordinal);
        Assert.Contains("ersetzt durch pleo_", history, StringComparison.Ordinal);
        Assert.Contains("das alte Secret endet am ", history, StringComparison.Ordinal);
        Assert.DoesNotContain("in a minute", history, StringComparison.Ordinal);
        Assert.DoesNotContain("replaced by", history, StringComparison.Ordinal);

        var settings = await client.GetDocumentAsync("/Settings");
        var country = settings.QuerySelectorAll("dl.facts dt").First(dt => dt.TextContent.Trim() == Texts.Of("de")["Country"]).NextElementSibling!.TextContent.Trim();
        Assert.True(country is "Dänemark" or "Danmark", $"The country is “{country}”.");
        var english = await SignedInInAsync(DemoData.Bookkeeper, "en");
        Assert.Contains((await english.GetDocumentAsync("/Settings")).QuerySelectorAll("dl.facts dd"), dd => dd.TextContent.Trim() == "Denmark");

        var create = await client.GetDocumentAsync("/Settings/ApiKeys/Create");
        var refused = await Html.ParseAsync(await client.SubmitAsync(create.Form(), ("Input.Name", "Zero\u200Bwidth"), ("Input.Expiration", "30"),
            ("Input.AccessLevel", "Company"), ("Input.Scopes", "vendors:read")));
        Assert.Equal(Texts.Of("de")["The name can't contain invisible characters such as {0}."].Replace("{0}", "U+200B", StringComparison.Ordinal),
            refused.QuerySelector("#name-error")!.TextContent.Trim());
    }

    [Fact]
    public async Task Delete_AsTheBookkeeperInDanish_SaysSoInDanishOnTheList()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Slettes");
        await admin.CreateKeyAsync(name);
        var bookkeeper = await SignedInInAsync(DemoData.Bookkeeper, "da");
        var id = (await factory.KeyRowByNameAsync(name)).Id;
        var confirm = await bookkeeper.GetDocumentAsync($"/Settings/ApiKeys/Delete/{id}");
        Assert.Contains("Slet API-nøglen", confirm.QuerySelector("h1")!.TextContent, StringComparison.Ordinal);
        var deleted = await bookkeeper.SubmitAsync(confirm.Form("main form[method=post]"));
        Assert.Equal(HttpStatusCode.Redirect, deleted.StatusCode);
        var list = await bookkeeper.GetDocumentAsync(deleted.Headers.Location!.OriginalString);
        Assert.Equal($"API-nøglen “{name}” blev slettet. Integrationer, der bruger den, kan ikke længere oprette forbindelse.",
            list.QuerySelector("[role=status]")!.TextContent.Trim());
        AssertIn("da", "/Settings/ApiKeys (after delete)", list);
    }
}
