using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using AngleSharp.Html.Parser;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MimeKit;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;
using PleoKeys.Web.Reminders;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace PleoKeys.Tests.Reminders;

/// <summary>An email the test SMTP server accepted: the envelope's recipients and the parsed message.</summary>
public sealed record ReceivedMail(IReadOnlyList<string> EnvelopeTo, MimeMessage Message)
{
    public string Text => Message.TextBody ?? "";

    public string Html => Message.HtmlBody ?? "";

    /// <summary>The href of the HTML part's Renew link.</summary>
    public string RenewHref => RenewHrefFor("Renew");

    /// <summary>The href of the HTML part's Renew link, in a language where the link reads <paramref name="label"/>.</summary>
    public string RenewHrefFor(string label) => new HtmlParser().ParseDocument(Html).QuerySelectorAll("a")
        .Single(a => a.TextContent.Trim() == label).GetAttribute("href")!;
}

/// <summary>
/// A real SMTP server in the test process (the SmtpServer package) on a free loopback port. It keeps what it
/// accepts, and refuses the next <see cref="RefuseNext"/> transactions with 554, as a failing server would.
/// </summary>
public sealed class TestSmtpServer : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly SmtpServer.SmtpServer _server;
    private readonly Task _running;
    private int _refuseNext;

    public TestSmtpServer()
    {
        Port = AppProcess.Ports(1)[0];
        var options = new SmtpServerOptionsBuilder()
            .ServerName("localhost")
            .Endpoint(e => e.Endpoint(new IPEndPoint(IPAddress.Loopback, Port)))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Store(this));
        _server = new SmtpServer.SmtpServer(options, services);
        _running = _server.StartAsync(_stop.Token);
        WaitUntilListening();
    }

    public int Port { get; }

    public ConcurrentQueue<ReceivedMail> Received { get; } = new();

    /// <summary>Transactions refused so far.</summary>
    public int Refused => Volatile.Read(ref _refusedCount);

    private int _refusedCount;

    /// <summary>The next this many emails are refused (554 transaction failed).</summary>
    public int RefuseNext
    {
        get => Volatile.Read(ref _refuseNext);
        set => Volatile.Write(ref _refuseNext, value);
    }

    /// <summary>The emails whose subject contains <paramref name="keyName"/>.</summary>
    public IReadOnlyList<ReceivedMail> For(string keyName) =>
        Received.Where(m => (m.Message.Subject ?? "").Contains(keyName, StringComparison.Ordinal)).ToList();

    /// <summary>Waits until at least <paramref name="count"/> emails have arrived (the background service runs on its own).</summary>
    public async Task WaitForAsync(int count, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (Received.Count < count)
        {
            if (DateTime.UtcNow > until)
            {
                throw new Xunit.Sdk.XunitException($"Expected {count} email(s), got {Received.Count}.");
            }

            await Task.Delay(25);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _server.Shutdown();
        try
        {
            _running.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException e) when (e.InnerExceptions.All(x => x is OperationCanceledException))
        {
            // Stopped, as asked.
        }

        _stop.Dispose();
    }

    private void WaitUntilListening()
    {
        for (var i = 0; i < 200; i++)
        {
            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(25);
            }
        }

        throw new InvalidOperationException($"The test SMTP server did not listen on port {Port}.");
    }

    private sealed class Store(TestSmtpServer owner) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(
            ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            if (Interlocked.Decrement(ref owner._refuseNext) >= 0)
            {
                Interlocked.Increment(ref owner._refusedCount);
                return SmtpResponse.TransactionFailed;
            }

            Interlocked.Exchange(ref owner._refuseNext, 0);
            await using var stream = new MemoryStream(buffer.ToArray());
            var message = await MimeMessage.LoadAsync(stream, cancellationToken);
            owner.Received.Enqueue(new ReceivedMail(transaction.To.Select(m => $"{m.User}@{m.Host}").ToList(), message));
            return SmtpResponse.Ok;
        }
    }
}

