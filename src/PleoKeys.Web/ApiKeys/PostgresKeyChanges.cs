using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.ApiKeys;

/// <summary>The PostgreSQL channel on which instances tell each other that a key changed; the payload is the public key id.</summary>
public static class KeyChangeChannel
{
    public const string Name = "pleokeys_keys";
}

/// <summary>
/// Tells the other instances through <c>pg_notify</c>, on the request's own connection, after the change
/// is committed (a NOTIFY is delivered only when its transaction commits, and listeners must read the new row).
/// </summary>
public sealed class PostgresKeyChangeBroadcaster(AppDbContext db, ILogger<PostgresKeyChangeBroadcaster> logger) : IKeyChangeBroadcaster
{
    public async Task BroadcastAsync(string keyId)
    {
        try
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_notify({KeyChangeChannel.Name}, {keyId})");
        }
        catch (DbException e)
        {
            // The change itself is committed; the other instances' KeyChangePoller finds it within its interval.
            logger.LogWarning(e, "Could not notify other instances of the change to key {KeyId}; they will find it by polling", keyId);
        }
    }
}

/// <summary>
/// LISTENs on a dedicated long-lived connection and forgets a key's cached state as soon as any instance
/// reports a change to it, so a key deleted, activated or switched off elsewhere is judged anew here on its next request.
/// After a reconnect every cached state is forgotten, since notifications sent meanwhile are lost.
/// </summary>
public sealed class PostgresKeyChangeListener(
    IConfiguration configuration,
    KeyCache cache,
    TimeProvider time,
    ILogger<PostgresKeyChangeListener> logger) : BackgroundService
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = new NpgsqlConnectionStringBuilder(configuration.GetConnectionString("Postgres"))
        {
            // Not from the pool: this connection lives as long as the app and is never returned.
            Pooling = false,
            // Keepalives during WaitAsync turn a silently dead server into an exception, so we reconnect.
            KeepAlive = 15,
            ApplicationName = "pleokeys-key-listener",
        };
        var backoff = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(settings.ConnectionString);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, e) => cache.Invalidate(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {KeyChangeChannel.Name}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                // Anything cached before this LISTEN may have changed unheard (first start: nothing is cached).
                cache.InvalidateAll();
                backoff = TimeSpan.FromSeconds(1);
                logger.LogInformation("Listening for key changes on channel {Channel}", KeyChangeChannel.Name);
                while (true)
                {
                    // Returns after each notification; the handler above has already run.
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Whatever broke the connection (server restart, network, failover), the listener must come back;
                // until it does, KeyChangePoller still bounds how long a change elsewhere stays unseen here.
                logger.LogWarning(e, "Key change listener lost its connection; reconnecting in {Backoff}", backoff);
                await Task.Delay(backoff, time, stoppingToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }
}
