using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PleoKeys.Bench.Hooks;
using PleoKeys.Web.ApiKeys;

[assembly: HostingStartup(typeof(BenchHooks))]

namespace PleoKeys.Bench.Hooks;

/// <summary>
/// What <c>bench/run.sh</c> needs from inside the app, added to the unchanged product at start by the framework's
/// hosting startup mechanism: the benchmark sets <c>ASPNETCORE_HOSTINGSTARTUPASSEMBLIES=PleoKeys.Bench.Hooks</c>
/// and <c>DOTNET_ADDITIONAL_DEPS</c> to this assembly's deps file, and nothing else ever loads it
/// (https://learn.microsoft.com/aspnet/core/fundamentals/host/platform-specific-configuration).
/// <list type="bullet">
/// <item>A counting <see cref="IKeySecretHasher"/> (BCrypt verifies and hashes), so the benchmark can prove how often
/// BCrypt ran, and time the hashing inside a page request.</item>
/// <item>Through <see cref="BenchStartupFilter"/>: <c>GET /bench/anonymous</c>, <c>GET /bench/stats</c> and a
/// <c>Server-Timing</c> header on page responses.</item>
/// </list>
/// </summary>
public sealed class BenchHooks : IHostingStartup
{
    public void Configure(IWebHostBuilder builder) => builder.ConfigureServices(services =>
    {
        // Hosting startups run inside WebApplication.CreateBuilder, before Program.cs registers anything, so
        // this cannot wrap the app's hasher after the fact; the app registers its own with TryAdd, and this one,
        // registered first, takes its place with the same BCrypt hasher inside.
        services.AddSingleton<BenchCounters>();
        services.AddSingleton<IKeySecretHasher>(sp => new CountingHasher(
            new BCryptKeySecretHasher(sp.GetRequiredService<IOptions<PleoKeysOptions>>().Value.BCryptWorkFactor),
            sp.GetRequiredService<BenchCounters>()));
        services.AddSingleton<IStartupFilter, BenchStartupFilter>();
    });
}
