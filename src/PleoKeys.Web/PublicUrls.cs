using Microsoft.AspNetCore.HostFiltering;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Web;

/// <summary>
/// Every absolute URL the app prints (the reveal's curl command, the OpenAPI document's server, emails) starts
/// with <c>PleoKeys:PublicBaseUrl</c>, never with the request's Host header, which the client writes: a forged
/// Host must not turn a ready-to-paste command into one that sends a new key elsewhere. Unset, it is the first
/// address the server listens on (the Development default; Production logs a warning at start).
/// </summary>
public sealed class PublicUrls(IOptions<PleoKeysOptions> options, IServer server)
{
    /// <summary>The base URL without a trailing slash, such as <c>https://keys.example.com</c>.</summary>
    public string BaseUrl
    {
        get
        {
            if (field is not null)
            {
                return field;
            }

            var url = Resolve(out var final);
            if (final)
            {
                field = url;
            }

            return url;
        }
    }

    /// <summary>An absolute URL for a path of this app, such as <c>/v1/installations/me</c>.</summary>
    public string For(string path) => BaseUrl + (path.StartsWith('/') ? path : "/" + path);

    /// <summary>The base URL; <paramref name="final"/> false while the server has not said where it listens yet.</summary>
    private string Resolve(out bool final)
    {
        final = true;
        if (options.Value.PublicBaseUrl is { Length: > 0 } configured)
        {
            return configured.TrimEnd('/');
        }

        // Kestrel reports what it bound (http://127.0.0.1:5080, http://[::]:5080); a wildcard becomes localhost.
        // The test server reports nothing, and is http://localhost to its clients.
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses;
        var address = addresses?.FirstOrDefault();
        final = addresses is null || address is not null;
        if (address is null || !Uri.TryCreate(address.Replace("://+", "://localhost", StringComparison.Ordinal)
                .Replace("://*", "://localhost", StringComparison.Ordinal), UriKind.Absolute, out var uri))
        {
            return "http://localhost";
        }

        var host = uri.Host is "0.0.0.0" or "[::]" or "::" ? "localhost" : uri.Host;
        return new UriBuilder(uri.Scheme, host, uri.Port).Uri.GetLeftPart(UriPartial.Authority);
    }

    /// <summary>
    /// Checks <c>PleoKeys:PublicBaseUrl</c> at start: an absolute http(s) URL with no path, query or fragment.
    /// </summary>
    public static string? Validate(string? publicBaseUrl)
    {
        if (string.IsNullOrEmpty(publicBaseUrl))
        {
            return null;
        }

        return Uri.TryCreate(publicBaseUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.Fragment.Length == 0 && uri.UserInfo.Length == 0
            ? null
            : $"{PleoKeysOptions.Section}:PublicBaseUrl must be an absolute http or https URL with no path, such as https://keys.example.com; it is '{publicBaseUrl}'.";
    }

    /// <summary>
    /// The hosts a request outside Development may name when <c>AllowedHosts</c> is not configured: the host of
    /// <c>PleoKeys:PublicBaseUrl</c>, and the loopback names (health checks on the machine itself). Any
    /// other Host gets 400 from the framework's host filtering.
    /// </summary>
    public static void DefaultAllowedHosts(HostFilteringOptions filtering, IConfiguration configuration, IHostEnvironment environment)
    {
        if (!string.IsNullOrEmpty(configuration["AllowedHosts"]) || environment.IsDevelopment())
        {
            return;
        }

        List<string> hosts = ["localhost", "127.0.0.1", "[::1]"];
        if (Uri.TryCreate(configuration[$"{PleoKeysOptions.Section}:PublicBaseUrl"], UriKind.Absolute, out var uri))
        {
            hosts.Add(uri.Host);
        }

        filtering.AllowedHosts = hosts;
    }
}

/// <summary>Refuses to start with a <c>PleoKeys:PublicBaseUrl</c> that is not an absolute http(s) base URL, naming the setting.</summary>
public sealed class PublicBaseUrlValidation : IValidateOptions<PleoKeysOptions>
{
    public ValidateOptionsResult Validate(string? name, PleoKeysOptions options) =>
        PublicUrls.Validate(options.PublicBaseUrl) is { } error ? ValidateOptionsResult.Fail(error) : ValidateOptionsResult.Success;
}
