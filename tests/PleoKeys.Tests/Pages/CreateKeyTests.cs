using System.Net;
using AngleSharp.Html.Dom;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Tests.Unit;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Pages;

/// <summary>
/// The Create API Key form: its fields and the server's checks of each. The clock stands still at
/// <see cref="PleoKeysFactory.Start"/> (Thursday 2026-11-26, 10:00 in Copenhagen) in this class.
/// </summary>
public sealed class CreateKeyTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    private static DateTime Utc(int y, int mo, int d, int h) => new(y, mo, d, h, 0, 0, DateTimeKind.Utc);

    private Task<HttpClient> AdminAsync() => factory.SignedInClientAsync(DemoData.Admin);

    /// <summary>The form came back with the field's message, and no key was stored.</summary>
    private async Task AssertRejectedAsync(HttpResponseMessage response, string name, string errorSelector, string message)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var page = await Html.ParseAsync(response);
        Assert.NotNull(page.QuerySelector("#error-summary"));
        Assert.Contains(message, page.QuerySelector(errorSelector).Text(), StringComparison.Ordinal);
        Assert.Equal(0, await factory.CountKeysNamedAsync(name.Trim()));
    }

    [Fact]
    public async Task Form_UsesTheProductsVocabularyWithAssociatedLabels()
    {
        var page = await (await AdminAsync()).GetDocumentAsync("/Settings/ApiKeys/Create");
        var form = page.Form();

        Assert.Equal("Create API Key", page.QuerySelector("main h1").Text());
        Assert.Equal("Name", page.QuerySelector("label[for=Input_Name]").Text());
        Assert.Equal("text", ((IHtmlInputElement)page.QuerySelector("#Input_Name")!).Type);
        Assert.Equal(["Expiration", "Access Level", "Permissions"], form.QuerySelectorAll("fieldset > legend").Select(l => l.Text()));
        Assert.Equal("Create API Key", form.QuerySelector("button[type=submit]").Text());
        // Every field a user fills has a label: by for=, or by being inside one.
        foreach (var input in form.QuerySelectorAll("input:not([type=hidden])"))
        {
            var labelled = input.Closest("label") is not null || (input.Id is { Length: > 0 } id && form.QuerySelector($"label[for='{id}']") is not null);
            Assert.True(labelled, $"{input.GetAttribute("name")}={input.GetAttribute("value")} has no label");
        }
    }

    [Fact]
    public async Task Form_OffersOneCheckboxPerPleoScopeGroupedByApi()
    {
        var page = await (await AdminAsync()).GetDocumentAsync("/Settings/ApiKeys/Create");

        var boxes = page.QuerySelectorAll("input[type=checkbox][name='Input.Scopes']").Cast<IHtmlInputElement>().ToList();

        Assert.Equal(ScopesTests.IssueScopes, boxes.Select(b => b.Value));
        Assert.All(boxes, b => Assert.False(b.IsChecked));
        Assert.Equal(["Export", "Chart of accounts", "Vendors", "Employees", "Companies", "Tags", "Tax codes", "Accounting entries"],
            page.QuerySelectorAll("[role=group] .scope-group-title").Select(t => t.Text()));
        Assert.Equal("Read vendors vendors:read", page.QuerySelector("label[for='scope-vendors-read']").Text());
    }

    [Fact]
    public async Task Form_OffersTheQuickChoicesWithTheirDatesAndACustomDate()
    {
        var page = await (await AdminAsync()).GetDocumentAsync("/Settings/ApiKeys/Create");

        var choices = page.QuerySelectorAll("input[type=radio][name='Input.Expiration']").Select(r => (r.GetAttribute("value"), r.Closest("label").Text())).ToList();

        Assert.Equal(
            [("7", "7 days (2026-12-03)"), ("30", "30 days (2026-12-26)"), ("60", "60 days (2027-01-25)"), ("90", "90 days (2027-02-24)"),
             ("365", "1 year (2027-11-26)"), ("custom", "Custom date")],
            choices);
        var custom = (IHtmlInputElement)page.QuerySelector("#Input_CustomDate")!;
        Assert.Equal("date", custom.Type);
        Assert.Equal("2026-11-27", custom.GetAttribute("min"));
        Assert.Equal("2027-11-26", custom.GetAttribute("max"));
    }

    [Fact]
    public async Task Create_ValidForm_StoresTheKeyWithWhoAndWhen()
    {
        var name = PageHelpers.UniqueName("ERP export");

        var key = await (await AdminAsync()).CreateKeyAsync(name, scopes: ["export-jobs:read", "accounts:read"]);

        var row = await factory.KeyRowAsync(key);
        Assert.Equal(name, row.Name);
        Assert.Equal(AccessLevel.Company, row.AccessLevel);
        Assert.Equal(DemoData.NordicCoffeeApSId, row.CompanyId);
        Assert.Equal(DemoData.NordicCoffeeGroupId, row.OrganisationId);
        Assert.Equal("export-jobs:read accounts:read", row.Scopes);
        Assert.Equal(factory.Time.GetUtcNow().UtcDateTime, row.CreatedAtUtc);
        Assert.Equal(await factory.UserIdAsync(DemoData.Admin), row.CreatedByUserId);
        Assert.Equal("Astrid Admin", row.CreatedByName);
        Assert.Null(row.DeletedAtUtc);
    }

    // ---- Name ----

    [Fact]
    public async Task Create_NameOf100Characters_IsAccepted()
    {
        var name = PageHelpers.UniqueName("N").PadRight(100, 'x');

        var key = await (await AdminAsync()).CreateKeyAsync(name);

        Assert.Equal(100, name.Length);
        Assert.Equal(name, (await factory.KeyRowAsync(key)).Name);
    }

    [Fact]
    public async Task Create_NameOf101Characters_IsRejected()
    {
        var name = PageHelpers.UniqueName("N").PadRight(101, 'x');

        var response = await (await AdminAsync()).PostCreateFormAsync(name);

        await AssertRejectedAsync(response, name, "#name-error", "at most 100 characters");
        Assert.Equal(0, await factory.CountKeysNamedAsync(name[..100]));
    }

    [Fact]
    public async Task Create_NameOf100Emoji_IsAcceptedBecauseCharactersAreCountedAsTheUserSeesThem()
    {
        // 100 characters, 200 UTF-16 code units.
        var name = PageHelpers.UniqueName("E") + string.Concat(Enumerable.Repeat("☕🚲", 45));
        name = string.Concat(name.EnumerateRunes().Take(100).Select(r => r.ToString()));

        var key = await (await AdminAsync()).CreateKeyAsync(name);

        Assert.Equal(100, name.EnumerateRunes().Count());
        Assert.Equal(name, (await factory.KeyRowAsync(key)).Name);
    }

    [Fact]
    public async Task Create_NameOf101Emoji_IsRejected()
    {
        var name = PageHelpers.UniqueName("E") + string.Concat(Enumerable.Repeat("🚲", 101));
        name = string.Concat(name.EnumerateRunes().Take(101).Select(r => r.ToString()));

        var response = await (await AdminAsync()).PostCreateFormAsync(name);

        await AssertRejectedAsync(response, name, "#name-error", "at most 100 characters");
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(" \t\u00A0\u3000 ")]
    public async Task Create_EmptyOrWhitespaceName_IsRejected(string name)
    {
        var response = await (await AdminAsync()).PostCreateFormAsync(name);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var page = await Html.ParseAsync(response);
        Assert.Equal("Enter a name for the key.", page.QuerySelector("#name-error").Text());
        Assert.Equal("true", page.QuerySelector("#Input_Name")!.GetAttribute("aria-invalid"));
        var names = await factory.WithDbAsync(db => db.ApiKeys.Select(k => k.Name).ToListAsync());
        Assert.DoesNotContain(names, string.IsNullOrWhiteSpace);
    }

    [Fact]
    public async Task Create_NameWithSurroundingSpaces_IsStoredTrimmed()
    {
        var name = PageHelpers.UniqueName("Trimmed");

        var key = await (await AdminAsync()).CreateKeyAsync("   " + name + "  \t");

        Assert.Equal(name, (await factory.KeyRowAsync(key)).Name);
    }

    [Fact]
    public async Task Create_UnicodeName_IsStoredAndShownAsTyped()
    {
        var name = PageHelpers.UniqueName("Kaffesynk ☕ Ærøskøbing 会計 Ålesund");
        var client = await AdminAsync();

        var key = await client.CreateKeyAsync(name);

        Assert.Equal(name, (await factory.KeyRowAsync(key)).Name);
        var list = await client.GetDocumentAsync("/Settings/ApiKeys?q=" + Uri.EscapeDataString(name));
        Assert.Equal([name], list.KeyNames());
    }

    [Fact]
    public async Task Create_Rejected_KeepsWhatTheUserEntered()
    {
        var name = PageHelpers.UniqueName("Kept");

        var response = await (await AdminAsync()).PostCreateFormAsync(name, expiration: "custom", customDate: "2020-01-01", scopes: ["vendors:read", "users:read"]);

        var page = await Html.ParseAsync(response);
        Assert.Equal(name, ((IHtmlInputElement)page.QuerySelector("#Input_Name")!).Value);
        Assert.Equal("2020-01-01", ((IHtmlInputElement)page.QuerySelector("#Input_CustomDate")!).Value);
        Assert.Equal(["vendors:read", "users:read"],
            page.QuerySelectorAll("input[name='Input.Scopes']").Cast<IHtmlInputElement>().Where(b => b.IsChecked).Select(b => b.Value));
    }

    // ---- Expiration ----

    [Theory]
    [InlineData("7", 2026, 12, 3)]
    [InlineData("30", 2026, 12, 26)]
    [InlineData("60", 2027, 1, 25)]
    [InlineData("90", 2027, 2, 24)]
    [InlineData("365", 2027, 11, 26)]
    public async Task Create_QuickChoice_ExpiresAtTheEndOfThatDayInCopenhagen(string choice, int year, int month, int day)
    {
        var key = await (await AdminAsync()).CreateKeyAsync(PageHelpers.UniqueName("Quick " + choice), expiration: choice);

        // Midnight after that day, Copenhagen winter time (UTC+1), as a UTC instant.
        Assert.Equal(Utc(year, month, day, 23), (await factory.KeyRowAsync(key)).ExpiresAtUtc);
    }

    [Theory]
    [InlineData("2026-11-27", 2026, 11, 27, 23)] // tomorrow
    [InlineData("2027-06-01", 2027, 6, 1, 22)]   // summer time: midnight CEST is 22:00 UTC
    [InlineData("2027-11-26", 2027, 11, 26, 23)] // exactly one year ahead
    public async Task Create_CustomDate_ExpiresAtTheEndOfThatDayInCopenhagen(string date, int year, int month, int day, int utcHour)
    {
        var name = PageHelpers.UniqueName("Custom " + date);

        var response = await (await AdminAsync()).PostCreateFormAsync(name, expiration: "custom", customDate: date);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(Utc(year, month, day, utcHour), (await factory.KeyRowByNameAsync(name)).ExpiresAtUtc);
    }

    [Theory]
    [InlineData("2026-11-25", "Choose a date after today.")]   // yesterday
    [InlineData("2020-01-01", "Choose a date after today.")]
    [InlineData("2026-11-26", "Choose a date after today.")]   // today
    [InlineData("2027-11-27", "at most one year ahead (2027-11-26 at the latest)")]
    [InlineData("2030-01-01", "at most one year ahead")]
    public async Task Create_CustomDateTodayInThePastOrBeyondOneYear_IsRejected(string date, string message)
    {
        var name = PageHelpers.UniqueName("Bad date");

        var response = await (await AdminAsync()).PostCreateFormAsync(name, expiration: "custom", customDate: date);

        await AssertRejectedAsync(response, name, "#customdate-error", message);
    }

    [Theory]
    [InlineData("27/11/2026")]
    [InlineData("11/27/2026")]
    [InlineData("2026-13-01")]
    [InlineData("2026-11-31")]
    [InlineData("2026-12-1")]
    [InlineData("2026-12-01T00:00")]
    [InlineData("tomorrow")]
    public async Task Create_CustomDateInABadFormat_IsRejected(string date)
    {
        var name = PageHelpers.UniqueName("Bad format");

        var response = await (await AdminAsync()).PostCreateFormAsync(name, expiration: "custom", customDate: date);

        await AssertRejectedAsync(response, name, "#customdate-error", "Enter the date as YYYY-MM-DD");
    }

    [Fact]
    public async Task Create_CustomChoiceWithoutADate_IsRejected()
    {
        var name = PageHelpers.UniqueName("No date");

        var response = await (await AdminAsync()).PostCreateFormAsync(name, expiration: "custom", customDate: "");

        await AssertRejectedAsync(response, name, "#customdate-error", "Enter the expiration date.");
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("45")]
    [InlineData("366")]
    [InlineData("-7")]
    [InlineData("3650")]
    [InlineData("never")]
    public async Task Create_ExpirationNotOffered_IsRejected(string expiration)
    {
        var name = PageHelpers.UniqueName("Odd expiry");

        var response = await (await AdminAsync()).PostCreateFormAsync(name, expiration: expiration);

        await AssertRejectedAsync(response, name, "#expiration-error", "Choose when the key expires.");
    }

    // ---- Permissions ----

    [Fact]
    public async Task Create_NoPermission_IsRejected()
    {
        var name = PageHelpers.UniqueName("No scope");

        var response = await (await AdminAsync()).PostCreateFormAsync(name, scopes: []);

        await AssertRejectedAsync(response, name, "#scopes-error", "Choose at least one permission.");
    }

    [Theory]
    [InlineData("payments:write")]
    [InlineData("VENDORS:READ")]
    [InlineData("vendors:*")]
    [InlineData("<b>admin</b>")]
    public async Task Create_UnknownPermission_IsRejectedWithAMessage(string scope)
    {
        var name = PageHelpers.UniqueName("Tampered scope");

        var response = await (await AdminAsync()).PostCreateFormAsync(name, scopes: ["vendors:read", scope]);

        await AssertRejectedAsync(response, name, "#scopes-error", $"Unknown permission: {scope}. Choose from the list.");
    }

    [Fact]
    public async Task Create_DuplicatedPermissions_AreStoredOnce()
    {
        var name = PageHelpers.UniqueName("Duplicates");

        var key = await (await AdminAsync()).CreateKeyAsync(name, scopes: ["vendors:read", "accounts:read", "vendors:read", "accounts:read"]);

        var stored = (await factory.KeyRowAsync(key)).Scopes.Split(' ');
        Assert.Equal(["accounts:read", "vendors:read"], stored.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Create_EveryPermission_IsAccepted()
    {
        var key = await (await AdminAsync()).CreateKeyAsync(PageHelpers.UniqueName("All scopes"), scopes: ScopesTests.IssueScopes);

        Assert.Equal(ScopesTests.IssueScopes, (await factory.KeyRowAsync(key)).Scopes.Split(' '));
    }
}
