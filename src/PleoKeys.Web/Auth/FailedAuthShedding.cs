using System.Buffers;
using System.Diagnostics;
using System.Text;
using PleoKeys.Web.Api;
using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Web.Auth;

/// <summary>
/// Refuses an API request from a client address that has spent its failed-authentication budget, at the
/// start of the pipeline, unless its credential is a key this process has verified. The answer is the
/// one the authentication handler would give (429, <c>Retry-After</c>, the same problem details), but
/// given before routing, authentication, authorization and the problem-details writer, so refusing a
/// flood costs little. A client that was guessing secrets of real keys (<see cref="KeyVerifier.IsProbing"/>)
/// gets its refusal after <see cref="PleoKeysOptions.ThrottledResponseDelay"/> (a tarpit): while it waits
/// its connection sends nothing, so its flood cannot take the server's time from valid clients. At most
/// <see cref="MaxWaiting"/> refusals wait at once.
/// </summary>
public static class FailedAuthShedding
{
    public const string Title = "Too many failed attempts";
    public const string Detail = "Too many failed authentication attempts. Wait before trying again, and check that the key is copied correctly.";

    private static readonly byte[] BodyStart = Encoding.UTF8.GetBytes(
        "{\"type\":\"https://tools.ietf.org/html/rfc6585#section-4\",\"title\":\"" + Title + "\",\"status\":429,\"detail\":\"" + Detail + "\",\"traceId\":\"");

    private static readonly byte[] BodyEnd = Encoding.UTF8.GetBytes("\"}");

    /// <summary>Beyond this many waiting answers, a refusal is given at once.</summary>
    public const int MaxWaiting = 10_000;

    private static int _waiting;

    public static IApplicationBuilder UseFailedAuthShedding(this IApplicationBuilder app)
    {
        var verifier = app.ApplicationServices.GetRequiredService<KeyVerifier>();
        var time = app.ApplicationServices.GetRequiredService<TimeProvider>();
        var delay = app.ApplicationServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<PleoKeysOptions>>().Value.ThrottledResponseDelay;
        return app.Use((context, next) =>
        {
            string? header = context.Request.Headers.Authorization;
            // A verified key on its connection's header string passes first, so valid traffic never reads a budget.
            if (string.IsNullOrEmpty(header) || !PleoApi.IsApiPath(context.Request.Path) || verifier.TryVerifyCachedCredential(header, out _))
            {
                return next(context);
            }

            var client = context.Connection.RemoteIpAddress?.ToString();
            if (!verifier.IsClientThrottled(client) || CarriesVerifiedKey(verifier, header))
            {
                return next(context);
            }

            return delay > TimeSpan.Zero && verifier.IsProbing(client) ? RefuseLaterAsync(context, delay, time) : RefuseAsync(context);
        });
    }

    private static bool CarriesVerifiedKey(KeyVerifier verifier, string header)
    {
        Span<char> key = stackalloc char[ApiKeyFormat.Length];
        return verifier.IsVerifiedKey(header, ApiKeyAuthenticationHandler.TryReadPlainKey(header, key) ? key : default);
    }

    private static async Task RefuseLaterAsync(HttpContext context, TimeSpan delay, TimeProvider time)
    {
        if (Interlocked.Increment(ref _waiting) <= MaxWaiting)
        {
            try
            {
                await Task.Delay(delay, time, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // The client gave up waiting; there is no one to answer.
                return;
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }
        else
        {
            Interlocked.Decrement(ref _waiting);
        }

        await RefuseAsync(context);
    }

    private static Task RefuseAsync(HttpContext context)
    {
        var traceId = Encoding.UTF8.GetBytes(Activity.Current?.Id ?? context.TraceIdentifier);
        var response = context.Response;
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.Headers.RetryAfter = "60";
        response.ContentType = "application/problem+json";
        response.ContentLength = BodyStart.Length + traceId.Length + BodyEnd.Length;
        var writer = response.BodyWriter;
        writer.Write(BodyStart.AsSpan());
        writer.Write(traceId.AsSpan());
        writer.Write(BodyEnd.AsSpan());
        var flushing = writer.FlushAsync();
        return flushing.IsCompletedSuccessfully ? Task.CompletedTask : flushing.AsTask();
    }
}
