using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using PleoKeys.Web.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PleoKeys.Tests.Infrastructure;

namespace PleoKeys.Tests.Security;

/// <summary>The app with client addresses chosen by the test (header <c>X-Test-Client</c>).</summary>
public class ClientAddressFactory : PleoKeysFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services => services.AddTransient<IStartupFilter, ClientAddressStartupFilter>());
    }

    /// <summary>A client (cookies kept, redirects not followed) whose requests come from <paramref name="address"/>.</summary>
    public HttpClient ClientFrom(string address)
    {
        var client = this.NewClient();
        client.DefaultRequestHeaders.Add(ClientAddressStartupFilter.Header, address);
        return client;
    }
}

/// <summary>Low brute-force limits, so a test can reach them in a few requests; password checks counted.</summary>
public sealed class LowLimitsFactory : ClientAddressFactory
{
    private int _passwordVerifications;

    /// <summary>How many password-hash verifications sign-in has run (each costs the same PBKDF2 time).</summary>
    public int PasswordVerifications => Volatile.Read(ref _passwordVerifications);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services => services.AddScoped<IPasswordHasher<AppUser>>(sp =>
            new CountingPasswordHasher(new PasswordHasher<AppUser>(sp.GetRequiredService<IOptions<PasswordHasherOptions>>()), this)));
    }

    private sealed class CountingPasswordHasher(IPasswordHasher<AppUser> inner, LowLimitsFactory owner) : IPasswordHasher<AppUser>
    {
        public string HashPassword(AppUser user, string password) => inner.HashPassword(user, password);

        public PasswordVerificationResult VerifyHashedPassword(AppUser user, string hashedPassword, string providedPassword)
        {
            Interlocked.Increment(ref owner._passwordVerifications);
            return inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
        }
    }

    public const int SignInsPerMinute = 10;
    public const int FailuresPerClient = 8;
    public const int FailuresPerKey = 4;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["PleoKeys:SignInAttemptsPerMinutePerClient"] = SignInsPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["PleoKeys:FailedAuthPerMinutePerClient"] = FailuresPerClient.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["PleoKeys:FailedAuthPerMinutePerKey"] = FailuresPerKey.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>Every log line the app writes, from every category at every level, kept for the test to search.</summary>
public sealed class LogCapturingFactory : PleoKeysFactory
{
    public LogCapture Logs { get; } = new();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Logging:LogLevel:Default"] = "Trace",
        ["Logging:LogLevel:Microsoft"] = "Trace",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
        ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Trace",
        ["Logging:LogLevel:Microsoft.EntityFrameworkCore.Database.Command"] = "Trace",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(logging => logging.ClearProviders().AddProvider(Logs));
    }
}

/// <summary>The app as it runs in production: Production environment, nothing seeded unless configured.</summary>
public sealed class ProductionFactory : PleoKeysFactory
{
    protected override string EnvironmentName => "Production";

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        // Behind a TLS-terminating server the HTTPS port is known; TestServer has none to discover.
        ["https_port"] = "443",
        // The address the tests' clients use; outside Development any other Host gets 400.
        ["PleoKeys:PublicBaseUrl"] = "https://pleokeys.example",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        // A store that fails, to see what an unhandled exception shows a caller in production.
        builder.ConfigureServices(services => services.AddSingleton<PleoKeys.Web.ApiKeys.IKeyStore, FailingKeyStore>());
    }

    public const string FailureText = "simulated database failure 7f3a";

    private sealed class FailingKeyStore : PleoKeys.Web.ApiKeys.IKeyStore
    {
        public Task<PleoKeys.Web.ApiKeys.KeySnapshot?> FindAsync(string keyId, CancellationToken ct) =>
            throw new InvalidOperationException(FailureText);

        public Task StoreDigestAsync(PleoKeys.Web.ApiKeys.KeySnapshot key, byte[] digest, string secretId) =>
            throw new InvalidOperationException(FailureText);
    }
}
