using System.Diagnostics;
using System.Globalization;
using PleoKeys.Web.Api;
using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Web.Benchmarking;

/// <summary>
/// What <c>bench/run.sh</c> needs from inside the app. All of it exists only when
/// <c>PleoKeys:Benchmark:Enabled</c> is true, which no appsettings file sets:
/// <list type="bullet">
/// <item><c>GET /bench/anonymous</c>: the baseline, the same installation answer as <c>GET /v1/installations/me</c>
/// built by the same code from an in-memory key, without authentication.</item>
/// <item><c>GET /bench/stats</c>: the verifier's BCrypt count, so the benchmark can prove single flight, and the
/// bytes the process has allocated, so it can show allocations per request.</item>
/// <item>A <c>Server-Timing</c> header on page responses (not on the API, whose ratio it would blur) with the
/// request's server time and the BCrypt hashing inside it, so key creation can be measured without BCrypt.</item>
/// </list>
/// </summary>
public static class Benchmark
{
    public const string EnabledSetting = "PleoKeys:Benchmark:Enabled";

    public static bool IsEnabled(IConfiguration configuration) => configuration.GetValue<bool>(EnabledSetting);

    /// <summary>Times BCrypt hashing per request by wrapping the registered hasher.</summary>
    public static IServiceCollection AddBenchmarkSupport(this IServiceCollection services)
    {
        var registered = services.Last(d => d.ServiceType == typeof(IKeySecretHasher));
        services.Remove(registered);
        services.AddSingleton<IKeySecretHasher>(sp => new TimedHasher(
            registered.ImplementationInstance as IKeySecretHasher
            ?? (IKeySecretHasher)registered.ImplementationFactory!(sp)));
        return services;
    }

    public static IApplicationBuilder UseServerTiming(this IApplicationBuilder app) =>
        app.UseWhen(c => !PleoApi.IsApiPath(c.Request.Path), b => b.Use(async (context, next) =>
        {
            var timing = new RequestTiming(Stopwatch.GetTimestamp());
            TimedHasher.Current.Value = timing;
            context.Response.OnStarting(() =>
            {
                var total = Stopwatch.GetElapsedTime(timing.Started).TotalMilliseconds;
                context.Response.Headers["Server-Timing"] = string.Create(CultureInfo.InvariantCulture,
                    $"total;dur={total:0.###}, bcrypt;dur={timing.HashMilliseconds:0.###};desc=\"{timing.Hashes} hash(es)\"");
                return Task.CompletedTask;
            });
            await next(context);
        }));

    public static IEndpointRouteBuilder MapBenchmarkEndpoints(this IEndpointRouteBuilder app)
    {
        // Shaped like the benchmark's key: an entity key with two scopes.
        var key = new KeySnapshot(Guid.NewGuid(), "BenchAnonym0", "", "0000", KeyEnvironment.Staging, Data.AccessLevel.Company,
            Guid.NewGuid(), Guid.NewGuid(), [Scopes.ExportJobsRead, Scopes.AccountsRead], DateTime.UtcNow, DateTime.UtcNow.AddDays(90), null, "UTC")
        {
            Name = "Benchmark",
        };

        var bench = app.MapGroup("/bench").AllowAnonymous().ExcludeFromDescription();
        bench.MapGet("/anonymous", () => TypedResults.Ok(PleoApi.ToInstallation(key)));
        bench.MapGet("/stats", () =>
        {
            var gc = GC.GetGCMemoryInfo();
            return TypedResults.Ok(new BenchmarkStats(-1, GC.GetTotalAllocatedBytes(precise: true), GC.CollectionCount(0),
                gc.HeapSizeBytes, gc.TotalCommittedBytes));
        });
        return app;
    }

    public sealed record BenchmarkStats(long BCryptVerifies, long AllocatedBytes, int Collections, long HeapSizeBytes, long CommittedBytes);

    private sealed class RequestTiming(long started)
    {
        public long Started { get; } = started;
        public int Hashes { get; set; }
        public double HashMilliseconds { get; set; }
    }

    private sealed class TimedHasher(IKeySecretHasher inner) : IKeySecretHasher
    {
        public static readonly AsyncLocal<RequestTiming?> Current = new();

        public string Hash(string key)
        {
            var started = Stopwatch.GetTimestamp();
            var hash = inner.Hash(key);
            if (Current.Value is { } timing)
            {
                timing.Hashes++;
                timing.HashMilliseconds += Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            return hash;
        }

        public bool Verify(string key, string hash) => inner.Verify(key, hash);
    }
}