/// <summary>
/// The app sending its email to a <see cref="TestSmtpServer"/>, with links on https://keys.example.test. The
/// background scan is left out unless <see cref="RunBackgroundScan"/>: the tests run scans themselves, so each
/// step of the clock is followed by exactly the scans the test asks for.
/// </summary>
public class ReminderFactory(TestSmtpServer smtp) : PleoKeysFactory
{
    public const string PublicBaseUrl = "https://keys.example.test";

    public TestSmtpServer Smtp { get; } = smtp;

    public bool RunBackgroundScan { get; init; }

    public DatabaseProvider? ProviderOverride { get; init; }

    public override DatabaseProvider Provider => ProviderOverride ?? base.Provider;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Email:Smtp:Host"] = "127.0.0.1",
        ["Email:Smtp:Port"] = Smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Email:Smtp:UseTls"] = "false",
        ["Email:From"] = "PleoKeys <no-reply@keys.example.test>",
        ["PleoKeys:PublicBaseUrl"] = PublicBaseUrl,
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        if (!RunBackgroundScan)
        {
            builder.ConfigureTestServices(s =>
            {
                var scan = s.Single(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(ExpiryReminderService));
                s.Remove(scan);
            });
        }
    }

    /// <summary>One scan of this instance, as its background service runs it every Email:ReminderScanInterval.</summary>
    public Task<int> ScanAsync() => Services.GetRequiredService<ExpiryReminders>().RunOnceAsync();

    public static string RenewUrl(Guid keyId) => $"{PublicBaseUrl}/Settings/ApiKeys/Roll/{keyId}";
}

public static class ReminderKeys
{
    /// <summary>
    /// A key of <paramref name="companyId"/> (Nordic Coffee ApS if not given) created by the demo Admin, expiring at
    /// <paramref name="expiresAtUtc"/>; written straight to the database (its secret is thrown away: the reminders never need it).
    /// </summary>
    public static async Task<Guid> AddKeyAsync(this PleoKeysFactory factory, string name, DateTime expiresAtUtc, Guid? companyId = null)
    {
        var adminId = await factory.UserIdAsync(DemoData.Admin);
        var company = companyId ?? DemoData.NordicCoffeeApSId;
        var organisationId = await factory.WithDbAsync(db => db.Companies.Where(c => c.Id == company).Select(c => c.OrganisationId).SingleAsync());
        var key = ApiKeyFormat.Generate(KeyEnvironment.Staging);
        var row = new ApiKey
        {
            Id = Guid.NewGuid(),
            KeyId = key.KeyId,
            Environment = key.Environment,
            Last4 = key.Last4,
            SecretHash = "not-a-hash",
            Name = name,
            NormalizedName = name.ToUpperInvariant(),
            AccessLevel = AccessLevel.Company,
            CompanyId = company,
            OrganisationId = organisationId,
            Scopes = Scopes.VendorsRead,
            CreatedAtUtc = factory.Time.GetUtcNow().UtcDateTime,
            CreatedByUserId = adminId,
            CreatedByName = "Astrid Admin",
            ExpiresAtUtc = expiresAtUtc,
        };
        await factory.WithDbAsync(async db =>
        {
            db.ApiKeys.Add(row);
            return await db.SaveChangesAsync();
        });
        return row.Id;
    }

    public static Task<List<KeyReminder>> RemindersOfAsync(this PleoKeysFactory factory, Guid keyId) =>
        factory.WithDbAsync(db => db.KeyReminders.AsNoTracking().Where(r => r.ApiKeyId == keyId).ToListAsync());

    /// <summary>Sets the clock of every factory to <paramref name="at"/> (each instance has its own fake clock).</summary>
    public static void SetTime(DateTime at, params PleoKeysFactory[] factories)
    {
        foreach (var f in factories)
        {
            f.Time.SetUtcNow(new DateTimeOffset(at, TimeSpan.Zero));
        }
    }
}
