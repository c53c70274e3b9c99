using System.Security.Cryptography;

namespace PleoKeys.Web;

public static class SecurityHeaders
{
    private const string NonceKey = "csp-style-nonce";

    /// <summary>
    /// Headers every response carries. No inline script anywhere, so the CSP forbids it.
    /// https://owasp.org/www-project-secure-headers/
    /// </summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                // The API reference (Scalar) injects its styles at run time; it gets a per-request nonce for
                // styles only, and only on that page.
                var styles = context.Items[NonceKey] is string nonce ? $"'self' 'nonce-{nonce}'" : "'self'";
                headers.ContentSecurityPolicy =
                    $"default-src 'self'; script-src 'self'; style-src {styles}; img-src 'self' data:; font-src 'self'; " +
                    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                headers["Cross-Origin-Opener-Policy"] = "same-origin";
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), clipboard-write=(self)";
                return Task.CompletedTask;
            });
            await next(context);
        });

    /// <summary>A nonce that lets this response's own injected styles through the CSP.</summary>
    public static string StyleNonce(this HttpContext context)
    {
        if (context.Items[NonceKey] is not string nonce)
        {
            nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            context.Items[NonceKey] = nonce;
        }

        return nonce;
    }
}
