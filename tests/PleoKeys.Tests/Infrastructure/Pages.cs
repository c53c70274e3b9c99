using System.Net;
using System.Text.RegularExpressions;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Infrastructure;

/// <summary>Small helpers for reading pages and arranging keys, shared by the page tests.</summary>
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
    /// A valid antiforgery token for the signed-in user, taken from the sign-in page's form. It lets a test
    /// post to a page whose form the user is not shown (a tampered or replayed request).
    /// </summary>
    public static async Task<string> AntiforgeryTokenAsync(this HttpClient client)
    {
        var page = await client.GetDocumentAsync("/Account/Login");
        var input = (IHtmlInputElement?)page.QuerySelector("input[name=__RequestVerificationToken]")
            ?? throw new InvalidOperationException("The sign-in page has no antiforgery token.");
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

    /// <summary>The stored row of a key, found by the public key id inside it.</summary>
    public static Task<ApiKey> KeyRowAsync(this PleoKeysFactory factory, string key) =>
        factory.WithDbAsync(db => db.ApiKeys.AsNoTracking().SingleAsync(k => k.KeyId == TestKeys.KeyIdOf(key)));

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

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
