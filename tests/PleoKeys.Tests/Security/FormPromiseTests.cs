using System.Collections.Concurrent;
using System.Net;
using AngleSharp.Html.Dom;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Auth;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Security;

/// <summary>
/// Issue 11's page promises, replayed as an attacker, a double click or a second tab would: the key is shown
/// once whatever the client replays (1), one submission makes one key (5), a form acts on the company it showed (6),
/// one deletion writes one record (7).
/// </summary>
public abstract class FormPromiseContract<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : PleoKeysFactory
{
    private const string CreateUrl = "/Settings/ApiKeys/Create";

    protected TFactory Factory => factory;

    [Fact]
    public async Task Reveal_ReplayingWhatTheClientHeld_NeverShowsTheKeyAgain()
    {
        var (admin, jar) = await factory.SignedInClientWithCookiesAsync(DemoData.Admin);
        var (token, ticket) = await admin.FormTokensAsync(CreateUrl);
        var created = await admin.PostFormAsync(CreateUrl, PageHelpers.CreateFields(token, PageHelpers.UniqueName("Replay"), ticket: ticket));
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        var reveal = created.Headers.Location!.OriginalString;
        // Every cookie the client holds after the Create response (the old design kept the key in one of them).
        var held = jar.GetAllCookies();
        var key = ((IHtmlInputElement)(await admin.GetDocumentAsync(reveal)).QuerySelector("#new-key")!).Value;
        Assert.Equal(TestKeys.Length, key.Length);

        string[] urls = [reveal, "/Settings/ApiKeys/Reveal"];
        // The same session, replaying the cookies it held after Create: a reload, the back button, a second tab.
        foreach (var url in urls)
        {
            await AssertNoKeyAsync(await Browser(held).GetAsync(url), key, $"replayed cookies on {url}");
            await AssertNoKeyAsync(await admin.GetAsync(url), key, $"reload of {url}");
        }

        // Another member of the company (the Bookkeeper), with the Admin's cookies planted beside their own session.
        var (bookkeeper, bookkeeperJar) = await factory.SignedInClientWithCookiesAsync(DemoData.Bookkeeper);
        foreach (Cookie cookie in held)
        {
            if (cookie.Name != "pleokeys.auth")
            {
                bookkeeperJar.Add(cookie);
            }
        }

        foreach (var url in urls)
        {
            await AssertNoKeyAsync(await bookkeeper.GetAsync(url), key, $"the Bookkeeper on {url}");
        }

        // After signing out, the cookies held before.
        var logoutToken = await admin.AntiforgeryTokenAsync("/Settings");
        Assert.Equal(HttpStatusCode.Redirect, (await admin.PostFormAsync("/Account/Logout", [new("__RequestVerificationToken", logoutToken)])).StatusCode);
        foreach (var url in urls)
        {
            await AssertNoKeyAsync(await Browser(held).GetAsync(url), key, $"after signing out, on {url}");
        }
    }

