using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;

namespace PleoKeys.Tests.Infrastructure;

/// <summary>
/// The built app (PleoKeys.Web.dll) running as its own process on 127.0.0.1, on PostgreSQL (what a load
/// balancer would have behind it) or on a SQLite file (what an operator command runs beside). Output is kept, not printed, and shown only when the app fails to start.
/// </summary>
public sealed class AppProcess : IAsyncDisposable
{
    public const string PortsVariable = "PLEOKEYS_TEST_PORTS";

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AppProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public Uri Url(string path) => new(BaseAddress, path);

    public static string WebDll =>
        typeof(AppProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "PleoKeysWebDll").Value!;

    /// <summary>
    /// Ports for <paramref name="count"/> instances: from PLEOKEYS_TEST_PORTS ("5131,5132") when set, otherwise
    /// ports the OS reports free just now.
    /// </summary>
    public static int[] Ports(int count)
    {
        if (Environment.GetEnvironmentVariable(PortsVariable) is { Length: > 0 } listed)
        {
            var ports = listed.Split(',').Select(p => int.Parse(p, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            return ports.Length >= count ? ports[..count] : throw new InvalidOperationException($"{PortsVariable} lists fewer than {count} ports.");
        }

        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var free = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return free;
    }

    /// <summary>Starts the app and waits until it answers (migrations and demo data are done by then).</summary>
    public static Task<AppProcess> StartAsync(int port, string postgres, IDictionary<string, string>? settings = null) =>
        StartAsync(port, Postgres(postgres), settings);

    /// <summary>Starts the app on a SQLite file (created and seeded when new) and waits until it answers.</summary>
    public static Task<AppProcess> StartOnSqliteAsync(int port, string databasePath, IDictionary<string, string>? settings = null) =>
        StartAsync(port, Sqlite(databasePath), settings);

    /// <summary>The settings that put the app on a PostgreSQL database.</summary>
    public static Dictionary<string, string> Postgres(string connectionString) => new()
    {
        ["Database__Provider"] = "Postgres",
        ["ConnectionStrings__Postgres"] = connectionString,
    };

    /// <summary>The settings that put the app on a SQLite file.</summary>
    public static Dictionary<string, string> Sqlite(string databasePath) => new()
    {
        ["Database__Provider"] = "Sqlite",
        ["ConnectionStrings__Sqlite"] = $"Data Source={databasePath}",
    };

    /// <summary>
    /// Runs the built app once with <paramref name="args"/> (an operator command) on the given database, as an
    /// operator would beside the running app; returns its exit code and everything it printed.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunCommandAsync(IDictionary<string, string> database, params string[] args)
    {
        var start = StartInfo(database, null);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private static ProcessStartInfo StartInfo(IDictionary<string, string> database, IDictionary<string, string>? settings)
    {
        var dll = WebDll;
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} does not exist; build src/PleoKeys.Web first (dotnet build builds it with the tests).");
        }

        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["PleoKeys__SeedDemoData"] = "true";
        start.Environment["PleoKeys__BCryptWorkFactor"] = "4";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        // The demo key's expiry reminder is written here rather than beside the build output.
        start.Environment["Email__PickupDirectory"] = Path.Combine(Path.GetTempPath(), $"pleokeys-test-mail-{Guid.NewGuid():N}");
        foreach (var (name, value) in database.Concat(settings ?? new Dictionary<string, string>()))
        {
            start.Environment[name] = value;
        }

        return start;
    }

    private static async Task<AppProcess> StartAsync(int port, IDictionary<string, string> database, IDictionary<string, string>? settings)
    {
        var url = new Uri($"http://127.0.0.1:{port}/");
        var start = StartInfo(database, settings);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(url.ToString().TrimEnd('/'));
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        var app = new AppProcess(process, url);
        process.OutputDataReceived += (_, e) => app.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => app.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await app.WaitUntilAnsweringAsync(TimeSpan.FromSeconds(120));
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return app;
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    private async Task WaitUntilAnsweringAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var until = Stopwatch.StartNew();
        while (until.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The app on {BaseAddress} exited with code {_process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await http.GetAsync(Url("/Account/Login"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Listening but still busy starting.
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"The app on {BaseAddress} did not answer within {timeout}:\n{Output}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
