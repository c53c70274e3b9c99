using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace PleoKeys.Tests.Infrastructure;

/// <summary>What an RFC 9457 problem body says; traceId differs per request, so it is left out.</summary>
public sealed record Problem(int Status, string? Title, string? Detail, IReadOnlyDictionary<string, string[]> Errors);

/// <summary>Requests to the API as an integration sends them, and readers for its answers.</summary>
public static class ApiCalls
{
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
        client.ApiSendAsync(HttpMethod.Post, url, key, json);

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
