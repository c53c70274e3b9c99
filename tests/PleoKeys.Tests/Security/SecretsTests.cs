using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using AngleSharp.Html.Dom;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;
using Xunit.Abstractions;

namespace PleoKeys.Tests.Security;

/// <summary>Every request and response of a client, kept so a test can look for keys where they must not be.</summary>
public sealed class RecordingHandler(ConcurrentQueue<RecordingHandler.Exchange> exchanges) : DelegatingHandler
{
    public sealed record Exchange(string Method, Uri Url, int Status, string? Location, string? CacheControl, string? ContentType, string Body);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        exchanges.Enqueue(new Exchange(request.Method.Method, request.RequestUri!, (int)response.StatusCode, response.Headers.Location?.OriginalString,
            response.Headers.CacheControl?.ToString(), response.Content.Headers.ContentType?.MediaType, body));
        return response;
    }
}

/// <summary>
/// A full run of the journeys (create, reveal, use, misuse, delete, expire) with every log line captured at
/// Trace level: no plaintext key appears in the logs, in a URL or Location header, or in a cacheable response.
/// </summary>
public sealed class SecretsTests(LoggingFactory factory, ITestOutputHelper output) : IClassFixture<LoggingFactory>
{
    private readonly ConcurrentQueue<RecordingHandler.Exchange> _exchanges = new();

