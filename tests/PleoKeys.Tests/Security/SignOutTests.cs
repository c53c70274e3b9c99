using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.Extensions.DependencyInjection;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Security;

/// <summary>
/// Signed out means signed out: the server, not the browser, ends a session. Each test copies the cookies out
/// of a real browser's jar, as an attacker with the machine or a proxy log would, and replays them.
/// </summary>
public sealed class SignOutTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    private static readonly Uri Site = new("http://localhost");

    /// <summary>A browser whose cookie jar the test can read; redirects are not followed.</summary>
    private (HttpClient Browser, CookieContainer Jar) NewBrowser()
    {
        var jar = new CookieContainer();
        return (factory.CreateDefaultClient(Site, new CookieContainerHandler(jar)), jar);
    }

    /// <summary>A client that sends exactly the copied <c>Cookie</c> header, whatever the server answers.</summary>
    private HttpClient Replaying(string copiedCookies)
    {
        var client = factory.CreateDefaultClient(Site);
        client.DefaultRequestHeaders.Add("Cookie", copiedCookies);
        return client;
    }

    private static async Task SignInAsync(HttpClient browser, string email, string password = DemoData.Password)
    {
        var page = await browser.GetDocumentAsync("/Account/Login");
        var response = await browser.SubmitAsync(page.Form(), ("Input.Email", email), ("Input.Password", password));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }

    /// <summary>
    /// Cookies carry their issue time in whole seconds and the validator checks a cookie once any time has passed
    /// since; a real clock always has by the next request. The test clock stands still unless moved.
    /// </summary>
    private void NextRequestLater() => factory.Time.Advance(TimeSpan.FromSeconds(1));

    private static void AssertSentToSignIn(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/Account/Login", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignOut_ThenReplayingTheCopiedCookie_GetsTheSignInPageAndCannotCreateAKey()
    {
        var (browser, jar) = NewBrowser();
        await SignInAsync(browser, DemoData.Admin);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/Settings/ApiKeys")).StatusCode);
        var createForm = await browser.GetDocumentAsync("/Settings/ApiKeys/Create");
        var copied = jar.GetCookieHeader(Site);
        Assert.Contains("pleokeys.auth=", copied, StringComparison.Ordinal);

        var home = await browser.GetDocumentAsync("/");
        var signedOut = await browser.SubmitAsync(home.Form("header form[action='/Account/Logout']"));
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        NextRequestLater();

        var replay = Replaying(copied);
        AssertSentToSignIn(await replay.GetAsync("/Settings/ApiKeys"));
        var name = PageHelpers.UniqueName("Replayed after sign-out");
        var create = await replay.SubmitAsync(createForm.Form(),
            ("Input.Name", name), ("Input.Expiration", "30"), ("Input.AccessLevel", "Company"), ("Input.Scopes", "vendors:read"));
        AssertSentToSignIn(create);
        Assert.Equal(0, await factory.CountKeysNamedAsync(name));
    }

    [Fact]
    public async Task SignOut_EndsTheUsersSessionsInOtherBrowsersToo()
    {
        var (laptop, _) = NewBrowser();
        var (phone, _) = NewBrowser();
        await SignInAsync(laptop, DemoData.Bookkeeper);
        await SignInAsync(phone, DemoData.Bookkeeper);

        var home = await laptop.GetDocumentAsync("/");
        await laptop.SubmitAsync(home.Form("header form[action='/Account/Logout']"));
        NextRequestLater();

        AssertSentToSignIn(await phone.GetAsync("/Settings/ApiKeys"));
    }

    [Fact]
    public async Task SignOut_LeavesApiKeysWorking()
    {
        var (browser, _) = NewBrowser();
        await SignInAsync(browser, DemoData.Admin);
        var key = await browser.CreateKeyAsync(PageHelpers.UniqueName("Outlives the session"));

        var home = await browser.GetDocumentAsync("/");
        await browser.SubmitAsync(home.Form("header form[action='/Account/Logout']"));
        NextRequestLater();

        Assert.Equal(HttpStatusCode.OK, (await factory.CreateClient().ApiGetAsync("/v1/installations/me", key)).StatusCode);
    }

    [Fact]
    public async Task Lockout_EndsTheAccountsOpenSessions()
    {
        var (browser, _) = NewBrowser();
        await SignInAsync(browser, DemoData.PersonalAdmin);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/Settings")).StatusCode);

        // Someone else guesses the password until Identity locks the account (5 failures).
        var guesser = factory.NewClient();
        for (var i = 0; i < 5; i++)
        {
            var page = await guesser.GetDocumentAsync("/Account/Login");
            await guesser.SubmitAsync(page.Form(), ("Input.Email", DemoData.PersonalAdmin), ("Input.Password", $"wrong-{i}"));
        }

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            Assert.True(await users.IsLockedOutAsync((await users.FindByEmailAsync(DemoData.PersonalAdmin))!));
        }

        NextRequestLater();
        AssertSentToSignIn(await browser.GetAsync("/Settings"));
    }

    [Fact]
    public async Task DeletedAccount_LosesItsSessions()
    {
        var (browser, _) = NewBrowser();
        await SignInAsync(browser, DemoData.Employee);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/Settings")).StatusCode);

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            var result = await users.DeleteAsync((await users.FindByEmailAsync(DemoData.Employee))!);
            Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => e.Description)));
        }

        NextRequestLater();
        AssertSentToSignIn(await browser.GetAsync("/Settings"));
    }

    [Fact]
    public async Task ASession_StaysSignedInAcrossRequests()
    {
        var (browser, _) = NewBrowser();
        await SignInAsync(browser, DemoData.FjordAdmin);

        for (var i = 0; i < 3; i++)
        {
            NextRequestLater();
            Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/Settings")).StatusCode);
        }
    }
}
