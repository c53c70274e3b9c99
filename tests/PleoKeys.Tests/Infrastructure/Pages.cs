using System.Net;
using System.Text.RegularExpressions;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Infrastructure;

/// <summary>Helpers for reading pages, posting forms and arranging keys and companies, shared by every test.</summary>
public static partial class PageHelpers
{
    /// <summary>The element's text as a reader sees it: whitespace runs collapsed, trimmed.</summary>
    public static string Text(this IElement? element) =>
        element is null ? "" : Whitespace().Replace(element.TextContent, " ").Trim();

    /// <summary>The text with a space between text nodes, as a line break or a new cell line shows it.</summary>
    public static string SpacedText(this IElement? element) =>
        element is null ? "" : Whitespace().Replace(string.Join(" ", element.Descendants<IText>().Select(t => t.Data)), " ").Trim();

    /// <summary>A key name no other test uses, so a test can count and find its own keys in a shared database.</summary>
    public static string UniqueName(string prefix) => $"{prefix} {Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Chooses another company with the switcher in the header, as a user does.</summary>
    public static async Task<HttpResponseMessage> SwitchCompanyAsync(this HttpClient client, Guid companyId, string from = "/Settings")
    {
        var page = await client.GetDocumentAsync(from);
        return await client.SubmitAsync(page.Form("form.company-switch"), ("companyId", companyId.ToString()));
    }

    /// <summary>
    /// A valid antiforgery token for the signed-in user, from the first form on <paramref name="url"/> (any form of
    /// the user's works for every form). It lets a test post to a page whose form the user is not shown (a tampered
    /// or replayed request).
    /// </summary>
    public static async Task<string> AntiforgeryTokenAsync(this HttpClient client, string url = "/Account/Login")
    {
        var page = await client.GetDocumentAsync(url);
        var input = (IHtmlInputElement?)page.QuerySelector("input[name=__RequestVerificationToken]")
            ?? throw new InvalidOperationException($"{url} has no antiforgery token.");
        return input.Value;
    }

