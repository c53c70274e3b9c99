using System.Net;
using AngleSharp.Html.Parser;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Reminders;

/// <summary>
/// Issue 16: an email goes out in its recipient's language. The demo Bookkeeper chooses Danish under Settings →
/// Profile; the next expiry reminder reaches them in Danish and the Admin, who chose nothing, in English, each through
/// the real SMTP server.
/// </summary>
public sealed class ReminderLanguageTests : IDisposable
{
    private readonly TestSmtpServer _smtp = new();
    private readonly ReminderFactory _app;

    public ReminderLanguageTests()
    {
        _app = new ReminderFactory(_smtp);
        _app.CreateClient().Dispose();
    }

    public void Dispose()
    {
        _app.Dispose();
        _smtp.Dispose();
    }

    [Fact]
    public async Task ExpiryReminder_ReachesEachRecipientInTheirOwnLanguage()
    {
        var bookkeeper = await _app.SignedInClientAsync(DemoData.Bookkeeper);
        var profile = await bookkeeper.GetDocumentAsync("/Settings/Profile");
        Assert.Equal(HttpStatusCode.Redirect, (await bookkeeper.SubmitAsync(profile.Form(), ("Input.Language", "da"))).StatusCode);

        await _app.ScanAsync();

        var mails = _smtp.For("Vendor import script");
        Assert.Equal(2, mails.Count);
        var danish = Assert.Single(mails, m => m.EnvelopeTo.SequenceEqual([DemoData.Bookkeeper]));
        var english = Assert.Single(mails, m => m.EnvelopeTo.SequenceEqual([DemoData.Admin]));

        Assert.Equal("The API key \u2068Vendor import script\u2069 expires within 7 days", english.Message.Subject);
        Assert.Equal("API-nøglen \u2068Vendor import script\u2069 udløber inden for 7 dage", danish.Message.Subject);
        Assert.NotEqual(english.Message.MessageId, danish.Message.MessageId);

        // The demo key expires at the end of Tuesday 1 December 2026 in Copenhagen (23:00 UTC), in Danish words and formats.
        Assert.Contains("virker til og med tirsdag den 1. december 2026 (tidszone Europe/Copenhagen) og stopper 01.12.2026 23.00 UTC", danish.Text, StringComparison.Ordinal);
        Assert.Contains("Du modtager denne e-mail som administrator eller bogholder i \u2068Nordic Coffee ApS\u2069.", danish.Text, StringComparison.Ordinal);
        Assert.Contains("works through Tuesday 1 December 2026 (Europe/Copenhagen time) and stops at 2026-12-01 23:00 UTC", english.Text, StringComparison.Ordinal);

        var html = new HtmlParser().ParseDocument(danish.Html);
        Assert.Equal("da", html.DocumentElement.GetAttribute("lang"));
        var renew = html.QuerySelectorAll("a").Single(a => a.TextContent.Trim() == "Forny");
        Assert.Equal(danish.RenewHrefFor("Forny"), renew.GetAttribute("href"));
        Assert.Equal("en", new HtmlParser().ParseDocument(english.Html).DocumentElement.GetAttribute("lang"));
        Assert.Equal(english.RenewHref, renew.GetAttribute("href"));
    }
}
