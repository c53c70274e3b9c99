using Microsoft.Extensions.Options;

namespace PleoKeys.Web.Reminders;

/// <summary>
/// Runs <see cref="ExpiryReminders"/> at start and then every <c>Email:ReminderScanInterval</c>, on the app's
/// <see cref="TimeProvider"/>, off the request path. Every instance runs it; the database makes each reminder go once.
/// </summary>
public sealed class ExpiryReminderService(
    ExpiryReminders reminders,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    IOptions<EmailOptions> options,
    ILogger<ExpiryReminderService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The Renew links start with PublicUrls, which without PleoKeys:PublicBaseUrl is the address the server
        // listens on: known once the server has started, which hosted services do not wait for.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            await started.Task;
        }

        var interval = options.Value.ReminderScanInterval;
        using var timer = new PeriodicTimer(interval, time);
        do
        {
            try
            {
                await reminders.RunOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A failed scan (the database away) is retried at the next tick; the loop must not die with it.
                logger.LogWarning(e, "Scanning for expiry reminders failed; retrying in {Interval}", interval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
