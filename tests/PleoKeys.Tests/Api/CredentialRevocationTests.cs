using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>
/// Issue 15, "Anyone can report a leaked key": POST /v1/credential-revocations revokes every valid key it is sent,
/// answers the same whatever was sent, is limited per client address, and leaves an audit row, an email and a banner.
/// </summary>
public sealed class CredentialRevocationTests(UsageFactory factory) : IClassFixture<UsageFactory>
{
    private const string Path = "/v1/credential-revocations";

    private static readonly string[] Junk = ["x"];

    private static readonly string[] NotAKey = ["pleo_test_not-a-key"];

    private static Task<HttpResponseMessage> ReportAsync(HttpClient client, string from, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Path) { Content = JsonContent.Create(body) };
        request.Headers.Add(ClientAddressStartupFilter.Header, from);
        return client.SendAsync(request);
    }

    /// <summary>Waits (real time) until the reported key is refused; the check runs after the answer.</summary>
    private async Task<HttpResponseMessage> RefusedAsync(string key)
    {
        var until = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var response = await factory.NewClient().CallFromAsync("127.0.0.1", "/v1/installations/me", key);
            if (response.StatusCode != HttpStatusCode.OK || DateTime.UtcNow > until)
            {
                return response;
            }

            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task ValidKey_IsRevokedAtOnce_Audited_AndItsAdminsAreTold()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Leaked");
        var key = await admin.CreateKeyAsync(name);
        var row = await factory.KeyRowAsync(key);
        await factory.NewClient().CallFromAsync("127.0.0.1", "/v1/installations/me", key).ExpectAsync(HttpStatusCode.OK);

        var response = await ReportAsync(factory.NewClient(), "203.0.113.80", new { credentials = new[] { key } });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var refused = await RefusedAsync(key);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("API key deleted", (await refused.ReadProblemAsync()).Title);

        var audit = await factory.WithDbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.ApiKeyId == row.Id && e.Action == AuditActions.KeyReportedExposed).ToListAsync());
        var only = Assert.Single(audit);
        Assert.Equal("revoked: reported as exposed", only.Detail);
        Assert.Equal("203.0.113.80", only.IpAddress);
        var stored = await factory.KeyRowAsync(key);
        Assert.NotNull(stored.DeletedAtUtc);
        Assert.NotNull(stored.ReportedExposedAtUtc);

        var details = await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}");
        Assert.Contains("someone reported it as exposed", details.QuerySelector("main").Text(), StringComparison.Ordinal);
        Assert.Empty(details.QuerySelectorAll("main .page-head form, main .page-head a.button"));
        Assert.NotNull(details.QuerySelectorAll(".history li").FirstOrDefault(li => li.Text().Contains("Revoked: reported as exposed (report from 203.0.113.80)", StringComparison.Ordinal)));
        var list = await admin.GetDocumentAsync("/Settings/ApiKeys");
        Assert.Contains(name, list.QuerySelector(".exposed-banner").Text(), StringComparison.Ordinal);

        var until = DateTime.UtcNow.AddSeconds(10);
        MimeKit.MimeMessage? email = null;
        while (email is null && DateTime.UtcNow < until)
        {
            foreach (var file in Directory.Exists(factory.MailFolder) ? Directory.GetFiles(factory.MailFolder, "exposed-key*.eml") : [])
            {
                var message = await MimeKit.MimeMessage.LoadAsync(file);
                if (message.Subject?.Contains(name, StringComparison.Ordinal) == true)
                {
                    email = message;
                }
            }

            await Task.Delay(50);
        }

        Assert.NotNull(email);
        Assert.Contains(email!.To.Mailboxes, m => m.Address == DemoData.Admin);
        Assert.DoesNotContain(key, email.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GarbageAndValidKeys_AreAnsweredIdentically()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName("Indistinguishable"));
        var client = factory.NewClient();

        var valid = await ReportAsync(client, "203.0.113.81", new { credentials = new[] { key } });
        var garbage = await ReportAsync(client, "203.0.113.81", new { credentials = NotAKey });
        var wrongSecret = await ReportAsync(client, "203.0.113.81", new { credentials = new[] { TestKeys.WithWrongSecret(key) } });

        foreach (var response in new[] { valid, garbage, wrongSecret })
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            Assert.Equal("""{"received":1}""", await response.Content.ReadAsStringAsync());
            Assert.Equal(valid.Content.Headers.ContentType?.ToString(), response.Content.Headers.ContentType?.ToString());
            Assert.Null(response.Headers.Location);
        }
    }

    [Fact]
    public async Task MoreThan100Strings_IsABadRequestNamingTheField()
    {
        var response = await ReportAsync(factory.NewClient(), "203.0.113.82", new { credentials = Enumerable.Repeat("x", 101).ToArray() });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("credentials", (await response.ReadProblemAsync()).Errors.Keys);
    }

    [Fact]
    public async Task Reports_AreLimitedPerClientAddress()
    {
        var client = factory.NewClient();
        var limit = new PleoKeys.Web.ApiKeys.PleoKeysOptions().CredentialRevocationsPerMinutePerClient;
        for (var i = 0; i < limit; i++)
        {
            await ReportAsync(client, "203.0.113.83", new { credentials = Junk }).ExpectAsync(HttpStatusCode.Accepted);
        }

        var limited = await ReportAsync(client, "203.0.113.83", new { credentials = Junk });

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.NotNull(limited.Headers.RetryAfter);
        Assert.Equal(429, (await limited.ReadProblemAsync()).Status);
        // Another address is not held back.
        await ReportAsync(client, "203.0.113.84", new { credentials = Junk }).ExpectAsync(HttpStatusCode.Accepted);
    }

    [Fact]
    public async Task TheEndpoint_IsInTheOpenApiDocument_WithoutAKey_AndOnTheApiReference()
    {
        var client = factory.NewClient();
        using var document = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json"));
        var operation = document.RootElement.GetProperty("paths").GetProperty(Path).GetProperty("post");
        Assert.False(operation.TryGetProperty("security", out var security) && security.GetArrayLength() > 0);

        var reference = await client.GetDocumentAsync("/api-reference");
        Assert.Contains(Path, reference.QuerySelector("main").Text(), StringComparison.Ordinal);
    }
}
