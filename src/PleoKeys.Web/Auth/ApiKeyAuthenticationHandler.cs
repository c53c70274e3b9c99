using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Web.Auth;

public static class ApiKeyDefaults
{
    public const string Scheme = "ApiKey";
    public const string Realm = "Pleo API";
    public const string ScopeClaim = "scope";
    public const string KeyIdClaim = "key_id";
    public const string AccessLevelClaim = "access_level";
    public const string CompanyClaim = "company_id";
    public const string OrganisationClaim = "organisation_id";
    public const string ExpiresHeader = "Pleo-Api-Key-Expires";

    /// <summary>A rolled key in its grace period: when it was rolled, as <c>@unix-seconds</c> (RFC 9745).</summary>
    public const string DeprecationHeader = "Deprecation";

    /// <summary>A rolled key in its grace period: when its secret stops, as an HTTP-date (RFC 8594).</summary>
    public const string SunsetHeader = "Sunset";
}

/// <summary>The stored key behind an API request, kept as a request feature by <see cref="ApiKeyAuthenticationHandler"/>.</summary>
public static class ApiKeyFeature
{
    private sealed record Presented(KeySnapshot Key, bool Authenticated);

    public static KeySnapshot Of(HttpContext context) =>
        Find(context) ?? throw new InvalidOperationException("No API key authenticated this request.");

    /// <summary>The key that authenticated the request, if one did.</summary>
    public static KeySnapshot? Find(HttpContext context) => context.Features.Get<Presented>() is { Authenticated: true } p ? p.Key : null;

    /// <summary>The stored key the request presented (its key id names one), whether or not it was let in.</summary>
    public static KeySnapshot? FindPresented(HttpContext context) => context.Features.Get<Presented>()?.Key;

    public static string? KeyIdOf(HttpContext context) => Find(context)?.KeyId;

    internal static void Set(HttpContext context, KeySnapshot key, bool authenticated) => context.Features.Set(new Presented(key, authenticated));
}

/// <summary>Options of the API key scheme (the framework's; the key rules are in <see cref="PleoKeysOptions"/>).</summary>
public sealed class ApiKeyAuthenticationOptions : AuthenticationSchemeOptions;

public static class ApiKeyAuthenticationExtensions
{
    /// <summary>Registers the API key scheme (<see cref="ApiKeyDefaults.Scheme"/>) and what verifying keys needs.</summary>
    public static AuthenticationBuilder AddApiKeyAuthentication(this AuthenticationBuilder builder, Action<ApiKeyAuthenticationOptions>? configure = null)
    {
        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IKeyStore, EfKeyStore>();
        services.TryAddSingleton(sp => KeyDigests.Load(sp.GetRequiredService<IOptions<PleoKeysOptions>>().Value, sp.GetRequiredService<IHostEnvironment>()));
        services.TryAddSingleton<BCryptGate>();
        services.TryAddSingleton<KeyCache>();
        services.TryAddSingleton<KeyVerifier>();
        services.TryAddSingleton<FailureBudgets>();
        services.TryAddSingleton<AuthFailureAudit>();
        services.TryAddSingleton<LastUsedRecorder>();
        services.AddHostedService(sp => sp.GetRequiredService<LastUsedRecorder>());
        return builder.AddScheme<ApiKeyAuthenticationOptions, ApiKeyAuthenticationHandler>(ApiKeyDefaults.Scheme, configure);
    }
}

