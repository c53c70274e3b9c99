using System.Net;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Tests.Unit;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Security;

/// <summary>
/// Every redirect to a caller-given URL (sign-in, company switch) lands on this site, encoded, or on the start
/// page: never a 5xx, never another site (issue 12, "Return URLs never break a request").
/// </summary>
public sealed class ReturnUrlRedirectTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    // The measured case and the kinds around it; lone surrogates are left to the unit tests (a form cannot carry one).
    public static TheoryData<string> OddUrls()
    {
        var data = new TheoryData<string>
        {
            "/é", "//evil.example", "/\\evil.example", "http://evil.example/", "https:evil.example", "/x\r\nLocation: //evil.example",
            "/\t/evil.example", "/" + new string('a', 5000), "/Settings/ApiKeys?q=Straße#é", "/\u202Eevil", "/%0d%0aSet-Cookie:%20a=b",
        };
        foreach (var url in OddReturnUrls.Generated(12, seed: 7).Where(u => !u.Contains('\uD800', StringComparison.Ordinal)))
        {
            data.Add(url);
        }

        return data;
    }

    [Fact]
    public async Task SignIn_WithANonAsciiReturnUrl_SignsInAndRedirectsEncoded()
    {
        // Measured: POST /Account/Login?ReturnUrl=/%C3%A9 with valid credentials answered 500 and left the user signed out.
        var client = factory.NewClient();
        var page = await client.GetDocumentAsync("/Account/Login?ReturnUrl=/%C3%A9");

        var response = await client.SubmitAsync(page.Form(), ("Input.Email", DemoData.Bookkeeper), ("Input.Password", DemoData.Password));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/%C3%A9", response.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/Settings")).StatusCode);
    }

    [Theory]
    [MemberData(nameof(OddUrls))]
    public async Task SignIn_WithAnOddReturnUrl_RedirectsSafely(string returnUrl)
    {
        var client = factory.NewClient();
        var page = await client.GetDocumentAsync("/Account/Login?ReturnUrl=" + Uri.EscapeDataString(returnUrl));

        var response = await client.SubmitAsync(page.Form(), ("Input.Email", DemoData.Bookkeeper), ("Input.Password", DemoData.Password));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        OddReturnUrls.AssertSafe(response.Headers.Location!.OriginalString);
    }

    [Theory]
    [MemberData(nameof(OddUrls))]
    public async Task SwitchCompany_WithAnOddReturnUrl_RedirectsSafely(string returnUrl)
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var page = await admin.GetDocumentAsync("/Settings");

        var response = await admin.SubmitAsync(page.Form("form.company-switch"),
            ("companyId", DemoData.NordicCoffeeApSId.ToString()), ("returnUrl", returnUrl));

        if (returnUrl.Contains('\0', StringComparison.Ordinal))
        {
            // The framework's form reader refuses a NUL in any field before the page runs: a 400 page, not a redirect.
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            return;
        }

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        OddReturnUrls.AssertSafe(response.Headers.Location!.OriginalString);
    }
}
