using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Auth;

public static class ApiKeyDefaults
{
    public const string Scheme = "ApiKey";
    public const string Realm = "Pleo API";
    public const string ScopeClaim = "scope";
    public const string KeyIdClaim = "key_id";
    public const string KeyRowIdClaim = "key_row_id";
    public const string AccessLevelClaim = "access_level";
    public const string CompanyClaim = "company_id";
    public const string OrganisationClaim = "organisation_id";
    public const string ExpiresHeader = "Pleo-Api-Key-Expires";

    /// <summary>A rolled key in its grace period: when it was rolled, as <c>@unix-seconds</c> (RFC 9745).</summary>
    public const string DeprecationHeader = "Deprecation";

    /// <summary>A rolled key in its grace period: when its secret stops, as an HTTP-date (RFC 8594).</summary>
    public const string SunsetHeader = "Sunset";
}

/// <summary>
/// The verified key behind an API request. The request's user is the key's <see cref="ApiKeyPrincipal"/>,
/// which carries the key's state, so an endpoint can answer from it without reading its row again.
/// </summary>
public static class ApiKeyFeature
{
    public static KeySnapshot Of(HttpContext context) =>
        Find(context) ?? throw new InvalidOperationException("No API key authenticated this request.");

    /// <summary>The key behind the request, if a key authenticated it.</summary>
    public static KeySnapshot? Find(HttpContext context) => (context.User as ApiKeyPrincipal)?.Key;

    /// <summary>
    /// The stored key the request presented (its key id names a row), whether or not it was let in (wrong secret,
    /// expired, deleted, rolled…): usage counts a refusal against it. For now the authenticated key only.
    /// </summary>
    public static KeySnapshot? FindPresented(HttpContext context) => Find(context);

    /// <summary>The key id behind the request, if a key authenticated it (read without searching the claims).</summary>
    public static string? KeyIdOf(HttpContext context) => Find(context)?.KeyId;
}

/// <summary>
/// The user of a request made with an API key: one per key state, shared by that state's requests (it is
/// made once, like the answer the handler gives), so neither it nor its identity can be changed.
/// </summary>
public sealed class ApiKeyPrincipal : ClaimsPrincipal
{
    internal ApiKeyPrincipal(KeySnapshot key, ClaimsIdentity identity)
        : base(identity)
    {
        Key = key;
    }

    public KeySnapshot Key { get; }

    public override void AddIdentity(ClaimsIdentity identity) => throw ReadOnly();

    public override void AddIdentities(IEnumerable<ClaimsIdentity> identities) => throw ReadOnly();

    internal static InvalidOperationException ReadOnly() =>
        new("An API key's principal is shared by the key's requests and cannot be changed.");
}

