using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace PleoKeys.BrowserTests.Infrastructure;

/// <summary>
/// The real app on a real Kestrel port (chosen by the OS) with its own SQLite file and the demo data,
/// so a real browser can reach it. Real time: the browser, the cookies and the app share one clock.
/// </summary>
public sealed class BrowserAppFactory : WebApplicationFactory<Program>
{
    private readonly string _dbPath = Path.Combine(Path.GetTempPath(), $"pleokeys-browser-{Guid.NewGuid():N}.db");
    private readonly string _secretsPath = Path.Combine(Path.GetTempPath(), $"pleokeys-browser-secrets-{Guid.NewGuid():N}");

    public BrowserAppFactory() => UseKestrel(0);

    /// <summary>Where Kestrel listens, for example http://127.0.0.1:41234 (valid after <see cref="WebApplicationFactory{T}.StartServer"/>).</summary>
    public Uri ServerAddress =>
        new(Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        // UseSetting, not ConfigureAppConfiguration: Program reads the connection string while it
        // registers services, before configuration added by ConfigureAppConfiguration is applied.
        builder.UseSetting("ConnectionStrings:Sqlite", $"Data Source={_dbPath}");
        // The key ring's certificate is made on first run; in a temp folder, not in the source tree.
        builder.UseSetting("PleoKeys:SecretsPath", _secretsPath);
        builder.UseSetting("PleoKeys:SeedDemoData", "true");
        builder.UseSetting("PleoKeys:Environment", "Staging");
        // The lowest BCrypt cost keeps key creation and the first API call quick; the format is the same.
        builder.UseSetting("PleoKeys:BCryptWorkFactor", "4");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        // The test suite's pseudo-language (40 % longer texts), for the browser contexts that ask for it.
        builder.ConfigureTestServices(PseudoLocalization.Register);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(_dbPath + suffix);
        }

        if (Directory.Exists(_secretsPath))
        {
            Directory.Delete(_secretsPath, recursive: true);
        }
    }
}
