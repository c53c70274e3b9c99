using System.Net;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Pages;

/// <summary>Signing in with email and password (ASP.NET Core Identity), through the real page.</summary>
public sealed class SignInTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    private async Task<(HttpResponseMessage Response, HttpClient Client)> SignInAsync(string email, string password, string path = "/Account/Login")
    {
        var client = factory.NewClient();
        var page = await client.GetDocumentAsync(path);
        return (await client.SubmitAsync(page.Form(), ("Input.Email", email), ("Input.Password", password)), client);
    }

    [Fact]
    public async Task Page_HasLabelledEmailAndPasswordFields()
    {
        var page = await factory.NewClient().GetDocumentAsync("/Account/Login");

        Assert.Equal("Email", page.QuerySelector("label[for=Input_Email]").Text());
        Assert.Equal("Password", page.QuerySelector("label[for=Input_Password]").Text());
        Assert.Equal("password", page.QuerySelector("#Input_Password")!.GetAttribute("type"));
    }

    [Fact]
    public async Task SignIn_WrongPassword_ShowsAGenericMessageAndDoesNotSignIn()
    {
        var (response, client) = await SignInAsync(DemoData.FjordAdmin, "not-the-password");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var message = (await Html.ParseAsync(response)).QuerySelector("main [role=alert]").Text();
        Assert.StartsWith("Incorrect email or password.", message, StringComparison.Ordinal);
        Assert.DoesNotContain(DemoData.FjordAdmin, message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/Settings")).StatusCode);
    }

    [Fact]
    public async Task SignIn_UnknownEmail_ShowsTheSameMessageAsAWrongPassword()
    {
        var (wrongPassword, _) = await SignInAsync(DemoData.Employee, "not-the-password");
        var (unknownEmail, _) = await SignInAsync("nobody@nordiccoffee.example", "not-the-password");

        Assert.Equal(
            (await Html.ParseAsync(wrongPassword)).QuerySelector("main [role=alert]").Text(),
            (await Html.ParseAsync(unknownEmail)).QuerySelector("main [role=alert]").Text());
    }

    [Fact]
    public async Task SignIn_FromAProtectedPage_ReturnsToIt()
    {
        var client = factory.NewClient();
        var challenge = await client.GetAsync("/Settings/ApiKeys");
        Assert.Equal(HttpStatusCode.Redirect, challenge.StatusCode);

        var page = await client.GetDocumentAsync(challenge.Headers.Location!.PathAndQuery);
        var response = await client.SubmitAsync(page.Form(), ("Input.Email", DemoData.Bookkeeper), ("Input.Password", DemoData.Password));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/Settings/ApiKeys", response.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(response.Headers.Location)).StatusCode);
    }

    [Fact]
    public async Task SignIn_WithAnOutsideReturnUrl_StaysInTheApp()
    {
        var (response, _) = await SignInAsync(DemoData.Bookkeeper, DemoData.Password, "/Account/Login?ReturnUrl=https%3A%2F%2Fevil.example%2F");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task SignOut_EndsTheSession()
    {
        var client = await factory.SignedInClientAsync(DemoData.Bookkeeper);

        var home = await client.GetDocumentAsync("/");
        var response = await client.SubmitAsync(home.Form("header form[action='/Account/Logout']"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/Settings/ApiKeys")).StatusCode);
    }
}