/// <summary>
/// Authenticates Pleo-style API calls, shaped like the framework's <c>BearerTokenHandler</c>: no credentials is
/// no result; a key is read (<see cref="ApiKeyCredentials"/>), verified (<see cref="KeyVerifier"/>) and, when
/// good, becomes a fresh principal with the key's scopes as <c>scope</c> claims; anything else fails, and the
/// challenge says why as problem details (401, or 429 for a client over its failure budget).
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<ApiKeyAuthenticationOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    KeyVerifier verifier,
    FailureBudgets budgets,
    AuthFailureAudit failureAudit,
    IOptions<PleoKeysOptions> pleoOptions)
    : AuthenticationHandler<ApiKeyAuthenticationOptions>(options, logger, encoder)
{
    public const string ThrottledTitle = "Too many failed attempts";
    public const string ThrottledDetail = "Too many failed authentication attempts. Wait before trying again, and check that the key is copied correctly.";

    /// <summary>Beyond this many refusals waiting in the tarpit at once, a refusal is given at once.</summary>
    public const int MaxWaiting = 10_000;

    private static int _waiting;
    private Problem? _problem;
    private string? _client;

    /// <summary>The failure budget's partition of the caller's address, worked out only when a budget is consulted.</summary>
    private string Client => _client ??= ClientPartition.Of(Context.Connection.RemoteIpAddress);

    private sealed record Problem(int Status, string Title, string Detail, TimeSpan? RetryAfter = null);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return AuthenticateResult.NoResult();
        }

        var readable = ApiKeyCredentials.TryRead(header, out var presented, out var why);
        if (budgets.FailedRecently && budgets.IsSpent(Client)
            && !(readable && await verifier.IsKnownKeyAsync(presented, () => budgets.TryLookUpWhileSpent(Client), Context.RequestAborted)))
        {
            return await ThrottledAsync(Client, FailureBudgets.Window);
        }

        if (!readable)
        {
            return Failed(Client, new Problem(401, "Invalid credentials", why));
        }

        var result = await verifier.VerifyAsync(presented, Context.RequestAborted);
        if (result.Key is { } key)
        {
            ApiKeyFeature.Set(Context, key, result.Succeeded);
        }

        if (result.Succeeded)
        {
            return Success(result.Key!);
        }

        if (result is { Outcome: VerifyOutcome.UnknownOrWrongSecret, Key: { } guessed })
        {
            // A wrong secret for a key that exists: someone guessing at it. It costs the guesser, never the key.
            budgets.MarkGuessing(Client);
            if (budgets.CountAgainstKey(guessed.KeyId))
            {
                // Written in the background: a busy database must not hold the answer.
                _ = failureAudit.RecordBurstAsync(guessed, Context.Connection.RemoteIpAddress?.ToString());
            }
        }

        return Failed(Client, ProblemFor(result));
    }

    private AuthenticateResult Success(KeySnapshot key)
    {
        var texts = KeyTexts.Of(key);
        Response.Headers[ApiKeyDefaults.ExpiresHeader] = texts.Expires;
        if (texts.Deprecation is { } deprecation)
        {
            Response.Headers[ApiKeyDefaults.DeprecationHeader] = deprecation;
            Response.Headers[ApiKeyDefaults.SunsetHeader] = texts.Sunset;
        }

        // A fresh identity per request (a claims transformation may change it); each claim is made for it, so the
        // identity keeps it instead of copying it.
        var identity = new ClaimsIdentity(Scheme.Name);
        // The key's row id, under the standard name-identifier claim type (KeyReach reads it).
        Add(identity, ClaimTypes.NameIdentifier, texts.Id);
        Add(identity, ApiKeyDefaults.KeyIdClaim, key.KeyId);
        Add(identity, ApiKeyDefaults.AccessLevelClaim, texts.AccessLevel);
        Add(identity, ApiKeyDefaults.CompanyClaim, texts.CompanyId);
        Add(identity, ApiKeyDefaults.OrganisationClaim, texts.OrganisationId);
        foreach (var scope in key.Scopes)
        {
            Add(identity, ApiKeyDefaults.ScopeClaim, scope);
        }

        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    private static void Add(ClaimsIdentity identity, string type, string value) =>
        identity.AddClaim(new Claim(type, value, ClaimValueTypes.String, ClaimsIdentity.DefaultIssuer, ClaimsIdentity.DefaultIssuer, identity));

    /// <summary>What every authenticated request of a key claims and sends as text, made once per key state.</summary>
    private sealed class KeyTexts
    {
        private static readonly ConditionalWeakTable<KeySnapshot, KeyTexts> Made = new();

        private KeyTexts(KeySnapshot key)
        {
            Id = key.Id.ToString();
            AccessLevel = key.AccessLevel.ToString();
            CompanyId = key.CompanyId.ToString();
            OrganisationId = key.OrganisationId.ToString();
            Expires = key.ExpiresAtUtc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            if (key is { RolledAtUtc: { } rolled, SecretStopsAtUtc: { } stops })
            {
                // RFC 9745 §2.1: an RFC 9651 Date, "@" and the Unix time in seconds; RFC 8594 §3: an HTTP-date.
                Deprecation = "@" + new DateTimeOffset(rolled).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                Sunset = stops.ToString("R", CultureInfo.InvariantCulture);
            }
        }

        public string Id { get; }

        public string AccessLevel { get; }

        public string CompanyId { get; }

        public string OrganisationId { get; }

        public string Expires { get; }

        public string? Deprecation { get; }

        public string? Sunset { get; }

        public static KeyTexts Of(KeySnapshot key) => Made.GetValue(key, static k => new KeyTexts(k));
    }

    /// <summary>Counts the failure against the client; over its budget the answer is 429 instead.</summary>
    private AuthenticateResult Failed(string client, Problem problem)
    {
        _problem = budgets.Spend(client) is { } retryAfter
            ? new Problem(429, ThrottledTitle, ThrottledDetail, retryAfter)
            : problem;
        return AuthenticateResult.Fail(_problem.Detail);
    }

    /// <summary>
    /// A client over its budget whose key is not one of ours with a current digest: refused without BCrypt. One that was guessing secrets of real keys gets the refusal
    /// after <see cref="PleoKeysOptions.ThrottledResponseDelay"/> (a tarpit), so its flood costs it time and the
    /// server almost nothing; at most <see cref="MaxWaiting"/> wait at once.
    /// </summary>
    private async Task<AuthenticateResult> ThrottledAsync(string client, TimeSpan retryAfter)
    {
        var delay = pleoOptions.Value.ThrottledResponseDelay;
        if (delay > TimeSpan.Zero && budgets.IsGuessing(client))
        {
            try
            {
                if (Interlocked.Increment(ref _waiting) <= MaxWaiting)
                {
                    await Task.Delay(delay, TimeProvider, Context.RequestAborted);
                }
            }
            catch (OperationCanceledException)
            {
                // The client gave up waiting; the refusal below goes nowhere.
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }

        _problem = new Problem(429, ThrottledTitle, ThrottledDetail, retryAfter);
        return AuthenticateResult.Fail(ThrottledDetail);
    }

    private Problem ProblemFor(VerifyResult result)
    {
        var key = result.Key;
        return result.Outcome switch
        {
            VerifyOutcome.Malformed => new(401, "Invalid API key",
                "The credentials are not a Pleo API key. Send the key as the user name with an empty password (curl -u 'KEY:'), or as 'Authorization: Bearer KEY'."),
            VerifyOutcome.BadChecksum => new(401, "Invalid API key", "This API key has a typo: its checksum does not match. Copy the whole key again."),
            VerifyOutcome.WrongEnvironment => new(401, "Wrong environment",
                $"This API key was created in {result.PresentedEnvironment} and only works there. This is {pleoOptions.Value.Environment}; create a key here under Settings → API Keys."),
            VerifyOutcome.Expired => new(401, "API key expired",
                string.Create(CultureInfo.InvariantCulture, $"This API key expired on {Expiry.LastDay(key!.ExpiresAtUtc, ZoneOf(key)):yyyy-MM-dd}. Create a new key under Settings → API Keys.")),
            VerifyOutcome.Deleted => new(401, "API key deleted", "This API key has been deleted. Create a new key under Settings → API Keys."),
            // Suspended, not deleted: the key works again once Pleo switches the company's access back on.
            VerifyOutcome.AccessSwitchedOff => new(401, "API key access switched off", Api.KeyReach.SwitchedOff(key!.CompanyName)),
            VerifyOutcome.Rolled => new(401, "API key rolled",
                string.Create(CultureInfo.InvariantCulture, $"This API key was rolled on {TimeZoneInfo.ConvertTimeFromUtc(key!.RolledAtUtc!.Value, ZoneOf(key)):yyyy-MM-dd}; use its replacement.")),
            // Unknown key id and wrong secret answer alike: the key id is public, the secret is not.
            _ => new(401, "Invalid API key", "This API key is not valid. Check that it was copied whole, or create a new key under Settings → API Keys."),
        };
    }

    private static TimeZoneInfo ZoneOf(KeySnapshot key) => TimeZoneInfo.FindSystemTimeZoneById(key.TimeZoneId);

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var problem = _problem ?? new Problem(401, "Authentication required",
            "Send your API key as the user name with an empty password (curl -u 'KEY:'). Create keys under Settings → API Keys.");
        Response.StatusCode = problem.Status;
        if (problem.Status == 401)
        {
            Response.Headers.WWWAuthenticate = $"Basic realm=\"{ApiKeyDefaults.Realm}\", charset=\"UTF-8\"";
        }

        if (problem.RetryAfter is { } retry)
        {
            Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        await WriteProblemAsync(Context, problem.Status, problem.Title, problem.Detail);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(Context, 403, "Forbidden", "This API key may not do this.");

    /// <summary>
    /// Writes an API error as problem details. Through <see cref="IResult"/> rather than
    /// IProblemDetailsService.WriteAsync, which throws (a 500) when the Accept header rules out JSON,
    /// as a browser's <c>text/html</c> does; the result falls back to plain problem JSON instead.
    /// </summary>
    public static Task WriteProblemAsync(HttpContext context, int status, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title).ExecuteAsync(context);
}
