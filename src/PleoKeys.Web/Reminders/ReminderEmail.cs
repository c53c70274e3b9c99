using System.Globalization;
using System.Text.Encodings.Web;
using MimeKit;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Reminders;

/// <summary>What a reminder says about its key.</summary>
public sealed record ReminderKey(
    Guid Id,
    string Name,
    string Fingerprint,
    string CompanyName,
    string CompanyTimeZoneId,
    DateTime ExpiresAtUtc,
    DateTime? LastUsedAtUtc);

/// <summary>Composes an expiry reminder: a plain-text part and a simple HTML part with the same words and link.</summary>
public static class ReminderEmail
{
    // Unicode's first-strong isolate and pop directional isolate: the plain-text twin of <bdi>, so a name written
    // right to left (or holding direction marks) cannot reorder the words around it.
    private const char Isolate = '\u2068';
    private const char EndIsolate = '\u2069';

    /// <summary>The page that renews (rolls) the key: <c>{PleoKeys:PublicBaseUrl}/Settings/ApiKeys/Roll/{id}</c>.</summary>
    public static Uri RenewUrl(string publicBaseUrl, Guid keyId) =>
        new($"{publicBaseUrl.TrimEnd('/')}/Settings/ApiKeys/Roll/{keyId}");

    /// <summary>
    /// The email's Message-Id, the same for every attempt at one reminder: if a send is repeated after a crash (see
    /// README, Expiry reminders), mail systems that drop duplicate Message-Ids show it once.
    /// </summary>
    public static string MessageId(Guid keyId, ReminderThreshold threshold, string publicBaseUrl) =>
        $"expiry-reminder.{keyId:N}.{(int)threshold}d@{new Uri(publicBaseUrl).Host}";

    public static string Subject(ReminderThreshold threshold, string keyName) =>
        Headline(threshold, Isolate + keyName + EndIsolate);

    public static MimeMessage Compose(
        ReminderKey key, ReminderThreshold threshold, MailboxAddress from, IEnumerable<MailboxAddress> to, string publicBaseUrl)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(key.CompanyTimeZoneId);
        var lastDay = Expiry.LastDay(key.ExpiresAtUtc, zone);
        var expiry = threshold == ReminderThreshold.Expired
            ? $"stopped working at the end of {Date(lastDay)} ({key.CompanyTimeZoneId} time), {Instant(key.ExpiresAtUtc)}"
            : $"works through {Date(lastDay)} ({key.CompanyTimeZoneId} time) and stops at {Instant(key.ExpiresAtUtc)}";
        var lastUse = key.LastUsedAtUtc is { } used ? Instant(used) : "never used";
        var renew = RenewUrl(publicBaseUrl, key.Id).AbsoluteUri;
        var action = threshold == ReminderThreshold.Expired
            ? "Integrations using it are refused. Renew it to issue a new key with the same name, scopes and access level:"
            : "Renew it before then to issue a replacement with the same name, scopes and access level, and move your integration to the new key:";

        var text = $"""
            {Headline(threshold, Isolate + key.Name + EndIsolate)}.

            Key:         {Isolate}{key.Name}{EndIsolate}
            Fingerprint: {key.Fingerprint}
            Company:     {Isolate}{key.CompanyName}{EndIsolate}
            Expiry:      {expiry}
            Last used:   {lastUse}

            {action}
            Renew: {renew}

            You receive this as an Admin or Bookkeeper of {Isolate}{key.CompanyName}{EndIsolate}.
            """;

        var h = HtmlEncoder.Default;
        var name = $"<bdi>{h.Encode(key.Name)}</bdi>";
        var company = $"<bdi>{h.Encode(key.CompanyName)}</bdi>";
        var html = $"""
            <!DOCTYPE html>
            <html lang="en">
            <head><meta charset="utf-8"><title>{h.Encode(Subject(threshold, key.Name))}</title></head>
            <body style="font-family: system-ui, sans-serif; line-height: 1.5; color: #1a1a1a;">
            <p>{Headline(threshold, name)}.</p>
            <table role="presentation" style="border-collapse: collapse;">
            <tr><th scope="row" style="text-align: left; padding-right: 1em;">Key</th><td>{name}</td></tr>
            <tr><th scope="row" style="text-align: left; padding-right: 1em;">Fingerprint</th><td><code>{h.Encode(key.Fingerprint)}</code></td></tr>
            <tr><th scope="row" style="text-align: left; padding-right: 1em;">Company</th><td>{company}</td></tr>
            <tr><th scope="row" style="text-align: left; padding-right: 1em;">Expiry</th><td>{h.Encode(expiry)}</td></tr>
            <tr><th scope="row" style="text-align: left; padding-right: 1em;">Last used</th><td>{h.Encode(lastUse)}</td></tr>
            </table>
            <p>{h.Encode(action)}</p>
            <p><a href="{h.Encode(renew)}" style="display: inline-block; padding: 0.5em 1.2em; background: #1a1a1a; color: #fff; text-decoration: none; border-radius: 4px;">Renew</a></p>
            <p style="color: #555; font-size: 0.9em;">You receive this as an Admin or Bookkeeper of {company}.</p>
            </body>
            </html>
            """;

        var message = new MimeMessage();
        message.From.Add(from);
        message.To.AddRange(to);
        message.Subject = Subject(threshold, key.Name);
        message.MessageId = MessageId(key.Id, threshold, publicBaseUrl);
        message.Body = new BodyBuilder { TextBody = text, HtmlBody = html }.ToMessageBody();
        return message;
    }

    /// <summary>The first sentence; <paramref name="name"/> is already isolated (and encoded, for HTML).</summary>
    private static string Headline(ReminderThreshold threshold, string name) => threshold switch
    {
        ReminderThreshold.Expired => $"The API key {name} has expired",
        // "Within": a key first seen 5 days before expiry gets the 7-day reminder, and the dates below are exact.
        ReminderThreshold.OneDay => $"The API key {name} expires within a day",
        _ => $"The API key {name} expires within {(int)threshold} days",
    };

    private static string Date(DateOnly date) => date.ToString("dddd d MMMM yyyy", CultureInfo.InvariantCulture);

    private static string Instant(DateTime utc) => utc.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";
}
