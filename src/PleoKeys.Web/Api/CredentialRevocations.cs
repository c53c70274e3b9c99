using System.Globalization;
using System.Net;
using System.Text.Encodings.Web;
using System.Threading.Channels;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MimeKit;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Auth;
using PleoKeys.Web.Data;
using PleoKeys.Web.Reminders;

namespace PleoKeys.Web.Api;

public sealed record CredentialRevocationRequest(string[]? Credentials);

public sealed record CredentialRevocationResponse(int Received);

/// <summary>
/// <c>POST /v1/credential-revocations</c>: anyone who finds a key exposed (in a repository, a log, a paste) reports
/// it, without a key of their own; modelled on GitHub's credential revocation API
/// (https://docs.github.com/en/rest/credentials/revoke). Every valid key among the strings is revoked (deleted) on
/// every instance, its company's Admins are emailed, the API Keys list shows a banner, and the audit row says
/// "revoked: reported as exposed". The answer is 202 with the number of strings received whatever they were, and
/// the keys are checked after the answer (<see cref="CredentialRevocationWorker"/>), so neither the answer nor its
/// timing tells whether a key was real. Rate-limited per client address.
/// </summary>
public static class CredentialRevocations
{
    public const string Path = "/v1/credential-revocations";
    public const string RateLimitPolicy = "credential-revocations";
    public const int MaxCredentials = 100;

    /// <summary>What the audit row and the key's history say.</summary>
    public const string AuditDetail = "revoked: reported as exposed";

    public static IServiceCollection AddCredentialRevocations(this IServiceCollection services)
    {
        services.AddSingleton<CredentialReports>();
        services.AddHostedService<CredentialRevocationWorker>();
        services.Configure<RateLimiterOptions>(o => o.AddPolicy<string, PerClientRevocationLimit>(RateLimitPolicy));
        return services;
    }

    public static IEndpointRouteBuilder MapCredentialRevocations(this IEndpointRouteBuilder app)
    {
        app.MapPost(Path, Report)
            .AllowAnonymous()
            .RequireRateLimiting(RateLimitPolicy)
            .WithTags("Credential revocations")
            .WithSummary("Report exposed API keys")
            .WithDescription(
                $"Anyone who finds an API key exposed reports it here; no key is needed. Send up to {MaxCredentials} strings in `credentials`. " +
                "Every valid key among them is revoked at once and its company's Admins are told. The answer is always 202 with the number of strings " +
                "received, whatever they were, so it tells nobody whether a key was real. Limited per client address.")
            .Produces<CredentialRevocationResponse>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        return app;
    }

    internal static Results<Accepted<CredentialRevocationResponse>, ValidationProblem> Report(
        CredentialRevocationRequest body, CredentialReports queue, HttpContext context)
    {
        if (body.Credentials is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["credentials"] = ["credentials is required: an array of the exposed keys."] });
        }

        if (body.Credentials.Length > MaxCredentials)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["credentials"] = [string.Create(CultureInfo.InvariantCulture, $"credentials holds at most {MaxCredentials} strings; this request has {body.Credentials.Length}. Send the rest in another request.")],
            });
        }

        queue.Enqueue(body.Credentials, context.Connection.RemoteIpAddress?.ToString());
        return TypedResults.Accepted((string?)null, new CredentialRevocationResponse(body.Credentials.Length));
    }
}

/// <summary>Reports waiting to be checked, in memory (a restart loses what is waiting; the reporter may report again).</summary>
public sealed class CredentialReports(ILogger<CredentialReports> logger)
{
    private readonly Channel<(string Credential, string? Reporter)> _channel =
        Channel.CreateBounded<(string, string?)>(new BoundedChannelOptions(10_000) { SingleReader = true });

    public ChannelReader<(string Credential, string? Reporter)> Reader => _channel.Reader;

    public void Enqueue(IEnumerable<string> credentials, string? reporter)
    {
        foreach (var credential in credentials)
        {
            // Only what could be a key is worth a look (a key is 61 characters); the rest is dropped here.
            if (credential is { Length: > 0 and <= 200 } && !_channel.Writer.TryWrite((credential.Trim(), reporter)))
            {
                logger.LogWarning("The credential revocation queue is full; a reported string was dropped.");
                return;
            }
        }
    }
}

