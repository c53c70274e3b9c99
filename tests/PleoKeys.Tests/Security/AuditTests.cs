using System.Net;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Security;

/// <summary>Who did what to which key, when and from where; never the secret; and rows are never changed.</summary>
public sealed class AuditTests(ClientAddressFactory factory) : IClassFixture<ClientAddressFactory>
{
    private async Task<HttpClient> SignInFromAsync(string address, string email)
    {
        var client = factory.ClientFrom(address);
        var page = await client.GetDocumentAsync("/Account/Login");
        var response = await client.SubmitAsync(page.Form(), ("Input.Email", email), ("Input.Password", DemoData.Password));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return client;
    }

    [Fact]
    public async Task SignInCreateAndDelete_AreRecordedWithWhoWhenWhereAndWhichKey_NeverTheSecret()
    {
        var admin = await SignInFromAsync("10.9.0.1", DemoData.Admin);
        var key = await admin.CreateKeyAsync("Audited key");
        var id = await factory.NewClient().KeyRowIdAsync(key);
        var details = await admin.GetStringAsync($"/Settings/ApiKeys/Details/{id}");
        var deletePage = await admin.GetDocumentAsync($"/Settings/ApiKeys/Delete/{id}");
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SubmitAsync(deletePage.Form())).StatusCode);

        var user = await factory.WithDbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Email == DemoData.Admin));
        var events = await factory.WithDbAsync(db => db.AuditEvents.AsNoTracking().ToListAsync());
        ApiKeyFormat.TryParse(key, out var parsed);

        var signIn = Assert.Single(events, e => e.Action == AuditActions.SignedIn && e.IpAddress == "10.9.0.1");
        Assert.Equal(user.Id, signIn.ActorUserId);
        foreach (var action in new[] { AuditActions.KeyCreated, AuditActions.KeyDeleted })
        {
            var e = Assert.Single(events, e => e.Action == action && e.ApiKeyId == id);
            Assert.Equal(user.Id, e.ActorUserId);
            Assert.Equal("Astrid Admin", e.ActorName);
            Assert.Equal("10.9.0.1", e.IpAddress);
            Assert.Equal(DemoData.NordicCoffeeApSId, e.CompanyId);
            Assert.Equal(parsed!.ToString(), e.KeyFingerprint);
            Assert.Equal(PleoKeysFactory.Start.UtcDateTime, e.AtUtc);
        }

        // No column of any audit row holds a key or its secret part.
        var secret = key[(ApiKeyFormat.PrefixLength + ApiKeyFormat.KeyIdLength + 1)..^ApiKeyFormat.ChecksumLength];
        Assert.All(events, e => Assert.DoesNotContain(secret, $"{e.Action}|{e.ActorUserId}|{e.ActorName}|{e.IpAddress}|{e.KeyFingerprint}|{e.Detail}", StringComparison.Ordinal));

        // The key's details page shows its own history.
        // The actor's name is isolated, like every name inside the app's own text.
        Assert.Contains("Created by <bdi class=\"name\">Astrid Admin</bdi> from 10.9.0.1", details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditRows_CannotBeUpdatedOrDeleted_ThroughTheContextOrBulkOrRawSql()
    {
        await SignInFromAsync("10.9.0.2", DemoData.Bookkeeper);
        var count = await factory.WithDbAsync(db => db.AuditEvents.CountAsync());

        await factory.WithDbAsync<bool>(async db =>
        {
            var row = await db.AuditEvents.FirstAsync();
            row.Detail = "rewritten";
            await Assert.ThrowsAsync<InvalidOperationException>(() => db.SaveChangesAsync());
            Assert.Throws<InvalidOperationException>(() => db.SaveChanges());
            return true;
        });
        await factory.WithDbAsync<bool>(async db =>
        {
            db.AuditEvents.Remove(await db.AuditEvents.FirstAsync());
            await Assert.ThrowsAsync<InvalidOperationException>(() => db.SaveChangesAsync());
            return true;
        });
        await factory.WithDbAsync<bool>(async db =>
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => db.AuditEvents.ExecuteUpdateAsync(s => s.SetProperty(e => e.Detail, "rewritten")));
            await Assert.ThrowsAsync<InvalidOperationException>(() => db.AuditEvents.Where(e => e.Id > 0).ExecuteDeleteAsync());
            await Assert.ThrowsAsync<InvalidOperationException>(() => db.Database.ExecuteSqlRawAsync("DELETE FROM AuditEvents"));
            await Assert.ThrowsAsync<InvalidOperationException>(() => db.Database.ExecuteSqlRawAsync("update \"AuditEvents\" set \"Detail\" = 'x'"));
            return true;
        });

        Assert.Equal(count, await factory.WithDbAsync(db => db.AuditEvents.CountAsync()));
        Assert.Equal(0, await factory.WithDbAsync(db => db.AuditEvents.CountAsync(e => e.Detail == "rewritten" || e.Detail == "x")));
        // Adding is still allowed: the trail grows.
        await factory.WithDbAsync(async db =>
        {
            db.AuditEvents.Add(new AuditEvent { AtUtc = PleoKeysFactory.Start.UtcDateTime, Action = "test.appended" });
            return await db.SaveChangesAsync();
        });
        Assert.Equal(count + 1, await factory.WithDbAsync(db => db.AuditEvents.CountAsync()));
    }
}
