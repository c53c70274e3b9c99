using System.Net;
using AngleSharp.Html.Dom;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Security;

/// <summary>Every form that changes something carries an antiforgery token, and works with it.</summary>
public sealed class AntiforgeryTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    [Fact]
    public async Task EveryPostForm_OnEveryPage_CarriesAnAntiforgeryToken()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var id = await factory.NewClient().KeyRowIdAsync(await admin.CreateKeyAsync("Forms"));
        string[] pages = ["/", "/Settings", "/Settings/ApiKeys", "/Settings/ApiKeys/Create", $"/Settings/ApiKeys/Details/{id}", $"/Settings/ApiKeys/Delete/{id}", $"/Settings/ApiKeys/Roll/{id}"];
        var forms = 0;
        foreach (var page in pages)
        {
            var document = await admin.GetDocumentAsync(page);
            foreach (var form in document.QuerySelectorAll("form").OfType<IHtmlFormElement>().Where(f => f.Method.Equals("post", StringComparison.OrdinalIgnoreCase)))
            {
                Assert.True(form.QuerySelector("input[name=__RequestVerificationToken]") is not null,
                    $"A form posting to {form.Action} on {page} has no antiforgery token.");
                forms++;
            }
        }

        var login = await factory.NewClient().GetDocumentAsync("/Account/Login");
        Assert.NotNull(login.Form().QuerySelector("input[name=__RequestVerificationToken]"));
        Assert.True(forms >= 8, $"only {forms} forms found");
    }

    [Fact]
    public async Task LayoutForms_SwitchCompanyAndSignOut_WorkAsRendered()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var home = await admin.GetDocumentAsync("/");
        var switched = await admin.SubmitAsync(home.Form("form.company-switch"), ("companyId", DemoData.NordicCoffeeAbId.ToString()));
        Assert.Equal(HttpStatusCode.Redirect, switched.StatusCode);
        Assert.Contains("Nordic Coffee AB", (await admin.GetDocumentAsync("/Settings/ApiKeys")).QuerySelector("main")!.TextContent, StringComparison.Ordinal);

        var page = await admin.GetDocumentAsync("/");
        var signOut = await admin.SubmitAsync(page.Form("form[action='/Account/Logout']"));
        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        var after = await admin.GetAsync("/Settings/ApiKeys");
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.StartsWith("/Account/Login", after.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DetailsDeleteDialog_PostedAsRendered_DeletesTheKey()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync("Dialog delete");
        var id = await factory.NewClient().KeyRowIdAsync(key);
        var details = await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{id}");

        var response = await admin.SubmitAsync(details.Form("dialog form"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.NewClient().ApiGetAsync("/v1/installations/me", key)).StatusCode);
    }

    [Fact]
    public async Task DeleteForm_WithoutOrWithForeignToken_Returns400WithMessageAndKeepsKey()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync("Token check");
        var id = await factory.NewClient().KeyRowIdAsync(key);
        var bookkeeper = await factory.SignedInClientAsync(DemoData.Bookkeeper);
        var foreignToken = await bookkeeper.AntiforgeryTokenAsync("/");

        foreach (var fields in new List<KeyValuePair<string, string>>[] { [], [new("__RequestVerificationToken", foreignToken)], [new("__RequestVerificationToken", "garbage")] })
        {
            var response = await admin.PostFormAsync($"/Settings/ApiKeys/Delete/{id}", fields);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("reload the page and submit it again", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.OK, (await factory.NewClient().ApiGetAsync("/v1/installations/me", key)).StatusCode);
    }
}
