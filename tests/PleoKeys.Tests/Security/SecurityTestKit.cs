using System.Collections.Concurrent;
using System.Net;
using AngleSharp.Html.Dom;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Security;

/// <summary>
/// Lets a test choose the client address of a request (TestServer has none): the header
/// <c>X-Test-Client</c> becomes <c>Connection.RemoteIpAddress</c>, before the app's own pipeline runs.
/// </summary>
public sealed class ClientAddressStartupFilter : IStartupFilter
{
    public const string Header = "X-Test-Client";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, nextMiddleware) =>
        {
            if (IPAddress.TryParse(context.Request.Headers[Header].ToString(), out var address))
            {
                context.Connection.RemoteIpAddress = address;
            }

            await nextMiddleware(context);
        });
        next(app);
    };
}

public static class SecurityKit
{
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

    /// <summary>The antiforgery token of the first form on a page (any form of the user's works for every form).</summary>
    public static async Task<string> AntiforgeryTokenAsync(this HttpClient client, string url)
    {
        var document = await client.GetDocumentAsync(url);
        var input = document.QuerySelector("input[name=__RequestVerificationToken]") as IHtmlInputElement
            ?? throw new InvalidOperationException($"{url} has no antiforgery token.");
        return input.Value;
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

    /// <summary>Switches the signed-in user to another company through the header's switch form.</summary>
    public static async Task SwitchCompanyAsync(this HttpClient client, Guid companyId)
    {
        var token = await client.AntiforgeryTokenAsync("/");
        var response = await client.PostFormAsync("/Account/SwitchCompany",
            [new("__RequestVerificationToken", token), new("companyId", companyId.ToString()), new("returnUrl", "/")]);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }

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
}
