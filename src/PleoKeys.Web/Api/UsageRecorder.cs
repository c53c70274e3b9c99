using System.Collections.Concurrent;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Auth;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Api;

/// <summary>
/// Counts each key's API requests in memory, per UTC hour × endpoint × outcome and per client address, and adds them
/// to the database in batches (<see cref="UsageFlusher"/>, every <c>PleoKeys:UsageFlushInterval</c> and at shutdown):
/// never a row per request, never a write on the request path. A crash loses at most the last interval, as the issue
/// allows. Every instance adds its own counts to the same rows (INSERT … ON CONFLICT … SET n = n + excluded.n), so
/// instances add up.
/// </summary>
public sealed class UsageRecorder(IServiceScopeFactory scopes, TimeProvider time, ILogger<UsageRecorder> logger) : IDisposable
{
    /// <summary>How long usage rows are kept (the 90 days).</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(90);

    /// <summary>Distinct (key, address) pairs held between flushes; beyond it new addresses wait for the next flush's room.</summary>
    private const int MaxAddressesInMemory = 50_000;

    private readonly ConcurrentDictionary<Bucket, Counter> _counts = new();
    private readonly ConcurrentDictionary<(Guid Key, IPAddress Address), Seen> _addresses = new();
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private DateTime _lastPrune;

    private readonly record struct Bucket(Guid KeyRowId, long Hour, UsageEndpoint Endpoint, UsageOutcome Outcome);

    private sealed class Counter
    {
        public long Value;
    }

    private sealed class Seen(long ticks)
    {
        public long First = ticks;
        public long Last = ticks;
        public long Count;
    }

    /// <summary>The outcome bucket of a final status code.</summary>
    public static UsageOutcome OutcomeOf(int status) => status switch
    {
        401 or 403 => UsageOutcome.Denied,
        429 => UsageOutcome.RateLimited,
        >= 500 => UsageOutcome.ServerError,
        >= 400 => UsageOutcome.ClientError,
        _ => UsageOutcome.Success,
    };

    /// <summary>
    /// Counts one request against a key. An in-memory increment: no allocation once the hour's bucket exists, no lock,
    /// no await. <paramref name="address"/> is given only for authenticated requests, so a guesser cannot fill a
    /// key's address list.
    /// </summary>
    public void Record(Guid keyRowId, UsageEndpoint endpoint, int status, IPAddress? address)
    {
        var now = time.GetUtcNow().UtcTicks;
        var bucket = new Bucket(keyRowId, now / TimeSpan.TicksPerHour, endpoint, OutcomeOf(status));
        var counter = _counts.GetOrAdd(bucket, static _ => new Counter());
        Interlocked.Increment(ref counter.Value);
        if (address is null)
        {
            return;
        }

        if (!_addresses.TryGetValue((keyRowId, address), out var seen))
        {
            if (_addresses.Count >= MaxAddressesInMemory)
            {
                return;
            }

            seen = _addresses.GetOrAdd((keyRowId, address), static (_, t) => new Seen(t), now);
        }

        Interlocked.Increment(ref seen.Count);
        // Last seen only moves forward (requests of one instance finish in any order).
        long last;
        while ((last = Volatile.Read(ref seen.Last)) < now && Interlocked.CompareExchange(ref seen.Last, now, last) != last)
        {
        }
    }

