using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using PleoKeys.Web.Api;
using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Bench.Hooks;

/// <summary>
/// Adds the benchmark's endpoints and timing around the app's own pipeline:
/// <list type="bullet">
/// <item><c>GET /bench/anonymous</c>: the baseline, the same answer as <c>GET /v1/installations/me</c> built by the
/// same code (<see cref="PleoApi.ToInstallation"/>, written by the same <c>TypedResults.Ok</c>) from a key in
/// memory, without authentication. It is an ordinary minimal API endpoint among the app's own (as it was when the
/// benchmark's targets were set), so it pays what an API request pays (forwarded headers, security headers, status
/// pages, static files, localization, routing and endpoint matching, authentication, authorization, rate limiting,
/// the endpoint's request delegate) except what a key adds: its verification, its scope policy, its rate limit and
/// its usage count.</item>
/// <item><c>GET /bench/stats</c>: BCrypt verifies and hashes (<see cref="CountingHasher"/>), bytes allocated, and the
/// GC's collections, heap size and committed bytes.</item>
/// <item>A <c>Server-Timing</c> header on page responses (not on the API or /bench, whose ratio it would blur): the
/// request's server time and the BCrypt hashing inside it, so key creation can be measured without BCrypt.</item>
/// </list>
/// </summary>
public sealed class BenchStartupFilter(BenchCounters counters) : IStartupFilter
{
    // Shaped like the benchmark's key: a company key with two scopes.
    private static readonly KeySnapshot AnonymousKey = new(Guid.NewGuid(), "BenchAnonym0", "", "0000", KeyEnvironment.Staging,
        PleoKeys.Web.Data.AccessLevel.Company, Guid.NewGuid(), Guid.NewGuid(), [Scopes.ExportJobsRead, Scopes.AccountsRead],
        DateTime.UtcNow, DateTime.UtcNow.AddDays(90), null, "UTC")
    {
        Name = "Benchmark",
    };

    /// <summary>Where <c>UseRouting</c> leaves the route builder it matches against (ASP.NET Core's own key).</summary>
    private const string EndpointRouteBuilderKey = "__EndpointRouteBuilder";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseWhen(c => !PleoApi.IsApiPath(c.Request.Path) && !c.Request.Path.StartsWithSegments("/bench"), b => b.Use(ServerTiming));
        next(app);
        // The app's endpoints are matched on the first request, so endpoints added now join them.
        var routes = app.Properties.TryGetValue(EndpointRouteBuilderKey, out var builder) && builder is IEndpointRouteBuilder r
            ? r
            : throw new InvalidOperationException("The benchmark hooks need the route builder of the app's UseRouting.");
        var bench = routes.MapGroup("/bench").AllowAnonymous().ExcludeFromDescription();
        bench.MapGet("/anonymous", () => TypedResults.Ok(PleoApi.ToInstallation(AnonymousKey)));
        bench.MapGet("/stats", Stats);
    };

    private Ok<BenchStats> Stats()
    {
        var gc = GC.GetGCMemoryInfo();
        return TypedResults.Ok(new BenchStats(counters.BCryptVerifies, counters.BCryptHashes, GC.GetTotalAllocatedBytes(precise: true),
            GC.CollectionCount(0), gc.HeapSizeBytes, gc.TotalCommittedBytes));
    }

    private static async Task ServerTiming(HttpContext context, RequestDelegate next)
    {
        var timing = new RequestTiming(Stopwatch.GetTimestamp());
        CountingHasher.Current.Value = timing;
        context.Response.OnStarting(() =>
        {
            var total = Stopwatch.GetElapsedTime(timing.Started).TotalMilliseconds;
            context.Response.Headers["Server-Timing"] = string.Create(CultureInfo.InvariantCulture,
                $"total;dur={total:0.###}, bcrypt;dur={timing.HashTime.TotalMilliseconds:0.###};desc=\"{timing.Hashes} hash(es)\"");
            return Task.CompletedTask;
        });
        await next(context);
    }

    /// <summary>The answer of <c>GET /bench/stats</c>.</summary>
    public sealed record BenchStats(long BCryptVerifies, long BCryptHashes, long AllocatedBytes, int Collections, long HeapSizeBytes, long CommittedBytes);
}