    [Fact]
    public async Task Reveal_NotYetShown_CanBeTakenByOnlyOneOfManyConcurrentRequests()
    {
        var (admin, jar) = await factory.SignedInClientWithCookiesAsync(DemoData.Admin);
        var (token, ticket) = await admin.FormTokensAsync(CreateUrl);
        var created = await admin.PostFormAsync(CreateUrl, PageHelpers.CreateFields(token, PageHelpers.UniqueName("Race"), ticket: ticket));
        var held = jar.GetAllCookies();

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Browser(held).GetAsync(created.Headers.Location)));

        Assert.Equal(1, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
        Assert.Equal(7, answers.Count(a => a.StatusCode == HttpStatusCode.Gone));
    }

    [Fact]
    public async Task Reveal_ByAHeadRequest_IsRefused_AndLeftForTheGet()
    {
        var (admin, _) = await factory.SignedInClientWithCookiesAsync(DemoData.Admin);
        var (token, ticket) = await admin.FormTokensAsync(CreateUrl);
        var created = await admin.PostFormAsync(CreateUrl, PageHelpers.CreateFields(token, PageHelpers.UniqueName("Head"), ticket: ticket));

        var head = await admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, created.Headers.Location));
        var get = await admin.GetDocumentAsync(created.Headers.Location!.OriginalString);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, head.StatusCode);
        Assert.NotNull(get.QuerySelector("#new-key"));
    }

    [Fact]
    public async Task Reveal_ByTheSameUsersOtherSession_ShowsNoKey_AndLeavesItForTheCreatingSession()
    {
        var (creator, _) = await factory.SignedInClientWithCookiesAsync(DemoData.Admin);
        var (otherSession, _) = await factory.SignedInClientWithCookiesAsync(DemoData.Admin);
        var (token, ticket) = await creator.FormTokensAsync(CreateUrl);
        var created = await creator.PostFormAsync(CreateUrl, PageHelpers.CreateFields(token, PageHelpers.UniqueName("Other session"), ticket: ticket));

        var elsewhere = await otherSession.GetAsync(created.Headers.Location);
        var own = await creator.GetDocumentAsync(created.Headers.Location!.OriginalString);

        Assert.Equal(HttpStatusCode.Gone, elsewhere.StatusCode);
        Assert.NotNull(own.QuerySelector("#new-key"));
    }

    [Fact]
    public async Task Reveal_AfterTheSessionSwitchedCompany_StillShowsTheKeyOnce()
    {
        var (admin, _) = await factory.SignedInClientWithCookiesAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Switched before reveal");
        var (token, ticket) = await admin.FormTokensAsync(CreateUrl);
        var created = await admin.PostFormAsync(CreateUrl, PageHelpers.CreateFields(token, name, ticket: ticket));

        await admin.SwitchCompanyAsync(DemoData.NordicCoffeeAbId);
        var reveal = await admin.GetDocumentAsync(created.Headers.Location!.OriginalString);

        Assert.NotNull(reveal.QuerySelector("#new-key"));
        Assert.Contains("This entity (Nordic Coffee ApS)", reveal.QuerySelector("main .lede").Text(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Gone, (await admin.GetAsync(created.Headers.Location)).StatusCode);
    }

    [Fact]
    public async Task Create_SameFormPostedTwice_CreatesOneKey_AndTheRepeatSaysItWasAlreadyCreatedWithoutAKey()
    {
        var (admin, _) = await factory.SignedInClientWithCookiesAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Twice");
        var (token, ticket) = await admin.FormTokensAsync(CreateUrl);
        var fields = PageHelpers.CreateFields(token, name, ticket: ticket);

        var first = await admin.PostFormAsync(CreateUrl, fields);
        var second = await admin.PostFormAsync(CreateUrl, fields);

        Assert.Equal(HttpStatusCode.Redirect, first.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal(1, await factory.CountKeysNamedAsync(name));
        var page = await Html.ParseAsync(second);
        Assert.Equal("This key was already created", page.QuerySelector("main h1").Text());
        Assert.DoesNotContain("pleo_test_", page.QuerySelector("main").Text(), StringComparison.Ordinal);
        Assert.Null(page.QuerySelector("#new-key"));

        // The first answer's reveal was never opened (a double click follows the second answer): it is offered, once.
        var show = page.QuerySelector("main a.button-primary")!.GetAttribute("href")!;
        Assert.Equal(first.Headers.Location!.OriginalString, show);
        Assert.NotNull((await admin.GetDocumentAsync(show)).QuerySelector("#new-key"));

        var third = await Html.ParseAsync(await admin.PostFormAsync(CreateUrl, fields));
        Assert.Contains("A key is shown only once, right after it is created, and this one has been.", third.QuerySelector("main").Text(), StringComparison.Ordinal);
        Assert.Equal(1, await factory.CountKeysNamedAsync(name));
    }

    [Fact]
    public async Task Create_SameFormPostedConcurrently_CreatesOneKey_AndNoRequestFails()
    {
        var (admin, jar) = await factory.SignedInClientWithCookiesAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Double click");
        var (token, ticket) = await admin.FormTokensAsync(CreateUrl);
        var fields = PageHelpers.CreateFields(token, name, ticket: ticket);
        var held = jar.GetAllCookies();

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Browser(held).PostFormAsync(CreateUrl, fields)));

        Assert.Equal(1, answers.Count(a => a.StatusCode == HttpStatusCode.Redirect));
        Assert.Equal(5, answers.Count(a => a.StatusCode == HttpStatusCode.Conflict));
        Assert.Equal(1, await factory.CountKeysNamedAsync(name));
        Assert.Equal(1, await factory.WithDbAsync(db => db.AuditEvents.CountAsync(e => e.Action == AuditActions.KeyCreated && e.Detail!.Contains(name))));
    }

    [Fact]
    public async Task Create_FormOpenedForApS_SubmittedAfterASecondTabSwitchedToAb_IsRefusedNamingBoth()
    {
        var (admin, _) = await factory.SignedInClientWithCookiesAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Two tabs");
        var (token, ticket) = await admin.FormTokensAsync(CreateUrl);   // tab 1: Create, for Nordic Coffee ApS

        await admin.SwitchCompanyAsync(DemoData.NordicCoffeeAbId);       // tab 2: the header switcher
        var submitted = await admin.PostFormAsync(CreateUrl, PageHelpers.CreateFields(token, name, ticket: ticket));

        Assert.Equal(HttpStatusCode.Conflict, submitted.StatusCode);
        var page = await Html.ParseAsync(submitted);
        Assert.Contains("This form was opened for Nordic Coffee ApS, but you have since switched to Nordic Coffee AB. Nothing was created.",
            page.QuerySelector("main [role=alert]").Text(), StringComparison.Ordinal);
        Assert.Equal(0, await factory.CountKeysNamedAsync(name));

        // The form came back for the company the session is in, and submitting it now creates the key there.
        Assert.Contains("Nordic Coffee AB", page.QuerySelector("main form").Text(), StringComparison.Ordinal);
        var again = await admin.SubmitAsync(page.Form("main form"));
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        Assert.Equal(DemoData.NordicCoffeeAbId, (await factory.KeyRowByNameAsync(name)).CompanyId);
    }

    [Theory]
    [InlineData("confirmation page")]
    [InlineData("details dialog")]
    public async Task Delete_FormOpenedForApS_SubmittedAfterASecondTabSwitchedToAb_IsRefusedNamingBoth(string form)
    {
        var (admin, _) = await factory.SignedInClientWithCookiesAsync(DemoData.Admin);
        var name = PageHelpers.UniqueName("Two tabs delete");
        var key = await admin.CreateKeyAsync(name, accessLevel: "Organisation");   // an organisation key: listed in both companies
        var row = await factory.KeyRowAsync(key);
        var document = form == "details dialog"
            ? await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}")
            : await admin.GetDocumentAsync($"/Settings/ApiKeys/Delete/{row.Id}");
        // The delete form by its action first: Details has other forms (the IP allowlist) before the dialog.
        var deleteForm = (AngleSharp.Html.Dom.IHtmlFormElement?)document.QuerySelector($"form[method=post][action='/Settings/ApiKeys/Delete/{row.Id}']")
            ?? document.Form("main form[method=post]");

        await admin.SwitchCompanyAsync(DemoData.NordicCoffeeAbId);
        var submitted = await admin.SubmitAsync(deleteForm);

        Assert.Equal(HttpStatusCode.Conflict, submitted.StatusCode);
        Assert.Contains("This form was opened for Nordic Coffee ApS, but you have since switched to Nordic Coffee AB. Nothing was deleted.",
            (await Html.ParseAsync(submitted)).QuerySelector("main [role=alert]").Text(), StringComparison.Ordinal);
        Assert.Null((await factory.KeyRowAsync(key)).DeletedAtUtc);
    }

    [Fact]
    public async Task Delete_TwoConcurrentDeletesOfOneKey_ExactlyOneWins_AndWritesTheOnlyAuditRow()
    {
        var (admin, adminJar) = await factory.SignedInClientWithCookiesAsync(DemoData.Admin);
        var (bookkeeper, bookkeeperJar) = await factory.SignedInClientWithCookiesAsync(DemoData.Bookkeeper);
        var adminId = await factory.UserIdAsync(DemoData.Admin);
        var bookkeeperId = await factory.UserIdAsync(DemoData.Bookkeeper);
        var failures = new ConcurrentBag<string>();

        for (var attempt = 0; attempt < 20; attempt++)
        {
            var name = PageHelpers.UniqueName("Deleted twice");
            var row = await factory.KeyRowAsync(await admin.CreateKeyAsync(name));
            var adminForm = await admin.GetDocumentAsync($"/Settings/ApiKeys/Delete/{row.Id}");
            var bookkeeperForm = await bookkeeper.GetDocumentAsync($"/Settings/ApiKeys/Delete/{row.Id}");
            var adminTab = Browser(adminJar.GetAllCookies());
            var bookkeeperTab = Browser(bookkeeperJar.GetAllCookies());

            var answers = await Task.WhenAll(adminTab.SubmitAsync(adminForm.Form()), bookkeeperTab.SubmitAsync(bookkeeperForm.Form()));

            Assert.All(answers, a => Assert.Equal(HttpStatusCode.Redirect, a.StatusCode));
            var messages = new[]
            {
                (await adminTab.GetDocumentAsync("/Settings/ApiKeys")).QuerySelector("main [role=status]").Text(),
                (await bookkeeperTab.GetDocumentAsync("/Settings/ApiKeys")).QuerySelector("main [role=status]").Text(),
            };
            var winners = messages.Select((m, i) => (m, i)).Where(x => x.m.Contains("was deleted.", StringComparison.Ordinal)).ToList();
            var losers = messages.Count(m => m.Contains("was already deleted.", StringComparison.Ordinal));
            var audit = await factory.WithDbAsync(db => db.AuditEvents.AsNoTracking()
                .Where(e => e.ApiKeyId == row.Id && e.Action == AuditActions.KeyDeleted).ToListAsync());
            var stored = await factory.KeyRowByNameAsync(name);
            if (winners.Count != 1 || losers != 1 || audit.Count != 1)
            {
                failures.Add($"attempt {attempt}: {winners.Count} told deleted, {losers} told already deleted, {audit.Count} audit rows");
                continue;
            }

            var winnerId = winners[0].i == 0 ? adminId : bookkeeperId;
            Assert.Equal(winnerId, audit[0].ActorUserId);
            Assert.Equal(winnerId, stored.DeletedByUserId);
        }

        Assert.True(failures.IsEmpty, string.Join('\n', failures));
    }

    private HttpClient Browser(CookieCollection cookies)
    {
        var jar = new CookieContainer();
        jar.Add(cookies);
        return factory.CreateDefaultClient(new CookieContainerHandler(jar));
    }

    private static async Task AssertNoKeyAsync(HttpResponseMessage response, string key, string what)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode != HttpStatusCode.OK || !body.Contains("id=\"new-key\"", StringComparison.Ordinal), $"{what}: answered with a reveal");
        Assert.False(body.Contains(TestKeys.SecretOf(key), StringComparison.Ordinal), $"{what}: the key's secret is in the answer");
        Assert.True((int)response.StatusCode < 500, $"{what}: {(int)response.StatusCode}");
    }
}

public sealed class FormPromiseTests(PleoKeysFactory factory) : FormPromiseContract<PleoKeysFactory>(factory);

/// <summary>The same promises in the Production hosting environment (HTTPS, Secure cookies, no developer pages).</summary>
public sealed class FormPromiseInProductionTests(ProductionDemoFactory factory) : FormPromiseContract<ProductionDemoFactory>(factory);

/// <summary>The app in the Production environment with the demo data, reached over HTTPS as behind a TLS-terminating server.</summary>
public sealed class ProductionDemoFactory : PleoKeysFactory
{
    protected override string EnvironmentName => "Production";

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["PleoKeys:SeedDemoData"] = "true",
        ["https_port"] = "443",
    };

    protected override void ConfigureClient(HttpClient client)
    {
        base.ConfigureClient(client);
        client.BaseAddress = new Uri("https://localhost");
    }
}
