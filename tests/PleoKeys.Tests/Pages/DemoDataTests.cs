using System.Net;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Pages;

/// <summary>The demo data is exactly what issue 2 lists, seeded in Development.</summary>
public sealed class DemoDataTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    [Fact]
    public async Task Organisations_HaveTheListedEntitiesAndApiKeyAccess()
    {
        var companies = await factory.WithDbAsync(db => db.Companies.AsNoTracking()
            .Select(c => new { Organisation = c.Organisation.Name, c.Name, c.Country, c.TimeZoneId, c.ApiKeyAccess })
            .ToListAsync());

        Assert.Equal(
            [
                ("Fjord Bikes", "Fjord Bikes AS", "NO", "Europe/Oslo", false),
                ("Nordic Coffee Group", "Nordic Coffee AB", "SE", "Europe/Stockholm", true),
                ("Nordic Coffee Group", "Nordic Coffee ApS", "DK", "Europe/Copenhagen", true),
            ],
            companies.Select(c => (c.Organisation, c.Name, c.Country, c.TimeZoneId, c.ApiKeyAccess))
                .OrderBy(c => c.Organisation, StringComparer.Ordinal).ThenBy(c => c.Name, StringComparer.Ordinal));
        Assert.Equal(2, await factory.WithDbAsync(db => db.Organisations.CountAsync()));
    }

    [Fact]
    public async Task Users_HaveTheListedRoles()
    {
        var roles = await factory.WithDbAsync(async db =>
            await (from m in db.Memberships
                   join u in db.Users on m.UserId equals u.Id
                   join o in db.Organisations on m.OrganisationId equals o.Id
                   join c in db.Companies on m.CompanyId equals c.Id into cs
                   from c in cs.DefaultIfEmpty()
                   select new { u.Email, Organisation = o.Name, Company = c == null ? (string?)null : c.Name, m.Role }).ToListAsync());

        Assert.Equal<(string?, string, string?, MemberRole)>(
            [
                (DemoData.FjordAdmin, "Fjord Bikes", "Fjord Bikes AS", MemberRole.Admin),
                (DemoData.Admin, "Nordic Coffee Group", null, MemberRole.Admin), // organisation level
                (DemoData.Bookkeeper, "Nordic Coffee Group", "Nordic Coffee ApS", MemberRole.Bookkeeper),
                (DemoData.Employee, "Nordic Coffee Group", "Nordic Coffee ApS", MemberRole.Employee),
                (DemoData.PersonalAdmin, "Nordic Coffee Group", "Nordic Coffee ApS", MemberRole.Admin),
            ],
            roles.Select(r => ((string?)r.Email, r.Organisation, (string?)r.Company, r.Role)).OrderBy(r => r.Item1, StringComparer.Ordinal));
        Assert.Equal(5, await factory.WithDbAsync(db => db.Users.CountAsync()));
    }

    [Theory]
    [InlineData(DemoData.Admin, "Nordic Coffee ApS")]
    [InlineData(DemoData.Bookkeeper, "Nordic Coffee ApS")]
    [InlineData(DemoData.Employee, "Nordic Coffee ApS")]
    [InlineData(DemoData.PersonalAdmin, "Nordic Coffee ApS")]
    [InlineData(DemoData.FjordAdmin, "Fjord Bikes AS")]
    public async Task DemoAccount_SignsInWithTheDemoPasswordIntoItsCompany(string email, string company)
    {
        Assert.Equal("Pleo-Demo-2026!", DemoData.Password);
        var client = await factory.SignedInClientAsync(email);

        var overview = await client.GetDocumentAsync("/");

        Assert.Equal(company, overview.QuerySelector("main p strong").Text());
    }

    [Fact]
    public async Task OrganisationLevelAdmin_StartsInNordicCoffeeApS()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);

        var settings = await client.GetDocumentAsync("/Settings");

        var facts = settings.QuerySelectorAll("main dl.facts dt").ToDictionary(dt => dt.Text(), dt => dt.NextElementSibling.Text());
        Assert.Equal("Nordic Coffee ApS", facts["Company"]);
        Assert.Equal("Nordic Coffee Group", facts["Organisation"]);
        Assert.Equal("Admin (organisation level)", facts["Your role"]);
    }

    [Fact]
    public async Task SeededKeys_AreThreeOnNordicCoffeeApSWithOneExpiredAndOneExpiringWithinSevenDays()
    {
        var now = factory.Time.GetUtcNow().UtcDateTime;
        var keys = await factory.WithDbAsync(db => db.ApiKeys.AsNoTracking().ToListAsync());

        Assert.Equal(3, keys.Count);
        Assert.All(keys, k =>
        {
            Assert.Equal(DemoData.NordicCoffeeApSId, k.CompanyId);
            Assert.Equal(AccessLevel.Company, k.AccessLevel);
            Assert.Null(k.DeletedAtUtc);
            Assert.StartsWith("$2", k.SecretHash, StringComparison.Ordinal);
            Assert.NotEmpty(k.Scopes);
        });
        Assert.Single(keys, k => k.ExpiresAtUtc <= now);
        Assert.Single(keys, k => k.ExpiresAtUtc > now && k.ExpiresAtUtc <= now.AddDays(7));
        Assert.Single(keys, k => k.ExpiresAtUtc > now.AddDays(7));
    }

    [Fact]
    public async Task SeededKeys_AreListedNewestFirstWithActiveExpiresSoonAndExpired()
    {
        var client = await factory.SignedInClientAsync(DemoData.Bookkeeper);

        var list = await client.GetAsync("/Settings/ApiKeys");

        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        var rows = (await Html.ParseAsync(list)).KeyTableRows();
        Assert.Equal(["Vendor import script", "Accounting sync (ERP)", "Old BI connector"], rows.Select(r => r["Name"]));
        Assert.EndsWith(" Expires soon", rows[0]["Expires"], StringComparison.Ordinal);
        Assert.EndsWith(" Active", rows[1]["Expires"], StringComparison.Ordinal);
        Assert.EndsWith(" Expired", rows[2]["Expires"], StringComparison.Ordinal);
    }
}

/// <summary>In the Production hosting environment the demo data is not seeded.</summary>
public sealed class ProductionSeedingTests(ProductionFactory factory) : IClassFixture<ProductionFactory>
{
    [Fact]
    public async Task Start_InProduction_SeedsNothing()
    {
        var counts = await factory.WithDbAsync(async db => (await db.Organisations.CountAsync(), await db.Users.CountAsync(), await db.ApiKeys.CountAsync()));

        Assert.Equal((0, 0, 0), counts);
    }
}
