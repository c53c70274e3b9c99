using Microsoft.Extensions.Options;
using MimeKit;
using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Web.Reminders;

/// <summary>The <c>Email</c> configuration section: how the app sends email (expiry reminders).</summary>
public sealed class EmailOptions
{
    public const string Section = "Email";

    /// <summary>The SMTP server; with no <see cref="SmtpOptions.Host"/>, emails are written to <see cref="PickupDirectory"/>.</summary>
    public SmtpOptions Smtp { get; set; } = new();

    /// <summary>The From address, with or without a display name: <c>PleoKeys &lt;no-reply@example.com&gt;</c>.</summary>
    public string From { get; set; } = "PleoKeys <no-reply@pleokeys.example>";

    /// <summary>How often each instance looks for reminders to send (and failed sends to retry).</summary>
    public TimeSpan ReminderScanInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Without an SMTP host, the folder the emails are written to as <c>.eml</c> files (relative to the app's
    /// content root; git-ignored).
    /// </summary>
    public string PickupDirectory { get; set; } = "mail-outbox";
}

public sealed class SmtpOptions
{
    /// <summary>Empty (the default): no SMTP; emails go to <see cref="EmailOptions.PickupDirectory"/>.</summary>
    public string? Host { get; set; }

    /// <summary>587 (submission with STARTTLS) by default; 465 is TLS from the first byte.</summary>
    public int Port { get; set; } = 587;

    /// <summary>
    /// True: TLS is required (STARTTLS, or TLS on connect on port 465) and the server's certificate is checked.
    /// False: plain SMTP, for a local test server such as smtp4dev.
    /// </summary>
    public bool UseTls { get; set; } = true;

    /// <summary>Empty: no authentication.</summary>
    public string? UserName { get; set; }

    public string? Password { get; set; }
}

/// <summary>Checks the <c>Email</c> section at start, each message naming the setting to fix.</summary>
public sealed class EmailOptionsValidator : IValidateOptions<EmailOptions>
{
    /// <summary>PeriodicTimer takes at most 2^32 - 2 milliseconds.</summary>
    private static readonly TimeSpan MaxInterval = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    public ValidateOptionsResult Validate(string? name, EmailOptions options)
    {
        var errors = new List<string>();
        if (options.Smtp.Port is < 1 or > 65535)
        {
            errors.Add($"Email:Smtp:Port must be between 1 and 65535 (it is {options.Smtp.Port}).");
        }

        if (!MailboxAddress.TryParse(options.From, out var from) || !from.Address.Contains('@', StringComparison.Ordinal))
        {
            errors.Add($"Email:From must be an email address, such as \"PleoKeys <no-reply@example.com>\" (it is \"{options.From}\").");
        }

        if (options.ReminderScanInterval <= TimeSpan.Zero || options.ReminderScanInterval > MaxInterval)
        {
            errors.Add($"Email:ReminderScanInterval must be a positive time span of at most 49 days, such as 01:00:00 (it is {options.ReminderScanInterval}).");
        }

        if (!string.IsNullOrEmpty(options.Smtp.Password) && string.IsNullOrWhiteSpace(options.Smtp.UserName))
        {
            errors.Add("Email:Smtp:Password is set but Email:Smtp:UserName is empty; set both, or neither for a server without authentication.");
        }

        if (string.IsNullOrWhiteSpace(options.Smtp.Host) && string.IsNullOrWhiteSpace(options.PickupDirectory))
        {
            errors.Add("Email:PickupDirectory must name a folder when Email:Smtp:Host is empty (emails are written there).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
