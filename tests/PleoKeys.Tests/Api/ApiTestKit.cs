using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>What an RFC 9457 problem body says; traceId differs per request, so it is left out.</summary>
public sealed record Problem(int Status, string? Title, string? Detail, IReadOnlyDictionary<string, string[]> Errors);

/// <summary>Requests to the API as an integration sends them, and readers for its answers.</summary>
public static class Api
{
    public static readonly HttpMethod Get = HttpMethod.Get;
    public static readonly HttpMethod Post = HttpMethod.Post;

    /// <summary>Sends a request with the given Authorization header value (null: none at all).</summary>
    public static Task<HttpResponseMessage> SendRawAsync(this HttpClient client, HttpMethod method, string url, string? authorization, object? json = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (authorization is not null)
        {
            // Without validation, so malformed values reach the server exactly as written.
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        if (json is not null)
        {
            request.Content = JsonContent.Create(json);
        }

        return client.SendAsync(request);
    }

    /// <summary>Sends a request with the key as curl -u 'KEY:' does.</summary>
    public static Task<HttpResponseMessage> ApiSendAsync(this HttpClient client, HttpMethod method, string url, string key, object? json = null) =>
        client.SendRawAsync(method, url, Clients.Basic(key).ToString(), json);

    public static Task<HttpResponseMessage> ApiPostAsync(this HttpClient client, string url, string key, object json) =>
        client.ApiSendAsync(Post, url, key, json);

    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Reads a problem details body, failing when the answer is not application/problem+json.</summary>
    public static async Task<Problem> ReadProblemAsync(this HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var root = await response.ReadJsonAsync();
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (root.TryGetProperty("errors", out var e))
        {
            foreach (var field in e.EnumerateObject())
            {
                errors[field.Name] = field.Value.EnumerateArray().Select(v => v.GetString() ?? "").ToArray();
            }
        }

        return new Problem(
            root.GetProperty("status").GetInt32(),
            root.TryGetProperty("title", out var t) ? t.GetString() : null,
            root.TryGetProperty("detail", out var d) ? d.GetString() : null,
            errors);
    }

    /// <summary>Asserts the status without ever putting a key into the failure message.</summary>
    public static async Task<HttpResponseMessage> ExpectAsync(this Task<HttpResponseMessage> sending, HttpStatusCode status)
    {
        var response = await sending;
        if (response.StatusCode != status)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.Fail($"Expected {(int)status}, got {(int)response.StatusCode}: {body[..Math.Min(body.Length, 600)]}");
        }

        return response;
    }

    public static string? Header(this HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values)
        : response.Content.Headers.TryGetValues(name, out var contentValues) ? string.Join(",", contentValues)
        : null;

    public static AuthenticationHeaderValue Bearer(string key) => new("Bearer", key);
}

/// <summary>Takes keys apart and makes near-misses of them.</summary>
public static class TestKeys
{
    public static string KeyIdOf(string key) => key.Substring(ApiKeyFormat.PrefixLength, ApiKeyFormat.KeyIdLength);

    public static int SecretStart => ApiKeyFormat.PrefixLength + ApiKeyFormat.KeyIdLength + 1;

    /// <summary>The key with the character at <paramref name="index"/> changed; the checksum is recomputed when asked.</summary>
    public static string WithCharChanged(string key, int index, bool fixChecksum)
    {
        var chars = key.ToCharArray();
        chars[index] = chars[index] switch
        {
            '_' => 'x',
            'z' => 'y',
            var c when char.IsAsciiLetterOrDigit(c) => c == '9' ? 'A' : c == 'Z' ? 'a' : (char)(c + 1),
            _ => 'a',
        };
        var changed = new string(chars);
        if (!fixChecksum || index >= ApiKeyFormat.Length - ApiKeyFormat.ChecksumLength)
        {
            return changed;
        }

        var body = changed[..^ApiKeyFormat.ChecksumLength];
        return body + ApiKeyFormat.Checksum(body);
    }

    /// <summary>Same key id, another secret, a correct checksum: only BCrypt can tell it is wrong.</summary>
    public static string WithWrongSecret(string key, int variant = 0) => WithCharChanged(key, SecretStart + variant, fixChecksum: true);

    /// <summary>A well-formed Staging key whose key id exists nowhere.</summary>
    public static string Unknown() => ApiKeyFormat.Generate(KeyEnvironment.Staging).Key;

    public static string WithBadChecksum(string key) => WithCharChanged(key, ApiKeyFormat.Length - 1, fixChecksum: false);

    /// <summary>Creates a key through the form with a custom expiration date and reads it from the reveal.</summary>
    public static async Task<string> CreateKeyExpiringOnAsync(this HttpClient client, DateOnly date, string name = "Dated key", string[]? scopes = null)
    {
        var date8601 = date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var response = await client.PostCreateFormAsync(name, "custom", scopes: scopes ?? [Scopes.VendorsRead], customDate: date8601);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var reveal = await client.GetDocumentAsync(response.Headers.Location!.ToString());
        return ((AngleSharp.Html.Dom.IHtmlInputElement)reveal.QuerySelector("#new-key")!).Value;
    }

    /// <summary>The company's date today (Copenhagen for Nordic Coffee ApS) on the factory's clock.</summary>
    public static DateOnly TodayIn(this PleoKeysFactory factory, string zoneId = "Europe/Copenhagen") =>
        DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(factory.Time.GetUtcNow().UtcDateTime, TimeZoneInfo.FindSystemTimeZoneById(zoneId)));

    public static Task<ApiKey> RowAsync(this PleoKeysFactory factory, string key)
    {
        var keyId = KeyIdOf(key);
        return factory.WithDbAsync(db => db.ApiKeys.AsNoTracking().SingleAsync(k => k.KeyId == keyId));
    }
}

/// <summary>
/// Lets a test choose the client address a request comes from (TestServer has none), with the
/// X-Test-Client-Address header. Only test factories add this; the app has no such header.
/// </summary>
public sealed class TestClientAddressStartupFilter : IStartupFilter
{
    public const string Header = "X-Test-Client-Address";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, nextMiddleware) =>
        {
            if (IPAddress.TryParse(context.Request.Headers[Header], out var address))
            {
                context.Connection.RemoteIpAddress = address;
            }

            await nextMiddleware(context);
        });
        next(app);
    };
}

/// <summary>The ordinary test app, plus a client address a test can set per request.</summary>
public class ClientAddressFactory : PleoKeysFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(s => s.AddSingleton<IStartupFilter, TestClientAddressStartupFilter>());
    }

    public static HttpRequestMessage From(string address, HttpMethod method, string url, string? authorization)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Add(TestClientAddressStartupFilter.Header, address);
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        return request;
    }
}

/// <summary>A Production deployment: its keys start with pleo_live_.</summary>
public sealed class ProductionFactory : PleoKeysFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["PleoKeys:Environment"] = "Production" };
}