/// <summary>
/// Authenticates Pleo-style API calls: HTTP Basic with the key as user name and an empty password
/// (<c>curl -u 'KEY:'</c>), or <c>Authorization: Bearer KEY</c>. Never a query string.
/// Shaped like the framework's BearerTokenHandler: NoResult without a credential, Fail for a bad one,
/// and a challenge that says what went wrong as problem details.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    KeyVerifier verifier,
    LastUsedRecorder lastUsed,
    AuthFailureAudit failureAudit,
    IOptions<PleoKeysOptions> pleoOptions)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private const int MaxHeaderLength = 1024;
    private Problem? _problem;

    private sealed record Problem(int Status, string Title, string Detail, TimeSpan? RetryAfter = null);

    private static readonly Task<AuthenticateResult> NoCredentials = Task.FromResult(AuthenticateResult.NoResult());

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return NoCredentials;
        }

        // The hot path: 'Basic base64(KEY:)' with a key this process verified before, decided from the
        // verifier's cache without a string of the key or any await; the same header string as an earlier
        // request of this connection does not even need decoding.
        if (verifier.TryVerifyCachedCredential(header, out var cached) && cached.Succeeded
            || TryVerifyPlainBasicCached(header, out cached))
        {
            var recording = lastUsed.RecordAsync(cached.Key!.Id, Context.Connection.RemoteIpAddress);
            return recording.IsCompletedSuccessfully
                ? Accept(cached.Key)
                : AcceptAfterAsync(recording, cached.Key);
        }

        return AuthenticateFullyAsync(header);
    }

    private bool TryVerifyPlainBasicCached(string header, [NotNullWhen(true)] out VerifyResult? cached)
    {
        Span<char> key = stackalloc char[ApiKeyFormat.Length];
        cached = null;
        return TryReadPlainBasicKey(header, key) && verifier.TryVerifyCached(key, header, out cached) && cached.Succeeded;
    }

    private async Task<AuthenticateResult> AcceptAfterAsync(Task recording, KeySnapshot key)
    {
        await recording;
        return await Accept(key);
    }

    private async Task<AuthenticateResult> AuthenticateFullyAsync(string header)
    {
        var presented = ReadKey(header, out var why);
        if (presented is null)
        {
            return Failure(401, "Invalid credentials", why!);
        }

        var client = Context.Connection.RemoteIpAddress?.ToString();
        var result = await verifier.VerifyAsync(presented, client, Context.RequestAborted);
        var key = result.Key;
        var environment = pleoOptions.Value.Environment;
        switch (result.Outcome)
        {
            case VerifyOutcome.Valid:
                break;
            case VerifyOutcome.Malformed:
                return Failure(401, "Invalid API key",
                    "The credentials are not a Pleo API key. Send the key as the user name with an empty password (curl -u 'KEY:'), or as 'Authorization: Bearer KEY'.");
            case VerifyOutcome.BadChecksum:
                return Failure(401, "Invalid API key", "This API key has a typo: its checksum does not match. Copy the whole key again.");
            case VerifyOutcome.WrongEnvironment:
                return Failure(401, "Wrong environment",
                    $"This API key was created in {result.PresentedEnvironment} and only works there. This is {environment}; create a key here under Settings → API Keys.");
            case VerifyOutcome.Expired:
                var zone = TimeZoneInfo.FindSystemTimeZoneById(key!.TimeZoneId);
                return Failure(401, "API key expired",
                    string.Create(CultureInfo.InvariantCulture, $"This API key expired on {Expiry.LastDay(key.ExpiresAtUtc, zone):yyyy-MM-dd}. Create a new key under Settings → API Keys."));
            case VerifyOutcome.Deleted:
                return Failure(401, "API key deleted", "This API key has been deleted. Create a new key under Settings → API Keys.");
            case VerifyOutcome.AccessSwitchedOff:
                // Suspended, not deleted: the key works again once Pleo switches the company's access back on.
                return Failure(401, "API key access switched off", Api.KeyReach.SwitchedOff(key!.CompanyName));
            case VerifyOutcome.Rolled:
                var rollZone = TimeZoneInfo.FindSystemTimeZoneById(key!.TimeZoneId);
                return Failure(401, "API key rolled",
                    string.Create(CultureInfo.InvariantCulture, $"This API key was rolled on {TimeZoneInfo.ConvertTimeFromUtc(key.RolledAtUtc!.Value, rollZone):yyyy-MM-dd}; use its replacement."));
            case VerifyOutcome.Throttled:
                if (result.BurstKeyId is { } burst)
                {
                    await failureAudit.RecordBurstAsync(burst, client);
                }

                return Failure(429, FailedAuthShedding.Title, FailedAuthShedding.Detail, result.RetryAfter);
            default:
                // Unknown key id and wrong secret answer alike: the key id is public, the secret is not.
                return Failure(401, "Invalid API key", "This API key is not valid. Check that it was copied whole, or create a new key under Settings → API Keys.");
        }

        await lastUsed.RecordAsync(key!.Id, Context.Connection.RemoteIpAddress);
        return await Accept(key);
    }

    /// <summary>
    /// Lets the request in as the key: its principal (which carries the key's state; endpoints answer from
    /// it) becomes the user, and its expiry a response header (set now, so every answer to this key carries
    /// it, whoever writes it). A rolled key in its grace period also says so: <c>Deprecation</c> with the
    /// roll's instant (RFC 9745) and <c>Sunset</c> with the instant its secret stops (RFC 8594).
    /// </summary>
    private Task<AuthenticateResult> Accept(KeySnapshot key)
    {
        var parts = PrincipalParts.Of(key);
        Response.Headers[ApiKeyDefaults.ExpiresHeader] = parts.Expires;
        if (parts.Deprecation is not null)
        {
            Response.Headers[ApiKeyDefaults.DeprecationHeader] = parts.Deprecation;
            Response.Headers[ApiKeyDefaults.SunsetHeader] = parts.Sunset;
        }

        return parts.Result;
    }

    /// <summary>
    /// A key state's principal, expiry header and authentication answer, made once per state rather than
    /// once per request (a refreshed state is a new snapshot, so it gets new parts). Nothing can change
    /// them: the principal and its identity refuse changes, and nothing in the app reads or writes the
    /// ticket's properties on the API.
    /// </summary>
    private sealed class PrincipalParts
    {
        private static readonly ConditionalWeakTable<KeySnapshot, PrincipalParts> Cache = new();

        private PrincipalParts(KeySnapshot key)
        {
            var identity = new ReadOnlyClaimsIdentity(
            [
                new(ClaimTypes.NameIdentifier, key.Id.ToString()),
                new(ApiKeyDefaults.KeyIdClaim, key.KeyId),
                new(ApiKeyDefaults.KeyRowIdClaim, key.Id.ToString()),
                new(ApiKeyDefaults.AccessLevelClaim, key.AccessLevel.ToString()),
                new(ApiKeyDefaults.CompanyClaim, key.CompanyId.ToString()),
                new(ApiKeyDefaults.OrganisationClaim, key.OrganisationId.ToString()),
                .. key.Scopes.Select(s => new Claim(ApiKeyDefaults.ScopeClaim, s)),
            ], ApiKeyDefaults.Scheme);
            Result = Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ApiKeyPrincipal(key, identity), ApiKeyDefaults.Scheme)));
            Expires = key.ExpiresAtUtc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            if (key is { RolledAtUtc: { } rolled, SecretStopsAtUtc: { } stops })
            {
                // RFC 9745 §2.1: an RFC 9651 Date, "@" and the Unix time in seconds; RFC 8594 §3: an HTTP-date.
                Deprecation = "@" + new DateTimeOffset(rolled).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                Sunset = stops.ToString("R", CultureInfo.InvariantCulture);
            }
        }

        public Task<AuthenticateResult> Result { get; }

        public string Expires { get; }

        /// <summary>Set for a rolled key (in its grace period, or it would not be let in).</summary>
        public string? Deprecation { get; }

        public string? Sunset { get; }

        public static PrincipalParts Of(KeySnapshot key) => Cache.GetValue(key, static k => new PrincipalParts(k));
    }

    /// <summary>An identity shared by the requests of one key state, so nothing may add or remove its claims.</summary>
    private sealed class ReadOnlyClaimsIdentity(IEnumerable<Claim> claims, string authenticationType)
        : ClaimsIdentity(claims, authenticationType)
    {
        public override void AddClaim(Claim claim) => throw ApiKeyPrincipal.ReadOnly();

        public override void AddClaims(IEnumerable<Claim?> claims) => throw ApiKeyPrincipal.ReadOnly();

        public override void RemoveClaim(Claim? claim) => throw ApiKeyPrincipal.ReadOnly();

        public override bool TryRemoveClaim(Claim? claim) => throw ApiKeyPrincipal.ReadOnly();
    }

    private AuthenticateResult Failure(int status, string title, string detail, TimeSpan? retryAfter = null)
    {
        _problem = new Problem(status, title, detail, retryAfter);
        return AuthenticateResult.Fail(detail);
    }

    /// <summary>
    /// What clients put around a key by accident: a space pasted before it (<c>curl -u " $KEY:"</c>), a tab, or
    /// the CR/LF that ends a line of a file or an environment variable. Only these, and only around the key.
    /// </summary>
    private static readonly char[] SurroundingWhitespace = [' ', '\t', '\r', '\n'];

    /// <summary>
    /// The key out of a Basic or Bearer header, without the whitespace around it; null with a reason when the
    /// header is malformed or whitespace sits inside the key (the reason says where, never what the key holds,
    /// since the framework logs it).
    /// </summary>
    private static string? ReadKey(string header, out string? why)
    {
        var raw = ReadRawKey(header, out why);
        if (raw is null)
        {
            return null;
        }

        var key = raw.Trim(SurroundingWhitespace);
        for (var i = 0; i < key.Length; i++)
        {
            if (char.IsWhiteSpace(key[i]))
            {
                why = $"The API key has {WhitespaceName(key[i])} inside it, after its first {i} characters (of {key.Length}). " +
                    "A key is one line without spaces; copy it again whole.";
                return null;
            }
        }

        if (key.Length == 0)
        {
            why = "The credentials hold only whitespace where the API key belongs. Send the key as the user name (curl -u 'KEY:') or as 'Authorization: Bearer KEY'.";
            return null;
        }

        return key;
    }

    private static string WhitespaceName(char c) => c switch
    {
        ' ' => "a space",
        '\t' => "a tab",
        '\r' or '\n' => "a line break",
        _ => $"a whitespace character (U+{(int)c:X4})",
    };

    private static string? ReadRawKey(string header, out string? why)
    {
        why = null;
        if (ReadPlainBasic(header) is { } key)
        {
            return key;
        }

        if (header.Length > MaxHeaderLength)
        {
            why = "The Authorization header is too long to hold an API key.";
            return null;
        }

        if (!AuthenticationHeaderValue.TryParse(header, out var value) || string.IsNullOrWhiteSpace(value.Parameter))
        {
            why = "The Authorization header is malformed. Send 'Authorization: Basic base64(KEY:)' or 'Authorization: Bearer KEY'.";
            return null;
        }

        if (value.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return value.Parameter;
        }

        if (!value.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            why = $"The '{Truncate(value.Scheme)}' scheme is not supported. Use HTTP Basic with the key as the user name and an empty password (curl -u 'KEY:'), or Bearer.";
            return null;
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(value.Parameter.Trim()));
        }
        catch (FormatException)
        {
            why = "The Basic credentials are not valid base64. Send base64(KEY:), as curl -u 'KEY:' does.";
            return null;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            why = "The Basic credentials have no colon. Send the key as the user name followed by a colon and an empty password: base64(KEY:).";
            return null;
        }

        if (colon == 0)
        {
            why = "The Basic credentials have an empty user name. The API key goes in the user name; the password stays empty.";
            return null;
        }

        return decoded[..colon];
    }

    private static readonly SearchValues<char> Base64Chars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");

    /// <summary>
    /// The common case, <c>Basic base64(KEY:)</c> with nothing unusual in it, read without the general
    /// header parser or intermediate strings. Anything else returns null and takes the full path, which
    /// gives the same answer for this case and explains every other one.
    /// </summary>
    private static string? ReadPlainBasic(string header)
    {
        Span<byte> decoded = stackalloc byte[MaxHeaderLength];
        var user = DecodePlainBasicUser(header, decoded);
        return user.IsEmpty ? null : Encoding.UTF8.GetString(user);
    }

    /// <summary>
    /// The key of a plain <c>Basic base64(KEY:)</c> or <c>Bearer KEY</c> header, when it has a key's length,
    /// as ASCII chars; false for anything else (which the full path reads and explains).
    /// </summary>
    internal static bool TryReadPlainKey(string header, Span<char> key)
    {
        const string bearer = "Bearer ";
        if (header.StartsWith(bearer, StringComparison.Ordinal))
        {
            var token = header.AsSpan(bearer.Length).Trim(SurroundingWhitespace);
            return token.Length == key.Length && token.TryCopyTo(key);
        }

        return TryReadPlainBasicKey(header, key);
    }

    /// <summary>The hot path's reading: the user name of a plain Basic header, when it has a key's length, as ASCII chars.</summary>
    private static bool TryReadPlainBasicKey(string header, Span<char> key)
    {
        Span<byte> decoded = stackalloc byte[((ApiKeyFormat.Length + 1 + 2) / 3 * 3) + 3];
        var user = header.Length <= 6 + (decoded.Length * 4 / 3) ? DecodePlainBasicUser(header, decoded) : default;
        return user.Length == key.Length && Encoding.ASCII.TryGetChars(user, key, out var written) && written == key.Length;
    }

    /// <summary>The bytes before the first ':' of a plain <c>Basic base64</c> header, or empty when it is anything else.</summary>
    private static ReadOnlySpan<byte> DecodePlainBasicUser(string header, Span<byte> buffer)
    {
        const string prefix = "Basic ";
        if (header.Length > MaxHeaderLength || !header.StartsWith(prefix, StringComparison.Ordinal))
        {
            return default;
        }

        var encoded = header.AsSpan(prefix.Length);
        if (encoded.IsEmpty || encoded.ContainsAnyExcept(Base64Chars) || !Convert.TryFromBase64Chars(encoded, buffer, out var length))
        {
            return default;
        }

        // ':' never occurs inside a multi-byte UTF-8 sequence, so the first ':' byte ends the user name.
        var colon = buffer[..length].IndexOf((byte)':');
        return colon > 0 ? buffer[..colon] : default;
    }

    private static string Truncate(string s) => s.Length <= 20 ? s : s[..20] + "…";

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

/// <summary>
/// Records when and from where a key was last used, at most once per key per minute, so API traffic
/// does not turn into database writes.
/// </summary>
public sealed class LastUsedRecorder(IServiceScopeFactory scopes, TimeProvider time)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, DateTime> _lastWrite = new();

    /// <summary>Completes at once unless this key's minute is up, when it writes the time and address.</summary>
    public Task RecordAsync(Guid keyRowId, System.Net.IPAddress? ip)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var previous = _lastWrite.GetValueOrDefault(keyRowId, DateTime.MinValue);
        if (now - previous < Interval || !_lastWrite.TryUpdate(keyRowId, now, previous) && !_lastWrite.TryAdd(keyRowId, now))
        {
            return Task.CompletedTask;
        }

        return WriteAsync(keyRowId, now, ip?.ToString());
    }

    private async Task WriteAsync(Guid keyRowId, DateTime now, string? ip)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await db.ApiKeys.Where(k => k.Id == keyRowId)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAtUtc, now).SetProperty(k => k.LastUsedIp, ip));
    }
}