    /// <summary>
    /// Adds what was counted since the last flush to the database, and prunes rows older than 90 days (at most once an
    /// hour). Counts taken here and not written (the database refused) are put back for the next flush.
    /// </summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        await _flushing.WaitAsync(ct);
        try
        {
            var currentHour = time.GetUtcNow().UtcTicks / TimeSpan.TicksPerHour;
            var hours = new List<(Bucket Bucket, long Count)>();
            foreach (var (bucket, counter) in _counts)
            {
                // A past hour's bucket is removed before it is read, so a late increment goes to a new counter.
                if (bucket.Hour < currentHour)
                {
                    _counts.TryRemove(bucket, out _);
                }

                var count = Interlocked.Exchange(ref counter.Value, 0);
                if (count > 0)
                {
                    hours.Add((bucket, count));
                }
            }

            var addresses = new List<(Guid Key, IPAddress Address, long First, long Last, long Count)>();
            foreach (var ((key, address), seen) in _addresses)
            {
                _addresses.TryRemove((key, address), out _);
                var count = Interlocked.Exchange(ref seen.Count, 0);
                if (count > 0)
                {
                    addresses.Add((key, address, seen.First, Volatile.Read(ref seen.Last), count));
                }
            }

            if (hours.Count == 0 && addresses.Count == 0 && !PruneDue())
            {
                return;
            }

            try
            {
                await WriteAsync(hours, addresses, ct);
            }
            catch (Exception e) when (e is DbUpdateException or System.Data.Common.DbException or InvalidOperationException or OperationCanceledException)
            {
                // Put the counts back: the next flush tries again (a crash before then loses them, as allowed).
                foreach (var (bucket, count) in hours)
                {
                    Interlocked.Add(ref _counts.GetOrAdd(bucket, static _ => new Counter()).Value, count);
                }

                foreach (var (key, address, first, last, count) in addresses)
                {
                    var seen = _addresses.GetOrAdd((key, address), static (_, t) => new Seen(t), first);
                    Interlocked.Add(ref seen.Count, count);
                    Interlocked.Exchange(ref seen.Last, Math.Max(last, Volatile.Read(ref seen.Last)));
                }

                if (e is OperationCanceledException)
                {
                    throw;
                }

                logger.LogWarning(e, "Could not write API usage ({Buckets} buckets, {Addresses} addresses); retrying at the next flush.", hours.Count, addresses.Count);
            }
        }
        finally
        {
            _flushing.Release();
        }
    }

    public void Dispose() => _flushing.Dispose();

    private bool PruneDue() => time.GetUtcNow().UtcDateTime - _lastPrune >= TimeSpan.FromHours(1);

    private async Task WriteAsync(
        List<(Bucket Bucket, long Count)> hours, List<(Guid Key, IPAddress Address, long First, long Last, long Count)> addresses, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // The same statement on SQLite (3.24+) and PostgreSQL: one row per bucket, added to by every instance.
        foreach (var (b, count) in hours)
        {
            var hour = new DateTime(b.Hour * TimeSpan.TicksPerHour, DateTimeKind.Utc);
            var outcome = b.Outcome.ToString();
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO "KeyUsageHours" ("ApiKeyId", "HourUtc", "Endpoint", "Outcome", "EndpointGroup", "Scope", "Requests")
                VALUES ({b.KeyRowId}, {hour}, {b.Endpoint.Name}, {outcome}, {b.Endpoint.Group}, {b.Endpoint.Scope}, {count})
                ON CONFLICT ("ApiKeyId", "HourUtc", "Endpoint", "Outcome") DO UPDATE SET "Requests" = "KeyUsageHours"."Requests" + excluded."Requests"
                """, ct);
        }

        foreach (var (key, address, first, last, count) in addresses)
        {
            var text = address.ToString();
            var firstSeen = new DateTime(first, DateTimeKind.Utc);
            var lastSeen = new DateTime(last, DateTimeKind.Utc);
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO "KeyUsageAddresses" ("ApiKeyId", "Address", "FirstSeenUtc", "LastSeenUtc", "Requests")
                VALUES ({key}, {text}, {firstSeen}, {lastSeen}, {count})
                ON CONFLICT ("ApiKeyId", "Address") DO UPDATE SET
                    "Requests" = "KeyUsageAddresses"."Requests" + excluded."Requests",
                    "FirstSeenUtc" = CASE WHEN excluded."FirstSeenUtc" < "KeyUsageAddresses"."FirstSeenUtc" THEN excluded."FirstSeenUtc" ELSE "KeyUsageAddresses"."FirstSeenUtc" END,
                    "LastSeenUtc" = CASE WHEN excluded."LastSeenUtc" > "KeyUsageAddresses"."LastSeenUtc" THEN excluded."LastSeenUtc" ELSE "KeyUsageAddresses"."LastSeenUtc" END
                """, ct);
        }

        if (PruneDue())
        {
            var now = time.GetUtcNow().UtcDateTime;
            var cutoff = now - Retention;
            await db.KeyUsageHours.Where(u => u.HourUtc < cutoff).ExecuteDeleteAsync(ct);
            await db.KeyUsageAddresses.Where(a => a.LastSeenUtc < cutoff).ExecuteDeleteAsync(ct);
            _lastPrune = now;
        }

        await transaction.CommitAsync(ct);
    }
}

/// <summary>
/// An endpoint as usage counts it: its name (<c>GET /v1/vendors</c>), its group (the scope's resource, such as
/// <c>vendors</c>; the path's first segment after the version for an endpoint without a scope) and the scope it
/// requires. Made once per endpoint, so the request path only looks it up.
/// </summary>
public sealed class UsageEndpoint(string name, string group, string scope)
{
    // Compared by reference (one instance per endpoint, cached below), so counting hashes no strings.
    public string Name { get; } = name;

    public string Group { get; } = group;

    public string Scope { get; } = scope;

    /// <summary>Requests no endpoint served (a mistyped path).</summary>
    public static readonly UsageEndpoint Other = new("other", "other", "");

    private static readonly ConditionalWeakTable<Endpoint, UsageEndpoint> Cache = new();

    public static UsageEndpoint Of(Endpoint? endpoint) =>
        endpoint is RouteEndpoint route ? Cache.GetValue(route, static e => Describe((RouteEndpoint)e)) : Other;