/// <summary>
/// Checks reported strings one by one, after the answer: format, checksum and environment first (no database), then
/// the verifier (so a key is recognised exactly as the API recognises it), then revokes it like the Delete page does.
/// </summary>
public sealed class CredentialRevocationWorker(
    CredentialReports queue,
    KeyVerifier verifier,
    IServiceScopeFactory scopes,
    TimeProvider time,
    IOptions<PleoKeysOptions> options,
    ILogger<CredentialRevocationWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var (credential, reporter) in queue.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await CheckAsync(credential, reporter, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "A reported credential could not be checked.");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down; what waits is lost, as documented.
        }
    }

    private async Task CheckAsync(string credential, string? reporter, CancellationToken ct)
    {
        // Garbage never reaches the verifier, so it spends nobody's failed-authentication budget.
        if (ApiKeyFormat.TryParse(credential, out var parsed) != KeyFormatError.None || parsed!.Environment != options.Value.Environment)
        {
            return;
        }

        var result = await verifier.VerifyAsync(credential, ct);
        // A correct secret: let in, or refused only because its company's access is switched off (it would work again).
        if (result.Outcome is not (VerifyOutcome.Valid or VerifyOutcome.AccessSwitchedOff) || result.Key is not { } key)
        {
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var now = time.GetUtcNow().UtcDateTime;
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            // The Delete page's conditional update: of two reports (or a report and a delete), one revokes and audits.
            var revoked = await db.ApiKeys
                .Where(k => k.Id == key.Id && k.DeletedAtUtc == null)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(k => k.DeletedAtUtc, now)
                    .SetProperty(k => k.ReportedExposedAtUtc, now)
                    // Recorded for every instance's poller (see ApiKey.MarkChanged).
                    .SetProperty(k => k.ChangedAtUtc, now)
                    .SetProperty(k => k.ChangeCount, k => k.ChangeCount + 1), ct);
            if (revoked == 0)
            {
                return;
            }

            db.AuditEvents.Add(new AuditEvent
            {
                AtUtc = now,
                Action = AuditActions.KeyReportedExposed,
                ActorName = "Exposed-credential report",
                IpAddress = reporter,
                CompanyId = key.CompanyId,
                ApiKeyId = key.Id,
                KeyFingerprint = key.Fingerprint,
                Detail = CredentialRevocations.AuditDetail,
            });
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
        }

        logger.LogWarning("API key {KeyFingerprint} ({KeyRowId}) revoked: reported as exposed by {Reporter}", key.Fingerprint, key.Id, reporter);
        await scope.ServiceProvider.GetRequiredService<KeyRevocation>().KeyChangedAsync(key.KeyId);
        await TellAdminsAsync(scope.ServiceProvider, db, key, now, ct);
    }

    /// <summary>Emails the company's Admins (best effort: the banner on the API Keys list and the history say it too).</summary>
    private async Task TellAdminsAsync(IServiceProvider services, AppDbContext db, KeySnapshot key, DateTime now, CancellationToken ct)
    {
        try
        {
            var found = await (
                    from m in db.Memberships.AsNoTracking()
                    where m.OrganisationId == key.OrganisationId && (m.CompanyId == null || m.CompanyId == key.CompanyId) && m.Role == MemberRole.Admin
                    join u in db.Users.AsNoTracking() on m.UserId equals u.Id
                    select new { u.Email, u.DisplayName, u.Language })
                .ToListAsync(ct);
            var admins = found.Where(a => !string.IsNullOrWhiteSpace(a.Email)).DistinctBy(a => a.Email!.ToUpperInvariant()).ToList();
            if (admins.Count == 0)
            {
                return;
            }

            var email = services.GetRequiredService<IOptions<EmailOptions>>().Value;
            var baseUrl = services.GetRequiredService<PublicUrls>().BaseUrl;
            var t = services.GetRequiredService<Microsoft.Extensions.Localization.IStringLocalizer<SharedResource>>();
            var details = $"{baseUrl}/Settings/ApiKeys/Details/{key.Id}";
            // One email per language among the Admins, each in theirs (Settings → Profile, else English).
            foreach (var group in admins.GroupBy(a => AppCultures.IsSupported(a.Language) ? a.Language! : AppCultures.Default))
            {
                var message = AppCultures.With(group.Key, () =>
                {
                    var when = now.ToString("g", CultureInfo.CurrentCulture) + " UTC";
                    var message = new MimeMessage { Subject = t["API key {0} was revoked: reported as exposed", $"\u2068{key.Name}\u2069"] };
                    message.From.Add(MailboxAddress.Parse(email.From));
                    message.To.AddRange(group.Select(a => new MailboxAddress(a.DisplayName, a.Email)));
                    message.MessageId = $"exposed-key.{key.Id:N}{(group.Key == AppCultures.Default ? "" : "." + group.Key)}@{new Uri(baseUrl).Host}";
                    var text = $"""
                        {t["Someone reported the API key “{0}” ({1}) of {2} as exposed, on {3}.", key.Name, key.Fingerprint, key.CompanyName, when]}
                        {t["It was revoked at once: integrations using it can no longer connect."]}

                        {t["Create a new key for the integration, and look at the old key's usage for calls you do not recognise:"]}
                        {details}
                        """;
                    var h = HtmlEncoder.Default;
                    // The sentence is encoded first and the (encoded, isolated) values go in after, so both are encoded once.
                    string Sentence(string english, params string[] values)
                    {
                        var slots = values.Select((_, i) => (object)$"\u0001{i}\u0001").ToArray();
                        var encoded = h.Encode(t[english, slots]);
                        for (var i = 0; i < values.Length; i++)
                        {
                            encoded = encoded.Replace(h.Encode($"\u0001{i}\u0001"), values[i], StringComparison.Ordinal);
                        }

                        return encoded;
                    }

                    var html = $"""
                        <!DOCTYPE html>
                        <html lang="{h.Encode(CultureInfo.CurrentUICulture.Name)}"><head><meta charset="utf-8"><title>{h.Encode(message.Subject)}</title></head>
                        <body><p>{Sentence("Someone reported the API key “{0}” ({1}) of {2} as exposed, on {3}.", $"<bdi>{h.Encode(key.Name)}</bdi>", $"<code>{h.Encode(key.Fingerprint)}</code>", $"<bdi>{h.Encode(key.CompanyName)}</bdi>", h.Encode(when))}
                        {h.Encode(t["It was revoked at once: integrations using it can no longer connect."])}</p>
                        <p>{h.Encode(t["Create a new key for the integration, and look at the old key's usage for calls you do not recognise:"])}
                        <a href="{h.Encode(details)}">{h.Encode(details)}</a></p></body></html>
                        """;
                    message.Body = new BodyBuilder { TextBody = text, HtmlBody = html }.ToMessageBody();
                    return message;
                });
                await services.GetRequiredService<IMailSender>().SendAsync(message, ct);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "The Admins of company {CompanyId} could not be emailed about the exposed key {KeyFingerprint}.", key.CompanyId, key.Fingerprint);
        }
    }
}

/// <summary><c>PleoKeys:CredentialRevocationsPerMinutePerClient</c> reports per client address per minute, then 429 with Retry-After.</summary>
public sealed class PerClientRevocationLimit(IOptions<PleoKeysOptions> options) : IRateLimiterPolicy<string>
{
    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => async (ctx, _) =>
    {
        var retry = ctx.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(60);
        ctx.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        await ApiKeyAuthenticationHandler.WriteProblemAsync(ctx.HttpContext, StatusCodes.Status429TooManyRequests, "Too many reports",
            $"This address sent more than {options.Value.CredentialRevocationsPerMinutePerClient} reports in a minute. Wait {Math.Ceiling(retry.TotalSeconds)} seconds; put up to {CredentialRevocations.MaxCredentials} keys in one report.");
    };

    public RateLimitPartition<string> GetPartition(HttpContext httpContext) =>
        RateLimitPartition.GetFixedWindowLimiter(
            Auth.ClientPartition.Of(httpContext.Connection.RemoteIpAddress),
            _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = options.Value.CredentialRevocationsPerMinutePerClient,
                Window = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
            });
}
