using System.Net;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests;

/// <summary>The header's forms (switch company, sign out) post with their antiforgery token, as a browser would.</summary>
public sealed class LayoutFormsTests : IClassFixture<PleoKeysFactory>
{
    private readonly PleoKeysFactory _factory;

    public LayoutFormsTests(PleoKeysFactory factory) => _factory = factory;

    [Fact]
    public async Task SwitchCompany_ThroughTheHeaderForm_ChangesTheCurrentCompany()
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        var list = await admin.GetDocumentAsync("/Settings/ApiKeys");

        var response = await admin.SubmitAsync(list.Form("form.company-switch"), ("companyId", DemoData.NordicCoffeeAbId.ToString()));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var after = await admin.GetStringAsync("/Settings/ApiKeys");
        Assert.Contains("call Pleo's API for <strong>Nordic Coffee AB</strong>", after, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignOut_ThroughTheHeaderForm_EndsTheSession()
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        var list = await admin.GetDocumentAsync("/Settings/ApiKeys");

        var response = await admin.SubmitAsync(list.Form("form[action='/Account/Logout']"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var after = await admin.GetAsync("/Settings/ApiKeys");
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.StartsWith("/Account/Login", after.Headers.Location?.PathAndQuery ?? after.Headers.Location?.ToString(), StringComparison.Ordinal);
    }
}
