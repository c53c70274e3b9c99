using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Utils;

namespace PleoKeys.Web.Reminders;

/// <summary>Hands an email over for delivery. Throws when it was not accepted; the caller retries later.</summary>
public interface IMailSender
{
    Task SendAsync(MimeMessage message, CancellationToken ct);
}

/// <summary>
/// Sends over SMTP with MailKit (<c>Email:Smtp:*</c>): one connection per email, which suits a handful of
/// reminders an hour and leaves no idle connection for the server to drop.
/// </summary>
public sealed class SmtpMailSender(IOptions<EmailOptions> options) : IMailSender
{
    /// <summary>Connect, each command and the data transfer each give up after this long (MailKit's default is 2 minutes).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public async Task SendAsync(MimeMessage message, CancellationToken ct)
    {
        var smtp = options.Value.Smtp;
        using var client = new SmtpClient { Timeout = (int)Timeout.TotalMilliseconds };
        // Port 465 is TLS from the first byte (RFC 8314); any other port upgrades with STARTTLS, required, not "if offered".
        var security = !smtp.UseTls ? SecureSocketOptions.None
            : smtp.Port == 465 ? SecureSocketOptions.SslOnConnect
            : SecureSocketOptions.StartTls;
        await client.ConnectAsync(smtp.Host ?? throw new InvalidOperationException("Email:Smtp:Host is empty."), smtp.Port, security, ct);
        if (!string.IsNullOrWhiteSpace(smtp.UserName))
        {
            await client.AuthenticateAsync(smtp.UserName, smtp.Password ?? "", ct);
        }

        await client.SendAsync(message, ct);
        await client.DisconnectAsync(quit: true, ct);
    }
}

/// <summary>
/// Without an SMTP host (the default), writes each email as an <c>.eml</c> file to <c>Email:PickupDirectory</c>
/// and logs its subject, so the app runs with nothing else installed. Any mail client opens the files.
/// </summary>
public sealed class PickupFolderMailSender(IOptions<EmailOptions> options, IHostEnvironment environment, ILogger<PickupFolderMailSender> logger) : IMailSender
{
    public async Task SendAsync(MimeMessage message, CancellationToken ct)
    {
        var folder = Path.Combine(environment.ContentRootPath, options.Value.PickupDirectory);
        Directory.CreateDirectory(folder);
        // The Message-Id is the reminder's own (ExpiryReminders), so a retried write replaces the file, never adds one.
        var name = string.Concat((message.MessageId ?? MimeUtils.GenerateMessageId()).Split(Path.GetInvalidFileNameChars())) + ".eml";
        var path = Path.Combine(folder, name);
        // Written aside and moved into place, so a mail client or a watcher never opens a half-written file.
        var partial = path + ".partial";
        await message.WriteToAsync(partial, ct);
        File.Move(partial, path, overwrite: true);
        logger.LogInformation("Email \"{Subject}\" to {RecipientCount} recipient(s) written to {Path}", message.Subject, message.To.Count, path);
    }
}
