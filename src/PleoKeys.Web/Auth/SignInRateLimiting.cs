using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Web.Auth;

/// <summary>
/// Sign-in attempts per client address per minute, on top of Identity's per-account lockout: lockout
/// stops guessing one account's password, this stops one client trying a password on many accounts.
/// </summary>
public static class SignInRateLimiting
{
    public const string Policy = "sign-in";

    public static IServiceCollection AddSignInRateLimiting(this IServiceCollection services) =>
        services.AddRateLimiter(o => o.AddPolicy<string, SignInRateLimitPolicy>(Policy));
}

public sealed class SignInRateLimitPolicy(IOptions<PleoKeysOptions> options) : IRateLimiterPolicy<string>
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    // The answer is the 429 status page ("wait a minute and try again"), re-executed by the status code pages.
    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => (ctx, _) =>
    {
        var retry = ctx.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : Window;
        ctx.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        ctx.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return ValueTask.CompletedTask;
    };

    // Only the POST counts; showing the sign-in page is free.
    public RateLimitPartition<string> GetPartition(HttpContext httpContext) =>
        HttpMethods.IsPost(httpContext.Request.Method)
            ? RateLimitPartition.GetFixedWindowLimiter(
                ClientPartition.Of(httpContext.Connection.RemoteIpAddress),
                _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = Math.Max(1, options.Value.SignInAttemptsPerMinutePerClient),
                    Window = Window,
                    QueueLimit = 0,
                })
            : RateLimitPartition.GetNoLimiter("-");
}