    /// <summary>Posts the fields with a valid antiforgery token, without any form the page offered.</summary>
    public static async Task<HttpResponseMessage> PostWithTokenAsync(this HttpClient client, string url, params (string Name, string Value)[] fields)
    {
        var values = fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)).ToList();
        values.Add(new("__RequestVerificationToken", await client.AntiforgeryTokenAsync()));
        return await client.PostAsync(url, new FormUrlEncodedContent(values));
    }

    /// <summary>Posts the create form and follows the redirect to the one-time reveal.</summary>
    public static async Task<(string Key, IHtmlDocument Page, HttpResponseMessage Response)> CreateAndRevealAsync(
        this HttpClient client, string name, string expiration = "30", string accessLevel = "Company", IEnumerable<string>? scopes = null,
        string? customDate = null)
    {
        var created = await client.PostCreateFormAsync(name, expiration, accessLevel, scopes, customDate);
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        var response = await client.GetAsync(created.Headers.Location);
        var page = await Html.ParseAsync(response);
        var key = ((IHtmlInputElement?)page.QuerySelector("#new-key"))?.Value ?? throw new InvalidOperationException("The reveal page shows no key.");
        return (key, page, response);
    }

    /// <summary>Signs in as the demo admin and creates a key (vendors:read unless told) named uniquely after <paramref name="name"/>.</summary>
    public static async Task<string> NewAdminKeyAsync(this PleoKeysFactory factory, string name, params string[] scopes)
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        return await admin.CreateKeyAsync(UniqueName(name), scopes: scopes.Length > 0 ? scopes : [PleoKeys.Web.ApiKeys.Scopes.VendorsRead]);
    }

    /// <summary>The stored row of a key, found by the public key id inside it.</summary>
    public static Task<ApiKey> KeyRowAsync(this PleoKeysFactory factory, string key) =>
        factory.WithDbAsync(db => db.ApiKeys.AsNoTracking().SingleAsync(k => k.KeyId == TestKeys.KeyIdOf(key)));

    /// <summary>
    /// Reads the key's row until it meets the condition; what background work writes (last used, a digest) lands a
    /// moment after the request or clock tick that caused it.
    /// </summary>
    /// <exception cref="Xunit.Sdk.XunitException">Not met within 10 s of real time.</exception>
    public static async Task<ApiKey> WaitForKeyRowAsync(this PleoKeysFactory factory, string key, Func<ApiKey, bool> condition)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var row = await factory.KeyRowAsync(key);
            if (condition(row))
            {
                return row;
            }

            if (waited.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new Xunit.Sdk.XunitException($"The key's row never met the condition: last used {row.LastUsedAtUtc:O} from {row.LastUsedIp}.");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Moves the clock one <see cref="PleoKeys.Web.ApiKeys.LastUsedRecorder.FlushInterval"/>, which always crosses one
    /// tick of the recorder's timer, and waits until the flush shows the key's use at <paramref name="usedAtUtc"/>.
    /// </summary>
    public static Task<ApiKey> FlushLastUsedAsync(this PleoKeysFactory factory, string key, DateTime usedAtUtc)
    {
        factory.Time.Advance(PleoKeys.Web.ApiKeys.LastUsedRecorder.FlushInterval);
        return factory.WaitForKeyRowAsync(key, row => row.LastUsedAtUtc == usedAtUtc);
    }

    public static Task<ApiKey> KeyRowByNameAsync(this PleoKeysFactory factory, string name) =>
        factory.WithDbAsync(db => db.ApiKeys.AsNoTracking().SingleAsync(k => k.Name == name));

    public static Task<int> CountKeysNamedAsync(this PleoKeysFactory factory, string name) =>
        factory.WithDbAsync(db => db.ApiKeys.CountAsync(k => k.Name == name));

    public static Task<string> UserIdAsync(this PleoKeysFactory factory, string email) =>
        factory.WithDbAsync(async db => (await db.Users.SingleAsync(u => u.Email == email)).Id);

    /// <summary>The rows of the key list, each as its cells' texts keyed by column header.</summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, string>> KeyTableRows(this IHtmlDocument list)
    {
        var headers = list.QuerySelectorAll("table.keys thead th").Select(th => th.Text()).ToList();
        return list.QuerySelectorAll("table.keys tbody tr")
            .Select(tr => (IReadOnlyDictionary<string, string>)tr.QuerySelectorAll("td").Select((td, i) => (headers[i], td.SpacedText()))
                .ToDictionary(c => c.Item1, c => c.Item2))
            .ToList();
    }

    public static IReadOnlyList<string> KeyNames(this IHtmlDocument list) =>
        list.QuerySelectorAll("table.keys tbody tr td:first-child").Select(td => td.Text()).ToList();

    public static readonly Guid[] AllCompanies = [DemoData.NordicCoffeeApSId, DemoData.NordicCoffeeAbId, DemoData.FjordBikesAsId];

    public static readonly string[] SeededUsers = [DemoData.Admin, DemoData.Bookkeeper, DemoData.Employee, DemoData.PersonalAdmin, DemoData.FjordAdmin];

    public static readonly string[] AllScopes = PleoKeys.Web.ApiKeys.Scopes.All.Select(s => s.Value).ToArray();

    /// <summary>
    /// A signed-in client whose cookie jar the test holds, so it can plant a cookie (a tampered company
    /// choice) the way an attacker would.
    /// </summary>
    public static async Task<(HttpClient Client, CookieContainer Cookies)> SignedInClientWithCookiesAsync(this PleoKeysFactory factory, string email)
    {
        var cookies = new CookieContainer();
        var client = factory.CreateDefaultClient(new Microsoft.AspNetCore.Mvc.Testing.Handlers.CookieContainerHandler(cookies));
        var page = await client.GetDocumentAsync("/Account/Login");
        var response = await client.SubmitAsync(page.Form(), ("Input.Email", email), ("Input.Password", DemoData.Password));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return (client, cookies);
    }

    /// <summary>The fields of a valid create form, plus the given token and the form's ticket (see <see cref="FormTokensAsync"/>).</summary>
    public static List<KeyValuePair<string, string>> CreateFields(string token, string name = "Probe", string accessLevel = "Company", IEnumerable<string>? scopes = null,
        string? ticket = null)
    {
        var fields = new List<KeyValuePair<string, string>>
        {
            new("__RequestVerificationToken", token),
            new(PleoKeys.Web.Auth.FormTicket.FieldName, ticket ?? ""),
            new("Input.Name", name),
            new("Input.Expiration", "30"),
            new("Input.CustomDate", ""),
            new("Input.AccessLevel", accessLevel),
        };
        fields.AddRange((scopes ?? ["vendors:read"]).Select(s => new KeyValuePair<string, string>("Input.Scopes", s)));
        return fields;
    }

    /// <summary>
    /// What a browser submits with the form on a page besides its fields: the antiforgery token and the form's
    /// single-use ticket (the company it was rendered for).
    /// </summary>
    public static async Task<(string Token, string Ticket)> FormTokensAsync(this HttpClient client, string url)
    {
        var document = await client.GetDocumentAsync(url);
        var form = document.QuerySelector("main form[method=post]") ?? throw new InvalidOperationException($"{url} has no form.");
        string Value(string name) => (form.QuerySelector($"input[name={name}]") as IHtmlInputElement)?.Value
            ?? throw new InvalidOperationException($"The form on {url} has no {name}.");
        return (Value("__RequestVerificationToken"), Value(PleoKeys.Web.Auth.FormTicket.FieldName));
    }

    public static Task<HttpResponseMessage> PostFormAsync(this HttpClient client, string url, IEnumerable<KeyValuePair<string, string>> fields) =>
        client.PostAsync(url, new FormUrlEncodedContent(fields));

    public static Task SetApiKeyAccessAsync(this PleoKeysFactory factory, Guid companyId, bool on) =>
        factory.WithDbAsync(db => db.Companies.Where(c => c.Id == companyId)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.ApiKeyAccess, on)));

    /// <summary>Everything about the keys that a request could change, as one comparable text.</summary>
    public static Task<string> KeysSnapshotAsync(this PleoKeysFactory factory) =>
        factory.WithDbAsync(async db =>
        {
            var rows = await db.ApiKeys.AsNoTracking().OrderBy(k => k.KeyId)
                .Select(k => new { k.KeyId, k.Name, k.CompanyId, k.AccessLevel, k.Scopes, k.ExpiresAtUtc, k.DeletedAtUtc, k.SecretHash })
                .ToListAsync();
            var audit = await db.AuditEvents.CountAsync(e => e.Action != AuditActions.SignedIn && e.Action != AuditActions.SignInFailed);
            return string.Join('\n', rows.Select(r => r.ToString())) + $"\naudit:{audit}";
        });

    public static Task<int> KeyCountAsync(this PleoKeysFactory factory) =>
        factory.WithDbAsync(db => db.ApiKeys.CountAsync());

    /// <summary>The row id of a key, read through the API as an integration would (installation id = key row id).</summary>
    public static async Task<Guid> KeyRowIdAsync(this HttpClient client, string key)
    {
        var response = await client.ApiGetAsync("/v1/installations/me", key);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("id").GetGuid();
    }

    /// <summary>Short, secret-free text for assertion messages: a test output never carries a key.</summary>
    public static string Shorten(string s) => s.Length <= 80 ? s : s[..80] + $"…({s.Length} chars)";

    /// <summary>Creates a key through the form with a custom expiration date and reads it from the reveal.</summary>
    public static async Task<string> CreateKeyExpiringOnAsync(this HttpClient client, DateOnly date, string name = "Dated key", string[]? scopes = null) =>
        (await client.CreateAndRevealAsync(name, "custom", scopes: scopes ?? [PleoKeys.Web.ApiKeys.Scopes.VendorsRead],
            customDate: date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture))).Key;

    /// <summary>The company's date today (Copenhagen for Nordic Coffee ApS) on the factory's clock.</summary>
    public static DateOnly TodayIn(this PleoKeysFactory factory, string zoneId = "Europe/Copenhagen") =>
        DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(factory.Time.GetUtcNow().UtcDateTime, TimeZoneInfo.FindSystemTimeZoneById(zoneId)));

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
