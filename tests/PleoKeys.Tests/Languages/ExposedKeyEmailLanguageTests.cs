using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Api;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Languages;

/// <summary>Issue 16, "every email in the recipient's language": the Admins' email about a key reported as exposed.</summary>
public sealed class ExposedKeyEmailLanguageTests(UsageFactory factory) : IClassFixture<UsageFactory>
{
    [Fact]
    public async Task ExposedKeyEmail_ReachesAGermanAdminInGerman()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var profile = await admin.GetDocumentAsync("/Settings/Profile");
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SubmitAsync(profile.Form(), ("Input.Language", "de"))).StatusCode);
        var name = PageHelpers.UniqueName("Geleakt");
        var key = await admin.CreateKeyAsync(name);

        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/credential-revocations") { Content = JsonContent.Create(new { credentials = new[] { key } }) };
        request.Headers.Add(ClientAddressStartupFilter.Header, "203.0.113.81");
        Assert.Equal(HttpStatusCode.Accepted, (await factory.NewClient().SendAsync(request)).StatusCode);

        var until = DateTime.UtcNow.AddSeconds(10);
        MimeKit.MimeMessage? email = null;
        while (email is null && DateTime.UtcNow < until)
        {
            foreach (var file in Directory.Exists(factory.MailFolder) ? Directory.GetFiles(factory.MailFolder, "exposed-key*.de@*.eml") : [])
            {
                var message = await MimeKit.MimeMessage.LoadAsync(file);
                if (message.Subject?.Contains(name, StringComparison.Ordinal) == true)
                {
                    email = message;
                }
            }

            await Task.Delay(50);
        }

        Assert.NotNull(email);
        Assert.Equal($"API-Schlüssel \u2068{name}\u2069 wurde widerrufen: als offengelegt gemeldet", email!.Subject);
        Assert.Contains(email.To.Mailboxes, m => m.Address == DemoData.Admin);
        Assert.Contains("Er wurde sofort widerrufen", email.TextBody, StringComparison.Ordinal);
        Assert.Contains("<html lang=\"de\">", email.HtmlBody, StringComparison.Ordinal);
        Assert.Equal("de", await factory.WithDbAsync(db => db.Users.Where(u => u.Email == DemoData.Admin).Select(u => u.Language).SingleAsync()));
    }
}
