using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Reminders;

/// <summary>
/// Two instances of the app on one database scanning at the same moments, with sends failing on the way: every
/// reminder arrives once. Each instance has its own services, clock and connection pool, as two processes would.
/// </summary>
internal static class TwoInstanceReminders
{
    private static readonly DateTime Start = PleoKeysFactory.Start.UtcDateTime;

    public static async Task EachReminderArrivesOnceAsync(DatabaseProvider provider)
    {
        using var smtp = new TestSmtpServer();
        using var a = new ReminderFactory(smtp) { ProviderOverride = provider };
        a.CreateClient().Dispose();
        using var b = new ReminderFactory(smtp) { ProviderOverride = provider, SharesDatabaseWith = a };
        b.CreateClient().Dispose();

        double[] expiresInDays = [0.5, 3, 10, 20, 35, 40];
        for (var i = 0; i < 24; i++)
        {
            await a.AddKeyAsync($"Shared key {i:D2}", Start.AddDays(expiresInDays[i % expiresInDays.Length]).AddMinutes(i));
        }

        double[] steps = [0, 2, 6, 9.5, 15, 19.5, 26, 34.5, 39.5, 41];
        foreach (var (day, index) in steps.Select((d, i) => (d, i)))
        {
            ReminderKeys.SetTime(Start.AddDays(day), a, b);
            if (index == 2)
            {
                smtp.RefuseNext = 3; // whichever instance sends them, three sends fail and are retried at a later scan
            }

            await Task.WhenAll(a.ScanAsync(), b.ScanAsync(), a.ScanAsync(), b.ScanAsync());
        }

        Assert.Equal(3, smtp.Refused);
        var received = smtp.Received.ToList();
        var duplicates = received.GroupBy(m => m.Message.MessageId).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.Empty(duplicates);
        var rows = await a.WithDbAsync(db => db.KeyReminders.AsNoTracking().ToListAsync());
        Assert.All(rows, r => Assert.NotNull(r.SentAtUtc));
        Assert.Equal(rows.Count, received.Count);
        // 24 keys and the demo's "Vendor import script" went through 30, 7 and 1 day and expiry where their clocks allowed:
        // at least one reminder of each threshold, and the retried ones among them.
        Assert.Equal(4, rows.Select(r => r.Threshold).Distinct().Count());
        Assert.Contains(rows, r => r.Attempts > 1);
        Assert.True(received.Count >= 60, $"Only {received.Count} reminders were sent.");
    }
}

public sealed class TwoInstanceReminderTests
{
    [Fact]
    public Task TwoInstances_OnOneSqliteDatabase_SendEachReminderOnce() =>
        TwoInstanceReminders.EachReminderArrivesOnceAsync(DatabaseProvider.Sqlite);
}

[Trait("Category", TestDatabase.PostgresOnly)]
public sealed class TwoInstancePostgresReminderTests
{
    [PostgresFact]
    public Task TwoInstances_OnOnePostgresDatabase_SendEachReminderOnce() =>
        TwoInstanceReminders.EachReminderArrivesOnceAsync(DatabaseProvider.Postgres);
}
