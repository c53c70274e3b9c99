using System.Globalization;
using System.Text.Encodings.Web;
using Microsoft.Extensions.Localization;
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

    /// <summary>The subject in <paramref name="t"/>'s language (the current UI culture's), English by default.</summary>
    public static string Subject(ReminderThreshold threshold, string keyName, IStringLocalizer? t = null) =>
        Headline(t ?? Default, threshold, Isolate + keyName + EndIsolate);

    /// <summary>
    /// The reminder in the current UI culture's language (the caller sets it to the recipients' language, see
    /// <see cref="AppCultures.With{T}"/>): <paramref name="t"/> is the app's localizer, English when none is given.
    /// </summary>
    public static MimeMessage Compose(
        ReminderKey key, ReminderThreshold threshold, MailboxAddress from, IEnumerable<MailboxAddress> to, string publicBaseUrl,
        IStringLocalizer? t = null)
    {
        t ??= Default;
        var zone = TimeZoneInfo.FindSystemTimeZoneById(key.CompanyTimeZoneId);
        var lastDay = Expiry.LastDay(key.ExpiresAtUtc, zone);
        // The long date's pattern is part of the language ("torsdag den 3. december 2026"), so it is a resource too.
        var date = lastDay.ToString(t["dddd d MMMM yyyy"], CultureInfo.CurrentCulture);
        string expiry = threshold == ReminderThreshold.Expired
            ? t["stopped working at the end of {0} ({1} time), {2}", date, key.CompanyTimeZoneId, Instant(key.ExpiresAtUtc)]
            : t["works through {0} ({1} time) and stops at {2}", date, key.CompanyTimeZoneId, Instant(key.ExpiresAtUtc)];
        string lastUse = key.LastUsedAtUtc is { } used ? Instant(used) : t["never used (email)"];
        var renew = RenewUrl(publicBaseUrl, key.Id).AbsoluteUri;
        string action = threshold == ReminderThreshold.Expired
            ? t["Integrations using it are refused. Renew it to issue a new key with the same name, scopes and access level:"]
            : t["Renew it before then to issue a replacement with the same name, scopes and access level, and move your integration to the new key:"];
        string renewLabel = t["Renew"];

        (string Label, string Value)[] facts =
        [
            (t["Key"], Isolate + key.Name + EndIsolate),
            (t["Fingerprint"], key.Fingerprint),
            (t["Company"], Isolate + key.CompanyName + EndIsolate),
            (t["Expiry"], expiry),
            (t["Last used"], lastUse),
        ];
        // The labels line up in a fixed-width font whatever their length in this language.
        var width = facts.Max(f => f.Label.Length) + 2;
        var lines = string.Join("\n", facts.Select(f => (f.Label + ":").PadRight(width) + f.Value));
        var text = $"""
            {Headline(t, threshold, Isolate + key.Name + EndIsolate)}.

            {lines}

            {action}
            {renewLabel}: {renew}

            {t["You receive this as an Admin or Bookkeeper of {0}.", Isolate + key.CompanyName + EndIsolate]}
            """;

        var h = HtmlEncoder.Default;
        var name = $"<bdi>{h.Encode(key.Name)}</bdi>";
        var company = $"<bdi>{h.Encode(key.CompanyName)}</bdi>";
        const string th = "<th scope=\"row\" style=\"text-align: left; padding-right: 1em;\">";
        var html = $"""
            <!DOCTYPE html>
            <html lang="{h.Encode(CultureInfo.CurrentUICulture.Name)}">
            <head><meta charset="utf-8"><title>{h.Encode(Subject(threshold, key.Name, t))}</title></head>
            <body style="font-family: system-ui, sans-serif; line-height: 1.5; color: #1a1a1a;">
            <p>{Headline(t, threshold, name, h)}.</p>
            <table role="presentation" style="border-collapse: collapse;">
            <tr>{th}{h.Encode(facts[0].Label)}</th><td>{name}</td></tr>
            <tr>{th}{h.Encode(facts[1].Label)}</th><td><code>{h.Encode(key.Fingerprint)}</code></td></tr>
            <tr>{th}{h.Encode(facts[2].Label)}</th><td>{company}</td></tr>
            <tr>{th}{h.Encode(facts[3].Label)}</th><td>{h.Encode(expiry)}</td></tr>
            <tr>{th}{h.Encode(facts[4].Label)}</th><td>{h.Encode(lastUse)}</td></tr>
            </table>
            <p>{h.Encode(action)}</p>
            <p><a href="{h.Encode(renew)}" style="display: inline-block; padding: 0.5em 1.2em; background: #1a1a1a; color: #fff; text-decoration: none; border-radius: 4px;">{h.Encode(renewLabel)}</a></p>
            <p style="color: #555; font-size: 0.9em;">{h.Encode(t["You receive this as an Admin or Bookkeeper of {0}.", "\u0001"]).Replace("\u0001", company, StringComparison.Ordinal)}</p>
            </body>
            </html>
            """;

        var message = new MimeMessage();
        message.From.Add(from);
        message.To.AddRange(to);
        message.Subject = Subject(threshold, key.Name, t);
        message.MessageId = MessageId(key.Id, threshold, publicBaseUrl);
        message.Body = new BodyBuilder { TextBody = text, HtmlBody = html }.ToMessageBody();
        return message;
    }

    /// <summary>
    /// The first sentence; <paramref name="name"/> is already isolated (and encoded, for HTML: then the sentence around
    /// it is encoded with <paramref name="html"/>).
    /// </summary>
    private static string Headline(IStringLocalizer t, ReminderThreshold threshold, string name, HtmlEncoder? html = null)
    {
        // The name goes in after the sentence is encoded, so its markup (<bdi>) survives and the words are encoded once.
        const string slot = "\u0001";
        string sentence = threshold switch
        {
            ReminderThreshold.Expired => t["The API key {0} has expired", slot],
            // "Within": a key first seen 5 days before expiry gets the 7-day reminder, and the dates below are exact.
            ReminderThreshold.OneDay => t["The API key {0} expires within a day", slot],
            _ => t["The API key {0} expires within {1} days", slot, (int)threshold],
        };
        return (html is null ? sentence : html.Encode(sentence)).Replace(slot, name, StringComparison.Ordinal);
    }

    /// <summary>An instant in UTC, to the minute, in the language's date and time format.</summary>
    private static string Instant(DateTime utc) => utc.ToString("g", CultureInfo.CurrentCulture) + " UTC";

    /// <summary>The app's localizer for a caller without one (English unless the current UI culture says otherwise).</summary>
    private static IStringLocalizer Default => _default ??= new ResourceManagerStringLocalizerFactory(
            Microsoft.Extensions.Options.Options.Create(new LocalizationOptions { ResourcesPath = "Resources" }),
            Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance)
        .Create(typeof(SharedResource));

    private static IStringLocalizer? _default;

}
