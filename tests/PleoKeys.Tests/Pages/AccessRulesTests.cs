using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Pages;

/// <summary>Who may see and use Settings → API Keys: role, onboarding flag, work email.</summary>
public sealed class AccessRulesTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    private const string SeededKey = "Accounting sync (ERP)";

    public static TheoryData<string> KeyPages => new()
    {
        "/Settings/ApiKeys",
        "/Settings/ApiKeys?q=sync&p=1",
        "/Settings/ApiKeys/Create",
        "/Settings/ApiKeys/Reveal",
        "/Settings/ApiKeys/Details/{seeded}",
        "/Settings/ApiKeys/Delete/{seeded}",
    };

    private async Task<string> ResolveAsync(string path) =>
        path.Replace("{seeded}", (await factory.KeyRowByNameAsync(SeededKey)).Id.ToString(), StringComparison.Ordinal);

    private static async Task<string> ExplanationAsync(HttpResponseMessage response)
    {
        var page = await Html.ParseAsync(response);
        Assert.Equal("You can't open this page", page.QuerySelector("main h1").Text());
        return page.QuerySelector("main").Text();
    }

    private static async Task AssertNoApiKeysEntryAsync(HttpClient client)
    {
        foreach (var path in new[] { "/", "/Settings" })
        {
            var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = await Html.ParseAsync(response);
            Assert.NotNull(page.QuerySelector("nav[aria-label=Settings], nav[aria-label=Main]"));
            Assert.Empty(page.QuerySelectorAll("a[href^='/Settings/ApiKeys']"));
            Assert.DoesNotContain("API Keys", page.QuerySelector("nav[aria-label=Settings]")?.Text() ?? "", StringComparison.Ordinal);
        }
    }

    /// <summary>A create form posted with a valid token by someone who is not offered the form.</summary>
    private static Task<HttpResponseMessage> PostCreateAnywayAsync(HttpClient client, string name) =>
        client.PostWithTokenAsync("/Settings/ApiKeys/Create",
            ("Input.Name", name), ("Input.Expiration", "30"), ("Input.AccessLevel", "Company"), ("Input.Scopes", "vendors:read"));

    [Theory]
    [InlineData(DemoData.Admin)]
    [InlineData(DemoData.Bookkeeper)]
    public async Task SettingsNav_AdminOrBookkeeper_HasTheApiKeysEntry(string email)
    {
        var client = await factory.SignedInClientAsync(email);

        var home = await client.GetDocumentAsync("/");
        var settingsLink = home.QuerySelectorAll("nav[aria-label=Main] a").Single(a => a.Text() == "Settings");
        var settings = await client.GetDocumentAsync(settingsLink.GetAttribute("href")!);
        var entry = settings.QuerySelectorAll("nav[aria-label=Settings] a").Single(a => a.Text() == "API Keys");
        var list = await client.GetAsync(entry.GetAttribute("href"));

        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal("API Keys", (await Html.ParseAsync(list)).QuerySelector("main h1").Text());
    }

    [Fact]
    public async Task SettingsNav_Employee_HasNoApiKeysEntry()
    {
        await AssertNoApiKeysEntryAsync(await factory.SignedInClientAsync(DemoData.Employee));
    }

    [Theory]
    [MemberData(nameof(KeyPages))]
    public async Task KeyPages_Employee_Returns403WithAPlainExplanation(string path)
    {
        var client = await factory.SignedInClientAsync(DemoData.Employee);

        var response = await client.GetAsync(await ResolveAsync(path));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Only Admins and Bookkeepers of Nordic Coffee ApS can manage API keys.", await ExplanationAsync(response), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_PostedByEmployee_IsRefusedAndStoresNothing()
    {
        var client = await factory.SignedInClientAsync(DemoData.Employee);
        var name = PageHelpers.UniqueName("Employee key");

        var response = await PostCreateAnywayAsync(client, name);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, await factory.CountKeysNamedAsync(name));
    }

    [Fact]
    public async Task Delete_PostedByEmployee_IsRefusedAndTheKeyStays()
    {
        var client = await factory.SignedInClientAsync(DemoData.Employee);
        var key = await factory.KeyRowByNameAsync(SeededKey);

        var response = await client.PostWithTokenAsync($"/Settings/ApiKeys/Delete/{key.Id}");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Null((await factory.KeyRowByNameAsync(SeededKey)).DeletedAtUtc);
    }

    [Fact]
    public async Task SettingsNav_AdminOfCompanyWithoutApiKeyAccess_HasNoApiKeysEntry()
    {
        await AssertNoApiKeysEntryAsync(await factory.SignedInClientAsync(DemoData.FjordAdmin));
    }

    [Theory]
    [MemberData(nameof(KeyPages))]
    public async Task KeyPages_AdminOfCompanyWithoutApiKeyAccess_AreRefusedWithAnExplanation(string path)
    {
        var client = await factory.SignedInClientAsync(DemoData.FjordAdmin);

        var response = await client.GetAsync(await ResolveAsync(path));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var explanation = await ExplanationAsync(response);
        Assert.Contains("API keys are not enabled for Fjord Bikes AS", explanation, StringComparison.Ordinal);
        Assert.Contains("onboarding", explanation, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_PostedByAdminOfCompanyWithoutApiKeyAccess_IsRefusedAndStoresNothing()
    {
        var client = await factory.SignedInClientAsync(DemoData.FjordAdmin);
        var name = PageHelpers.UniqueName("Fjord key");

        var response = await PostCreateAnywayAsync(client, name);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, await factory.CountKeysNamedAsync(name));
    }

    [Fact]
    public async Task SettingsNav_AdminWithPersonalEmail_HasNoApiKeysEntry()
    {
        await AssertNoApiKeysEntryAsync(await factory.SignedInClientAsync(DemoData.PersonalAdmin));
    }

    [Theory]
    [MemberData(nameof(KeyPages))]
    public async Task KeyPages_AdminWithPersonalEmail_ExplainThatKeysNeedAWorkEmail(string path)
    {
        var client = await factory.SignedInClientAsync(DemoData.PersonalAdmin);

        var response = await client.GetAsync(await ResolveAsync(path));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var explanation = await ExplanationAsync(response);
        Assert.Contains("API keys are created from a work email account", explanation, StringComparison.Ordinal);
        Assert.Contains(DemoData.PersonalAdmin, explanation, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_PostedByAdminWithPersonalEmail_IsRefusedAndStoresNothing()
    {
        var client = await factory.SignedInClientAsync(DemoData.PersonalAdmin);
        var name = PageHelpers.UniqueName("Gmail key");

        var response = await PostCreateAnywayAsync(client, name);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(0, await factory.CountKeysNamedAsync(name));
    }

    [Fact]
    public async Task Delete_PostedByAdminWithPersonalEmail_IsRefusedAndTheKeyStays()
    {
        var client = await factory.SignedInClientAsync(DemoData.PersonalAdmin);
        var key = await factory.KeyRowByNameAsync(SeededKey);

        var response = await client.PostWithTokenAsync($"/Settings/ApiKeys/Delete/{key.Id}");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Null((await factory.KeyRowByNameAsync(SeededKey)).DeletedAtUtc);
    }

    [Fact]
    public void PersonalEmailDomains_AreTheConsumerDomainsOfTheIssue()
    {
        var domains = factory.Services.GetRequiredService<IOptions<PleoKeysOptions>>().Value.PersonalEmailDomains;

        string[] issue =
        [
            "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com", "icloud.com", "me.com",
            "proton.me", "protonmail.com", "gmx.com", "aol.com",
        ];

        Assert.Equal(issue.Order(StringComparer.Ordinal), domains.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(KeyPages))]
    public async Task KeyPages_Anonymous_RedirectToSignIn(string path)
    {
        var response = await factory.NewClient().GetAsync(await ResolveAsync(path));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/Account/Login", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }
}

/// <summary>The consumer-domain list is configuration: a domain added there is refused like gmail.com.</summary>
public sealed class PersonalEmailDomainsConfigurationTests(PersonalEmailDomainsConfigurationTests.Factory factory)
    : IClassFixture<PersonalEmailDomainsConfigurationTests.Factory>
{
    public sealed class Factory : PleoKeysFactory
    {
        // Appended after the twelve domains of appsettings.json (configuration lists merge by index).
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["PleoKeys:PersonalEmailDomains:12"] = "NordicCoffee.example",
        };
    }

    [Fact]
    public async Task KeyPages_AdminAtAConfiguredPersonalDomain_AreRefused()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);

        var response = await client.GetAsync("/Settings/ApiKeys");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("work email", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var settings = await client.GetDocumentAsync("/Settings");
        Assert.Empty(settings.QuerySelectorAll("a[href^='/Settings/ApiKeys']"));
    }
}