    private static UsageEndpoint Describe(RouteEndpoint endpoint)
    {
        var method = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods is [var first, ..] ? first : "ANY";
        var path = "/" + (endpoint.RoutePattern.RawText ?? "").TrimStart('/');
        var scope = endpoint.Metadata.GetMetadata<RequiredScopeMetadata>()?.Scope ?? "";
        var group = scope.Length > 0
            ? scope[..scope.IndexOf(':', StringComparison.Ordinal)]
            : endpoint.RoutePattern.PathSegments.Skip(1).FirstOrDefault()?.Parts.OfType<RoutePatternLiteralPart>().FirstOrDefault()?.Content ?? "other";
        return new UsageEndpoint($"{method} {path}", group, scope);
    }
}

/// <summary>
/// Counts every API request against the key it presented, after the rest of the pipeline has answered, so it sees
/// the final status: the 401 of authentication, the 403 of authorization, the 429 of the rate limiter.
/// </summary>
public static class UsageRecording
{
    public static IServiceCollection AddUsageRecording(this IServiceCollection services)
    {
        services.AddSingleton<UsageRecorder>();
        services.AddHostedService<UsageFlusher>();
        return services;
    }

    /// <summary>Registered just before UseAuthentication, on API paths only.</summary>
    public static IApplicationBuilder UseUsageRecording(this IApplicationBuilder app)
    {
        var recorder = app.ApplicationServices.GetRequiredService<UsageRecorder>();
        var lastUsed = app.ApplicationServices.GetRequiredService<LastUsedRecorder>();
        return app.Use(next => context =>
        {
            if (!PleoApi.IsApiPath(context.Request.Path))
            {
                return next(context);
            }

            Task pending;
            try
            {
                pending = next(context);
            }
            catch
            {
                Count(recorder, lastUsed, context, StatusCodes.Status500InternalServerError);
                throw;
            }

            if (pending.IsCompletedSuccessfully)
            {
                Count(recorder, lastUsed, context, context.Response.StatusCode);
                return Task.CompletedTask;
            }

            return AfterAsync(pending, recorder, lastUsed, context);
        });
    }

    private static async Task AfterAsync(Task pending, UsageRecorder recorder, LastUsedRecorder lastUsed, HttpContext context)
    {
        try
        {
            await pending;
        }
        catch
        {
            // The exception handler before this middleware turns it into a 500.
            Count(recorder, lastUsed, context, StatusCodes.Status500InternalServerError);
            throw;
        }

        Count(recorder, lastUsed, context, context.Response.StatusCode);
    }

    private static void Count(UsageRecorder recorder, LastUsedRecorder lastUsed, HttpContext context, int status)
    {
        if (ApiKeyFeature.Find(context) is { } key)
        {
            // A use is a call the key was let in and allowed to make: one refused by its allowlist or a missing scope
            // (403) counts as refused, and leaves neither its address nor a "last used".
            var used = status != StatusCodes.Status403Forbidden;
            var address = used && context.Connection.RemoteIpAddress is { } ip ? AllowedNetworks.Normalize(ip) : null;
            recorder.Record(key.Id, UsageEndpoint.Of(context.GetEndpoint()), status, address);
            if (used)
            {
                lastUsed.Record(key.Id, address);
            }
        }
        else if (ApiKeyFeature.FindPresented(context) is { } presented)
        {
            recorder.Record(presented.Id, UsageEndpoint.Of(context.GetEndpoint()), status, address: null);
        }
    }
}

/// <summary>Flushes the usage counts every <c>PleoKeys:UsageFlushInterval</c> (on the app's clock) and once more at shutdown.</summary>
public sealed class UsageFlusher(UsageRecorder recorder, TimeProvider time, IOptions<PleoKeysOptions> options, ILogger<UsageFlusher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.UsageFlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await recorder.FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync flushes what is left.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await recorder.FlushAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Could not write the last API usage at shutdown.");
        }
    }
}

/// <summary>Checks <c>PleoKeys:UsageFlushInterval</c> and <c>PleoKeys:CredentialRevocationsPerMinutePerClient</c> at start.</summary>
public sealed class UsageOptionsValidation : IValidateOptions<PleoKeysOptions>
{
    /// <summary>PeriodicTimer takes at most 2^32 - 2 milliseconds.</summary>
    private static readonly TimeSpan MaxInterval = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    public ValidateOptionsResult Validate(string? name, PleoKeysOptions options)
    {
        var errors = new List<string>();
        if (options.UsageFlushInterval <= TimeSpan.Zero || options.UsageFlushInterval > MaxInterval)
        {
            errors.Add($"PleoKeys:UsageFlushInterval must be a positive time span of at most 49 days, such as 00:01:00 (it is {options.UsageFlushInterval}).");
        }

        if (options.CredentialRevocationsPerMinutePerClient < 1)
        {
            errors.Add($"PleoKeys:CredentialRevocationsPerMinutePerClient must be at least 1 (it is {options.CredentialRevocationsPerMinutePerClient}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
