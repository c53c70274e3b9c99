using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Infrastructure;

// The test apps, each named for what it changes in PleoKeysFactory (as Identity.FunctionalTests names its
// servers). A test class that needs a change of its own keeps its factory beside it.

/// <summary>On a SQLite file whatever the suite's provider: for tests that read, lock or alter the file itself.</summary>
public class SqliteFileFactory : PleoKeysFactory
{
    public override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

/// <summary>Keys of the Production key environment: the badge, the prefix <c>pleo_live_</c>, keys valid only here.</summary>
public sealed class LiveKeysFactory : PleoKeysFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["PleoKeys:Environment"] = "Production" };
}

/// <summary>The host in the Production hosting environment: HSTS, HTTPS redirection, no demo data unless configured.</summary>
public class ProductionFactory : PleoKeysFactory
{
    protected override string EnvironmentName => "Production";

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        // Behind a TLS-terminating server the HTTPS port is known; TestServer has none to discover.
        ["https_port"] = "443",
        // The address the tests' clients use; outside Development any other Host gets 400.
        ["PleoKeys:PublicBaseUrl"] = "https://pleokeys.example",
    };
}

/// <summary>Production, with a key store that throws: what an unhandled exception shows a caller.</summary>
public sealed class FailingDatabaseFactory : ProductionFactory
{
    public const string FailureText = "simulated database failure 7f3a";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services => services.AddSingleton<IKeyStore, FailingKeyStore>());
    }

    private sealed class FailingKeyStore : IKeyStore
    {
        public Task<KeySnapshot?> FindAsync(string keyId, CancellationToken ct) => throw new InvalidOperationException(FailureText);

        public Task StoreDigestAsync(KeySnapshot key, byte[] digest, string secretId) => throw new InvalidOperationException(FailureText);
    }
}

/// <summary>
/// Client addresses chosen by the test (TestServer has none): the header <see cref="ClientAddressStartupFilter.Header"/>
/// becomes <c>Connection.RemoteIpAddress</c>.
/// </summary>
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

    /// <summary>A call to the API with the key as curl -u 'KEY:' sends it, from <paramref name="address"/>.</summary>
    public Task<HttpResponseMessage> ApiGetFromAsync(string address, string url, string key) => ClientFrom(address).ApiGetAsync(url, key);
}

/// <summary>Only test factories add this; the app has no such header.</summary>
public sealed class ClientAddressStartupFilter : IStartupFilter
{
    public const string Header = "X-Test-Client";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, nextMiddleware) =>
        {
            if (IPAddress.TryParse(context.Request.Headers[Header].ToString(), out var address))
            {
                context.Connection.RemoteIpAddress = address;
            }

            await nextMiddleware(context);
        });
        next(app);
    };
}

/// <summary>Low sign-in and failed-authentication budgets, so a test reaches them in a few requests; password checks counted.</summary>
public sealed class ThrottlingFactory : ClientAddressFactory
{
    public const int SignInsPerMinute = 10;
    public const int FailuresPerClient = 8;
    public const int FailuresPerKey = 4;

    private int _passwordVerifications;

    /// <summary>How many password-hash verifications sign-in has run (each costs the same PBKDF2 time).</summary>
    public int PasswordVerifications => Volatile.Read(ref _passwordVerifications);

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["PleoKeys:SignInAttemptsPerMinutePerClient"] = SignInsPerMinute.ToString(CultureInfo.InvariantCulture),
        ["PleoKeys:FailedAuthPerMinutePerClient"] = FailuresPerClient.ToString(CultureInfo.InvariantCulture),
        ["PleoKeys:FailedAuthPerMinutePerKey"] = FailuresPerKey.ToString(CultureInfo.InvariantCulture),
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services => services.AddScoped<IPasswordHasher<AppUser>>(sp =>
            new CountingPasswordHasher(new PasswordHasher<AppUser>(sp.GetRequiredService<IOptions<PasswordHasherOptions>>()), this)));
    }

    private sealed class CountingPasswordHasher(IPasswordHasher<AppUser> inner, ThrottlingFactory owner) : IPasswordHasher<AppUser>
    {
        public string HashPassword(AppUser user, string password) => inner.HashPassword(user, password);

        public PasswordVerificationResult VerifyHashedPassword(AppUser user, string hashedPassword, string providedPassword)
        {
            Interlocked.Increment(ref owner._passwordVerifications);
            return inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
        }
    }
}

/// <summary>A failed-authentication budget of two per client, and the tarpit on (one second, on the factory's fake clock).</summary>
public sealed class TarpitFactory : ClientAddressFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["PleoKeys:FailedAuthPerMinutePerClient"] = "2",
        ["PleoKeys:ThrottledResponseDelay"] = "00:00:01",
    };
}

/// <summary>
/// Keeps every log message the app writes, so a test can search them: every category at Trace, as the most verbose
/// configuration an operator could set (Logging:LogLevel); the app's own filters in code still apply.
/// </summary>
public class LoggingFactory : PleoKeysFactory
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
        // Only the capture: the console at Trace would drown the test output.
        builder.ConfigureLogging(logging => logging.ClearProviders().AddProvider(Logs));
    }
}

public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _messages = new();

    public IReadOnlyCollection<string> Messages => _messages;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _messages);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> messages) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            messages.Enqueue($"{category} scope: {state}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            // The message, every structured value, and the exception: wherever a secret could hide.
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            messages.Enqueue($"{category} {logLevel}: {formatter(state, exception)} {values} {exception}");
        }
    }
}

/// <summary>
/// LISTEN switched off (on PostgreSQL; SQLite has no notifications at all): polling alone carries changes made by
/// other instances.
/// </summary>
public sealed class PollingOnlyFactory : PleoKeysFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Database:ListenForKeyChanges"] = "false" };
}
