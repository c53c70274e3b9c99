using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AngleSharp;
using AngleSharp.Html.Dom;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Infrastructure;

/// <summary>
/// Drives real forms the way a browser does: AngleSharp parses the page, the test fills the named
/// fields, and the form's own hidden fields (the antiforgery token among them) ride along.
/// </summary>
public static class Html
{
    /// <summary>
    /// Parses the page; its forms post back to where it came from, or to <paramref name="address"/> when given
    /// (a form served by one app instance submitted to another).
    /// </summary>
    public static async Task<IHtmlDocument> ParseAsync(HttpResponseMessage response, Uri? address = null)
    {
        var content = await response.Content.ReadAsStringAsync();
        var context = BrowsingContext.New(Configuration.Default);
        var document = await context.OpenAsync(r =>
        {
            r.Content(content);
            r.Address(address ?? response.RequestMessage!.RequestUri!);
            r.Status(response.StatusCode);
        });
        return (IHtmlDocument)document;
    }

    public static async Task<IHtmlDocument> GetDocumentAsync(this HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        return await ParseAsync(response);
    }

    /// <summary>Submits the form with the given field values; a list value sends the field once per item.</summary>
    public static Task<HttpResponseMessage> SubmitAsync(this HttpClient client, IHtmlFormElement form, IEnumerable<KeyValuePair<string, string>> values)
    {
        var fields = new List<KeyValuePair<string, string>>();
        var overridden = values.Select(v => v.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var element in form.Elements)
        {
            var name = element.GetAttribute("name");
            if (string.IsNullOrEmpty(name) || overridden.Contains(name))
            {
                continue;
            }

            switch (element)
            {
                case IHtmlInputElement { Type: "checkbox" or "radio" } input:
                    if (input.IsChecked)
                    {
                        fields.Add(new(name, input.Value));
                    }

                    break;
                case IHtmlInputElement { Type: "submit" or "button" }:
                    break;
                case IHtmlInputElement input:
                    fields.Add(new(name, input.Value));
                    break;
                case IHtmlSelectElement select:
                    fields.Add(new(name, select.Value ?? ""));
                    break;
                case IHtmlTextAreaElement area:
                    fields.Add(new(name, area.Value));
                    break;
            }
        }

        fields.AddRange(values);
        var action = form.GetAttribute("action");
        var target = string.IsNullOrEmpty(action) ? form.BaseUrl!.Href : new Uri(new Uri(form.BaseUrl!.Href), action).ToString();
        return client.PostAsync(target, new FormUrlEncodedContent(fields));
    }

    public static Task<HttpResponseMessage> SubmitAsync(this HttpClient client, IHtmlFormElement form, params (string Name, string Value)[] values) =>
        client.SubmitAsync(form, values.Select(v => new KeyValuePair<string, string>(v.Name, v.Value)));

    public static IHtmlFormElement Form(this IHtmlDocument document, string selector = "main form") =>
        (IHtmlFormElement)(document.QuerySelector(selector) ?? throw new InvalidOperationException($"No form matches '{selector}' on {document.Url}."));
}

public static class Clients
{
    /// <summary>A client that keeps cookies and does not follow redirects, so tests see each answer.</summary>
    public static HttpClient NewClient(this PleoKeysFactory factory) =>
        factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    /// <summary>Signs in through the real sign-in page with the demo password.</summary>
    public static async Task<HttpClient> SignedInClientAsync(this PleoKeysFactory factory, string email)
    {
        var client = factory.NewClient();
        var page = await client.GetDocumentAsync("/Account/Login");
        var response = await client.SubmitAsync(page.Form(), ("Input.Email", email), ("Input.Password", DemoData.Password));
        if (response.StatusCode != HttpStatusCode.Redirect)
        {
            throw new InvalidOperationException($"Sign-in as {email} answered {(int)response.StatusCode}.");
        }

        return client;
    }

    /// <summary>Fills and submits the Create API Key form; returns the answer to the POST.</summary>
    public static async Task<HttpResponseMessage> PostCreateFormAsync(this HttpClient client, string name, string expiration = "30",
        string accessLevel = "Company", IEnumerable<string>? scopes = null, string? customDate = null)
    {
        var page = await client.GetDocumentAsync("/Settings/ApiKeys/Create");
        var values = new List<KeyValuePair<string, string>>
        {
            new("Input.Name", name),
            new("Input.Expiration", expiration),
            new("Input.AccessLevel", accessLevel),
            new("Input.CustomDate", customDate ?? ""),
        };
        values.AddRange((scopes ?? ["vendors:read"]).Select(s => new KeyValuePair<string, string>("Input.Scopes", s)));
        return await client.SubmitAsync(page.Form(), values);
    }

    /// <summary>Creates a key through the form and reads it from the one-time reveal.</summary>
    public static async Task<string> CreateKeyAsync(this HttpClient client, string name = "Test key", string expiration = "30",
        string accessLevel = "Company", IEnumerable<string>? scopes = null)
    {
        var response = await client.PostCreateFormAsync(name, expiration, accessLevel, scopes);
        if (response.StatusCode != HttpStatusCode.Redirect)
        {
            var body = await response.Content.ReadAsStringAsync();
            throw new InvalidOperationException($"Create answered {(int)response.StatusCode}: {body[..Math.Min(body.Length, 2000)]}");
        }

        var reveal = await client.GetDocumentAsync(response.Headers.Location!.ToString());
        var input = (IHtmlInputElement?)reveal.QuerySelector("#new-key") ?? throw new InvalidOperationException("The reveal page shows no key.");
        return input.Value;
    }

    public static AuthenticationHeaderValue Basic(string key) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(key + ":")));

    /// <summary>A GET to the API with the key as curl -u 'KEY:' sends it.</summary>
    public static Task<HttpResponseMessage> ApiGetAsync(this HttpClient client, string url, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = Basic(key);
        return client.SendAsync(request);
    }
}
