using System.Net;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Pages;

/// <summary>Deleting a key: confirmation, who may, what is not found, antiforgery, audit.</summary>
public sealed class DeleteKeyTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    private static string ConfirmationText(string name) => $"Delete API key “{name}”? Integrations using it stop working immediately.";

    /// <summary>Follows the list row and the Delete button to the confirmation page, as a user without JavaScript does.</summary>
    private static async Task<AngleSharp.Html.Dom.IHtmlDocument> OpenConfirmationAsync(HttpClient client, string name)
    {
        var list = await client.GetDocumentAsync("/Settings/ApiKeys?q=" + Uri.EscapeDataString(name));
        var details = await client.GetDocumentAsync(list.QuerySelector("table.keys tbody tr a")!.GetAttribute("href")!);
        // Without script the Delete button submits a GET form to the confirmation page.
        var deleteForm = details.QuerySelectorAll("main form[method=get]").Single(f => f.QuerySelector("button").Text() == "Delete");
        return await client.GetDocumentAsync(deleteForm.GetAttribute("action")!);
    }

    /// <summary>An entity key of Nordic Coffee AB, made by the organisation admin after switching to it.</summary>
    private async Task<ApiKey> KeyOfNordicCoffeeAbAsync()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SwitchCompanyAsync(DemoData.NordicCoffeeAbId)).StatusCode);
        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName("Swedish key"));
        var row = await factory.KeyRowAsync(key);
        Assert.Equal(DemoData.NordicCoffeeAbId, row.CompanyId);
        return row;
    }

    private async Task AssertNotDeletedAsync(string key)
    {
        Assert.Null((await factory.KeyRowAsync(key)).DeletedAtUtc);
        Assert.Equal(HttpStatusCode.OK, (await factory.NewClient().ApiGetAsync("/v1/installations/me", key)).StatusCode);
    }

    [Theory]
    [InlineData(DemoData.Admin)]
    [InlineData(DemoData.Bookkeeper)]
    public async Task Delete_ConfirmedByAdminOrBookkeeper_RemovesTheKeyAndStopsIt(string email)
    {
        var name = PageHelpers.UniqueName("To delete");
        var key = await (await factory.SignedInClientAsync(DemoData.Admin)).CreateKeyAsync(name);
        var client = await factory.SignedInClientAsync(email);
        // In use before the deletion, so the verifier has it cached: deletion must still bite at once.
        Assert.Equal(HttpStatusCode.OK, (await factory.NewClient().ApiGetAsync("/v1/installations/me", key)).StatusCode);

        var confirmation = await OpenConfirmationAsync(client, name);
        Assert.Contains(ConfirmationText(name), confirmation.Form().Text(), StringComparison.Ordinal);
        Assert.Equal("Delete", confirmation.Form().QuerySelector("button[type=submit]").Text());
        var response = await client.SubmitAsync(confirmation.Form());

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/Settings/ApiKeys", response.Headers.Location!.OriginalString);
        var list = await client.GetDocumentAsync("/Settings/ApiKeys");
        Assert.Contains($"API key “{name}” was deleted.", list.QuerySelector("main [role=status]").Text(), StringComparison.Ordinal);
        Assert.DoesNotContain(name, list.KeyNames());
        var row = await factory.KeyRowAsync(key);
        Assert.NotNull(row.DeletedAtUtc);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/Settings/ApiKeys/Details/{row.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.NewClient().ApiGetAsync("/v1/installations/me", key)).StatusCode);
    }

    [Fact]
    public async Task Delete_FromTheDetailsDialog_RemovesTheKey()
    {
        var client = await factory.SignedInClientAsync(DemoData.Bookkeeper);
        var name = PageHelpers.UniqueName("Dialog");
        var key = await client.CreateKeyAsync(name);
        var row = await factory.KeyRowAsync(key);

        var details = await client.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}");
        var dialog = details.Form("dialog form");
        Assert.Contains(ConfirmationText(name), dialog.Text(), StringComparison.Ordinal);
        var response = await client.SubmitAsync(dialog);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.NotNull((await factory.KeyRowAsync(key)).DeletedAtUtc);
    }

    [Fact]
    public async Task Delete_ConfirmationNamesTheKeyEncoded()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var name = "<script>alert(1)</script> " + Guid.NewGuid().ToString("N")[..8];
        await client.CreateKeyAsync(name);

        var confirmation = await OpenConfirmationAsync(client, name);

        Assert.Contains(ConfirmationText(name), confirmation.Form().Text(), StringComparison.Ordinal);
        Assert.Empty(confirmation.QuerySelectorAll("main script"));
    }

    [Fact]
    public async Task Delete_WithoutAntiforgeryToken_IsRejected()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await client.CreateKeyAsync(PageHelpers.UniqueName("Forged"));
        var row = await factory.KeyRowAsync(key);

        var bare = await client.PostAsync($"/Settings/ApiKeys/Delete/{row.Id}", new FormUrlEncodedContent([]));
        var forged = await client.PostAsync($"/Settings/ApiKeys/Delete/{row.Id}",
            new FormUrlEncodedContent([new("__RequestVerificationToken", "CfDJ8forged")]));

        Assert.Equal(HttpStatusCode.BadRequest, bare.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        await AssertNotDeletedAsync(key);
    }

    [Fact]
    public async Task Delete_WithAnotherUsersToken_IsRejected()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var bookkeeper = await factory.SignedInClientAsync(DemoData.Bookkeeper);
        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName("Cross-user"));
        var row = await factory.KeyRowAsync(key);
        var bookkeepersToken = await bookkeeper.AntiforgeryTokenAsync();

        var response = await admin.PostAsync($"/Settings/ApiKeys/Delete/{row.Id}",
            new FormUrlEncodedContent([new("__RequestVerificationToken", bookkeepersToken)]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await AssertNotDeletedAsync(key);
    }

    public static TheoryData<string> Requests => new() { "GET details", "GET delete", "POST delete" };

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string request, Guid id) => request switch
    {
        "GET details" => await client.GetAsync($"/Settings/ApiKeys/Details/{id}"),
        "GET delete" => await client.GetAsync($"/Settings/ApiKeys/Delete/{id}"),
        _ => await client.PostWithTokenAsync($"/Settings/ApiKeys/Delete/{id}"),
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task KeyOfAnotherCompany_IsNotFound_LikeAKeyThatDoesNotExist(string request)
    {
        var swedish = await KeyOfNordicCoffeeAbAsync();
        var bookkeeper = await factory.SignedInClientAsync(DemoData.Bookkeeper);
        var adminInAps = await factory.SignedInClientAsync(DemoData.Admin);

        var missing = await SendAsync(bookkeeper, request, Guid.NewGuid());
        var notTheirs = await SendAsync(bookkeeper, request, swedish.Id);
        var notThisCompany = await SendAsync(adminInAps, request, swedish.Id);

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, notTheirs.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, notThisCompany.StatusCode);
        var missingPage = await Html.ParseAsync(missing);
        var notTheirsPage = await Html.ParseAsync(notTheirs);
        Assert.Equal(missingPage.QuerySelector("main").Text(), notTheirsPage.QuerySelector("main").Text());
        Assert.DoesNotContain(swedish.Name, await notTheirs.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null((await factory.KeyRowByNameAsync(swedish.Name)).DeletedAtUtc);
    }

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task DeletedKey_IsNotFound(string request)
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await client.CreateKeyAsync(PageHelpers.UniqueName("Gone"));
        var row = await factory.KeyRowAsync(key);
        Assert.Equal(HttpStatusCode.Redirect, (await client.PostWithTokenAsync($"/Settings/ApiKeys/Delete/{row.Id}")).StatusCode);

        var response = await SendAsync(client, request, row.Id);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task CreateAndDelete_AreAuditedWithWhoWhichKeyAndWhen()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var bookkeeper = await factory.SignedInClientAsync(DemoData.Bookkeeper);
        var name = PageHelpers.UniqueName("Audited");
        var createdAt = factory.Time.GetUtcNow().UtcDateTime;
        var key = await admin.CreateKeyAsync(name);
        var row = await factory.KeyRowAsync(key);
        factory.Time.Advance(TimeSpan.FromMinutes(5));
        var deletedAt = factory.Time.GetUtcNow().UtcDateTime;
        var confirmation = await OpenConfirmationAsync(bookkeeper, name);
        Assert.Equal(HttpStatusCode.Redirect, (await bookkeeper.SubmitAsync(confirmation.Form())).StatusCode);

        var events = await factory.WithDbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.ApiKeyId == row.Id).OrderBy(e => e.Id).ToListAsync());

        var adminId = await factory.UserIdAsync(DemoData.Admin);
        var bookkeeperId = await factory.UserIdAsync(DemoData.Bookkeeper);
        var fingerprint = "pleo_test_" + TestKeys.KeyIdOf(key) + "_…" + key[^4..];
        Assert.Collection(events,
            created =>
            {
                Assert.Equal(AuditActions.KeyCreated, created.Action);
                Assert.Equal(createdAt, created.AtUtc);
                Assert.Equal(adminId, created.ActorUserId);
                Assert.Equal("Astrid Admin", created.ActorName);
                Assert.Equal(fingerprint, created.KeyFingerprint);
                Assert.Equal(DemoData.NordicCoffeeApSId, created.CompanyId);
            },
            deleted =>
            {
                Assert.Equal(AuditActions.KeyDeleted, deleted.Action);
                Assert.Equal(deletedAt, deleted.AtUtc);
                Assert.Equal(bookkeeperId, deleted.ActorUserId);
                Assert.Equal("Bo Bookkeeper", deleted.ActorName);
                Assert.Equal(fingerprint, deleted.KeyFingerprint);
                Assert.Equal(DemoData.NordicCoffeeApSId, deleted.CompanyId);
            });
        var stored = await factory.KeyRowAsync(key);
        Assert.Equal(deletedAt, stored.DeletedAtUtc);
        Assert.Equal(bookkeeperId, stored.DeletedByUserId);
    }

    [Fact]
    public async Task Details_ShowTheCreationInTheKeysHistory()
    {
        var client = await factory.SignedInClientAsync(DemoData.Bookkeeper);
        var key = await client.CreateKeyAsync(PageHelpers.UniqueName("History"));
        var row = await factory.KeyRowAsync(key);

        var details = await client.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}");

        Assert.Contains("Created by Bo Bookkeeper", details.QuerySelector("main ul.history").Text(), StringComparison.Ordinal);
    }
}
