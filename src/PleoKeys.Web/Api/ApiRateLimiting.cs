using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Auth;

namespace PleoKeys.Web.Api;

/// <summary>
/// Per-key request limit (600 a minute by default) through the ASP.NET Core rate limiter, and the
/// RateLimit-Limit / RateLimit-Remaining / RateLimit-Reset headers that tell a client what is left.
/// The limit is per app instance.
/// </summary>
public static class ApiRateLimiting
{
    public const string PerKeyPolicy = "per-key";

    public static IServiceCollection AddApiRateLimiting(this IServiceCollection services)
    {
        services.AddSingleton<PerKeyLimiters>();
        services.AddRateLimiter(o =>
        {
            o.AddPolicy<string, PerKeyRateLimitPolicy>(PerKeyPolicy);
        });
        return services;
    }

    /// <summary>
    /// Adds the RateLimit-* headers to every API response that has a key behind it. Runs after the rate
    /// limiter let the request in, so the headers count this request; a refused request gets them from
    /// <see cref="PerKeyRateLimitPolicy.OnRejected"/>.
    /// </summary>
    public static IApplicationBuilder UseRateLimitHeaders(this IApplicationBuilder app)
    {
        var limiters = app.ApplicationServices.GetRequiredService<PerKeyLimiters>();
        return app.Use((context, next) =>
        {
            if (ApiKeyFeature.Find(context) is { } key)
            {
                limiters.WriteHeaders(key.KeyId, context.Response.Headers);
            }

            return next(context);
        });
    }
}

/// <summary>The limiters by key id, kept where the header middleware can read their statistics.</summary>
public sealed class PerKeyLimiters(IOptions<PleoKeysOptions> options, TimeProvider time)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, (FixedWindowRateLimiter Limiter, long Started)> _limiters = new(StringComparer.Ordinal);

    /// <summary>Remaining counts and reset seconds as text, made once (up to the limit, at most 1,000), so a response formats none.</summary>
    private string[]? _numbers;
    private string? _limitText;

    private string Text(long n)
    {
        var numbers = _numbers ??= [.. Enumerable.Range(0, Math.Min(Math.Max(Limit, 60), 1_000) + 1).Select(i => i.ToString(CultureInfo.InvariantCulture))];
        return n >= 0 && n < numbers.Length ? numbers[n] : n.ToString(CultureInfo.InvariantCulture);
    }

    public int Limit => Math.Max(1, options.Value.RequestsPerMinute);

    /// <summary>Writes RateLimit-Limit, -Remaining and -Reset for the key, when it has a limiter.</summary>
    public void WriteHeaders(string keyId, IHeaderDictionary headers)
    {
        if (Describe(keyId) is not { } limit)
        {
            return;
        }

        headers["RateLimit-Limit"] = _limitText ??= limit.Limit.ToString(CultureInfo.InvariantCulture);
        headers["RateLimit-Remaining"] = Text(limit.Remaining);
        headers["RateLimit-Reset"] = Text(limit.ResetSeconds);
    }

    /// <summary>Called by the rate limiter middleware when it has no live limiter for the key.</summary>
    public FixedWindowRateLimiter Create(string keyId)
    {
        var limiter = new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions { PermitLimit = Limit, Window = Window, QueueLimit = 0 });
        _limiters[keyId] = (limiter, time.GetTimestamp());
        return limiter;
    }

    public (int Limit, long Remaining, int ResetSeconds)? Describe(string keyId)
    {
        if (!_limiters.TryGetValue(keyId, out var entry))
        {
            return null;
        }

        long remaining;
        try
        {
            remaining = entry.Limiter.GetStatistics()?.CurrentAvailablePermits ?? Limit;
        }
        catch (ObjectDisposedException)
        {
            remaining = Limit;
        }

        var elapsed = time.GetElapsedTime(entry.Started);
        var reset = Window - TimeSpan.FromTicks(elapsed.Ticks % Window.Ticks);
        return (Limit, remaining, (int)Math.Ceiling(reset.TotalSeconds));
    }
}

public sealed class PerKeyRateLimitPolicy(PerKeyLimiters limiters) : IRateLimiterPolicy<string>
{
    private readonly Func<string, RateLimiter> _create = limiters.Create;

    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => async (ctx, _) =>
    {
        var retry = ctx.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(60);
        if (ApiKeyFeature.KeyIdOf(ctx.HttpContext) is { } keyId)
        {
            limiters.WriteHeaders(keyId, ctx.HttpContext.Response.Headers);
        }

        ctx.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        await ApiKeyAuthenticationHandler.WriteProblemAsync(ctx.HttpContext, StatusCodes.Status429TooManyRequests, "Rate limit exceeded",
            $"This API key made more than {limiters.Limit} requests in a minute. Wait {Math.Ceiling(retry.TotalSeconds)} seconds and slow down.");
    };

    public RateLimitPartition<string> GetPartition(HttpContext httpContext)
    {
        var keyId = ApiKeyFeature.KeyIdOf(httpContext);
        return keyId is null
            ? RateLimitPartition.GetNoLimiter("anonymous")
            : RateLimitPartition.Get(keyId, _create);
    }
}
