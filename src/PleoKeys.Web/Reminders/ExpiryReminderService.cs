using Microsoft.Extensions.Options;

namespace PleoKeys.Web.Reminders;

/// <summary>
/// Runs <see cref="ExpiryReminders"/> at start and then every <c>Email:ReminderScanInterval</c>, on the app's
/// <see cref="TimeProvider"/>, off the request path. Every instance runs it; the database makes each reminder go once.
/// </summary>
public sealed class ExpiryReminderService(
    ExpiryReminders reminders,
    TimeProvider time,
    IOptions<EmailOptions> options,
    ILogger<ExpiryReminderService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
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
