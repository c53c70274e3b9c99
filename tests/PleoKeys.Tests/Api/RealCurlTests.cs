using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>The app on a real Kestrel port (chosen by the OS), as an integrator's terminal reaches it.</summary>
public sealed class KestrelFactory : PleoKeysFactory
{
    public KestrelFactory() => UseKestrel(0);

    private string? _address;

    /// <summary>Starts the server once and answers its base address, such as http://127.0.0.1:40123.</summary>
    public string StartAndGetAddress()
    {
        if (_address is null)
        {
            StartServer();
            var addresses = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
            _address = addresses.First().TrimEnd('/');
        }

        return _address;
    }

    /// <summary>A browser on the real port: cookies kept, redirects shown, signed in through the real form.</summary>
    public async Task<HttpClient> SignedInBrowserAsync(string email)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true })
        {
            BaseAddress = new Uri(StartAndGetAddress()),
        };
        var page = await client.GetDocumentAsync("/Account/Login");
        var response = await client.SubmitAsync(page.Form(), ("Input.Email", email), ("Input.Password", DemoData.Password));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }
}

/// <summary>What the reveal tells a user to paste into a terminal works: the real curl, on a real port.</summary>
public sealed class RealCurlTests : IClassFixture<KestrelFactory>
{
    private const string Curl = "/usr/bin/curl";

    private readonly KestrelFactory _factory;

    public RealCurlTests(KestrelFactory factory) => _factory = factory;

    private static async Task<(int ExitCode, string Output)> RunCurlAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Curl) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }

    [Fact]
    public async Task CurlWithKeyAsUserName_GetsTheInstallation()
    {
        Assert.True(File.Exists(Curl), "curl is installed");
        var address = _factory.StartAndGetAddress();
        using var admin = await _factory.SignedInBrowserAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync("Terminal", scopes: [Scopes.VendorsRead]);

        // Exactly what the reveal shows: curl -u 'KEY:' <base URL>/v1/installations/me (plus -w for the status).
        var calledAt = _factory.Time.GetUtcNow().UtcDateTime;
        var (exit, output) = await RunCurlAsync("-sS", "-u", key + ":", "-w", "\n%{http_code}", address + "/v1/installations/me");

        Assert.Equal(0, exit);
        var lines = output.TrimEnd().Split('\n');
        Assert.Equal("200", lines[^1]);
        var json = JsonDocument.Parse(string.Join('\n', lines[..^1])).RootElement;
        Assert.Equal($"urn:pleo:company:{DemoData.NordicCoffeeApSId}", json.GetProperty("resource").GetString());
        Assert.Equal("ACTIVATED", json.GetProperty("status").GetString());
        Assert.Equal((await _factory.KeyRowAsync(key)).Id, json.GetProperty("id").GetGuid());
        Assert.DoesNotContain(key, output, StringComparison.Ordinal);

        // The call is recorded, at the recorder's next flush, with the loopback address it came from.
        var row = await _factory.FlushLastUsedAsync(key, calledAt);
        Assert.Equal("127.0.0.1", row.LastUsedIp);
    }

    [Fact]
    public async Task CurlListingVendors_WithAndWithoutTheScope()
    {
        var address = _factory.StartAndGetAddress();
        using var admin = await _factory.SignedInBrowserAsync(DemoData.Admin);
        var reader = await admin.CreateKeyAsync("Vendor reader", scopes: [Scopes.VendorsRead]);
        var other = await admin.CreateKeyAsync("Accounts reader", scopes: [Scopes.AccountsRead]);
        var url = $"{address}/v1/vendors?company_id={DemoData.NordicCoffeeApSId}";

        var (_, allowed) = await RunCurlAsync("-sS", "-u", reader + ":", "-w", "\n%{http_code}", url);
        var (_, refused) = await RunCurlAsync("-sS", "-u", other + ":", "-w", "\n%{http_code}", url);

        Assert.EndsWith("\n200", allowed, StringComparison.Ordinal);
        Assert.EndsWith("\n403", refused, StringComparison.Ordinal);
        Assert.Contains("This API key lacks the scope vendors:read.", refused, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HugeHeaderOnKestrel_IsRefusedByTheServerNotAnError()
    {
        var address = _factory.StartAndGetAddress();
        using var client = new HttpClient { BaseAddress = new Uri(address) };
        var request = new HttpRequestMessage(HttpMethod.Get, "/v1/installations/me");
        request.Headers.TryAddWithoutValidation("Authorization", "Basic " + new string('A', 100 * 1024));

        var response = await client.SendAsync(request);

        // Kestrel refuses headers over its 32 KB limit itself, before the app runs.
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
    }
}