    private async Task<HttpClient> BrowserAsync(string email)
    {
        var client = factory.CreateDefaultClient(new RecordingHandler(_exchanges), new CookieContainerHandler());
        var page = await client.GetDocumentAsync("/Account/Login");
        var response = await client.SubmitAsync(page.Form(), ("Input.Email", email), ("Input.Password", DemoData.Password));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    [Fact]
    public async Task FullJourneys_NoPlaintextKeyInLogsUrlsOrCacheableResponses()
    {
        var admin = await BrowserAsync(DemoData.Admin);
        var bookkeeper = await BrowserAsync(DemoData.Bookkeeper);
        var api = factory.CreateDefaultClient(new RecordingHandler(_exchanges));
        var keys = new List<string>
        {
            await admin.CreateKeyAsync("Journey entity key", scopes: PageHelpers.AllScopes),
            await admin.CreateKeyAsync("Journey organisation key", accessLevel: "Organisation", scopes: PageHelpers.AllScopes),
            await bookkeeper.CreateKeyAsync("Journey short key", expiration: "7", scopes: ["vendors:read"]),
        };
        var (entity, organisation, shortLived) = (keys[0], keys[1], keys[2]);

        // Use: both header forms, reads and writes, an organisation key naming a company.
        foreach (var path in new[] { "/v1/installations/me", "/v1/companies", "/v1/employees", "/v1/vendors", "/v1/accounts", "/v2/export-jobs" })
        {
            Assert.Equal(HttpStatusCode.OK, (await api.ApiGetAsync(path, entity)).StatusCode);
            var bearer = new HttpRequestMessage(HttpMethod.Get, path);
            bearer.Headers.Authorization = new("Bearer", entity);
            Assert.Equal(HttpStatusCode.OK, (await api.SendAsync(bearer)).StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await api.ApiGetAsync($"/v1/vendors?company_id={DemoData.NordicCoffeeAbId}", organisation)).StatusCode);
        var post = new HttpRequestMessage(HttpMethod.Post, "/v1/vendors") { Content = JsonContent.Create(new { name = "Journey vendor" }) };
        post.Headers.Authorization = Clients.Basic(entity);
        Assert.Equal(HttpStatusCode.Created, (await api.SendAsync(post)).StatusCode);
        var activate = new HttpRequestMessage(HttpMethod.Post, "/v1/installations/me");
        activate.Headers.Authorization = Clients.Basic(entity);
        Assert.Equal(HttpStatusCode.OK, (await api.SendAsync(activate)).StatusCode);

        // Misuse: a missing scope, a typo, a guessed secret, the other environment, a key in the query string.
        Assert.Equal(HttpStatusCode.Forbidden, (await api.ApiGetAsync("/v1/employees", shortLived)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.ApiGetAsync("/v1/installations/me", entity[..^1] + (entity[^1] == 'a' ? 'b' : 'a'))).StatusCode);
        var body = entity[..^(ApiKeyFormat.ChecksumLength + 1)] + (entity[^(ApiKeyFormat.ChecksumLength + 1)] == 'a' ? 'b' : 'a');
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.ApiGetAsync("/v1/installations/me", body + ApiKeyFormat.Checksum(body))).StatusCode);
        var live = "pleo_live_" + entity[ApiKeyFormat.PrefixLength..^ApiKeyFormat.ChecksumLength];
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.ApiGetAsync("/v1/installations/me", live + ApiKeyFormat.Checksum(live))).StatusCode);

        // The pages around a key, then deletion, use after deletion, and expiry.
        var entityId = await api.KeyRowIdAsync(entity);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/Settings/ApiKeys")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/Settings/ApiKeys/Details/{entityId}")).StatusCode);
        var deletePage = await admin.GetDocumentAsync($"/Settings/ApiKeys/Delete/{entityId}");
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SubmitAsync(deletePage.Form())).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.ApiGetAsync("/v1/installations/me", entity)).StatusCode);
        factory.Time.Advance(TimeSpan.FromDays(9));
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.ApiGetAsync("/v1/installations/me", shortLived)).StatusCode);

        // A key offered in the query string is not taken, nor logged (the request line would carry it).
        var query = await factory.CreateDefaultClient().GetAsync($"/v1/installations/me?api_key={Uri.EscapeDataString(organisation)}");
        Assert.Equal(HttpStatusCode.Unauthorized, query.StatusCode);

        // Logs: every line, every structured value, every exception; each key in the three forms it travels in.
        var lines = factory.Logs.Messages.ToList();
        var forms = keys.SelectMany(k => new[] { k, k[(ApiKeyFormat.PrefixLength + ApiKeyFormat.KeyIdLength + 1)..^ApiKeyFormat.ChecksumLength], Convert.ToBase64String(Encoding.UTF8.GetBytes(k + ":")) }).ToList();
        var leaks = lines.Where(line => forms.Any(f => line.Contains(f, StringComparison.Ordinal))).ToList();
        var found = leaks.Count;
        Assert.True(found == 0, "keys in log lines:\n" + string.Join('\n', leaks.Select(l => forms.Aggregate(l, (text, f) => text.Replace(f, "<KEY>", StringComparison.Ordinal)))));
        // The search does see what is logged: the key's fingerprint is there (creation and deletion are logged).
        ApiKeyFormat.TryParse(entity, out var parsed);
        Assert.Contains(lines, l => l.Contains(parsed!.ToString(), StringComparison.Ordinal));

        // URLs: no request, redirect or link carries a key.
        var exchanges = _exchanges.ToList();
        foreach (var e in exchanges)
        {
            Assert.False(keys.Any(k => e.Url.ToString().Contains(k, StringComparison.Ordinal) || (e.Location ?? "").Contains(k, StringComparison.Ordinal)),
                $"a key in the URL or Location of {e.Method} {e.Url.AbsolutePath}");
            if (e.ContentType == "text/html")
            {
                var document = new AngleSharp.Html.Parser.HtmlParser().ParseDocument(e.Body);
                var urls = document.All.SelectMany(el => el.Attributes.Where(a => a.Name is "href" or "src" or "action" or "formaction" || a.Name.StartsWith("data-", StringComparison.Ordinal)).Select(a => a.Value));
                Assert.False(urls.Any(u => keys.Any(k => u.Contains(k, StringComparison.Ordinal))), $"a key in a link on {e.Url.AbsolutePath}");
            }
        }

        // Every response that shows a key is no-store.
        var showing = exchanges.Where(e => keys.Any(k => e.Body.Contains(k, StringComparison.Ordinal))).ToList();
        Assert.Equal(keys.Count, showing.Count);
        Assert.All(showing, e => Assert.Contains("no-store", e.CacheControl ?? "", StringComparison.Ordinal));
        output.WriteLine($"secrets: {lines.Count} log lines captured at Trace from every category, {keys.Count} keys searched in {forms.Count / keys.Count} forms each: " +
            $"{found} found; {exchanges.Count} exchanges checked: 0 keys in URLs, Location headers or links; {showing.Count} responses show a key, all Cache-Control: no-store");
    }
}
