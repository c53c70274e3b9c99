using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Web.Data;

/// <summary>The demo organisations, users, keys and API data. Seeded only into an empty database.</summary>
public static class DemoData
{
    public const string Password = "Pleo-Demo-2026!";

    public static readonly Guid NordicCoffeeGroupId = new("0b7f1a2e-3c4d-4e5f-8a9b-000000000001");
    public static readonly Guid NordicCoffeeApSId = new("0b7f1a2e-3c4d-4e5f-8a9b-0000000000a1");
    public static readonly Guid NordicCoffeeAbId = new("0b7f1a2e-3c4d-4e5f-8a9b-0000000000a2");
    public static readonly Guid FjordBikesId = new("0b7f1a2e-3c4d-4e5f-8a9b-000000000002");
    public static readonly Guid FjordBikesAsId = new("0b7f1a2e-3c4d-4e5f-8a9b-0000000000b1");

    public const string Admin = "admin@nordiccoffee.example";
    public const string Bookkeeper = "bookkeeper@nordiccoffee.example";
    public const string Employee = "employee@nordiccoffee.example";
    public const string PersonalAdmin = "nina.nordic@gmail.com";
    public const string FjordAdmin = "admin@fjordbikes.example";

    public static async Task SeedAsync(IServiceProvider services, CancellationToken ct = default)
    {
        var db = services.GetRequiredService<AppDbContext>();
        if (await db.Organisations.AnyAsync(ct))
        {
            return;
        }

        var time = services.GetRequiredService<TimeProvider>();
        var hasher = services.GetRequiredService<IKeySecretHasher>();
        var digests = services.GetRequiredService<KeyDigests>();
        var options = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<PleoKeysOptions>>().Value;
        var users = services.GetRequiredService<UserManager<AppUser>>();
        var now = time.GetUtcNow().UtcDateTime;

        var nordic = new Organisation { Id = NordicCoffeeGroupId, Name = "Nordic Coffee Group" };
        var aps = new Company
        {
            Id = NordicCoffeeApSId, Name = "Nordic Coffee ApS", Country = "DK",
            TimeZoneId = "Europe/Copenhagen", ApiKeyAccess = true,
        };
        var ab = new Company
        {
            Id = NordicCoffeeAbId, Name = "Nordic Coffee AB", Country = "SE",
            TimeZoneId = "Europe/Stockholm", ApiKeyAccess = true,
        };
        nordic.Companies.AddRange([aps, ab]);
        var fjord = new Organisation { Id = FjordBikesId, Name = "Fjord Bikes" };
        var fjordAs = new Company
        {
            Id = FjordBikesAsId, Name = "Fjord Bikes AS", Country = "NO",
            TimeZoneId = "Europe/Oslo", ApiKeyAccess = false,
        };
        fjord.Companies.Add(fjordAs);
        db.Organisations.AddRange(nordic, fjord);
        await db.SaveChangesAsync(ct);

        var admin = await AddUserAsync(users, Admin, "Astrid Admin", aps.Id);
        await AddUserAsync(users, Bookkeeper, "Bo Bookkeeper", aps.Id);
        await AddUserAsync(users, Employee, "Erik Employee", aps.Id);
        await AddUserAsync(users, PersonalAdmin, "Nina Nordic", aps.Id);
        await AddUserAsync(users, FjordAdmin, "Frida Fjord", fjordAs.Id);

        async Task<string> IdOf(string email) => (await users.FindByEmailAsync(email))!.Id;
        db.Memberships.AddRange(
            new Membership { UserId = admin.Id, OrganisationId = nordic.Id, Role = MemberRole.Admin },
            new Membership { UserId = await IdOf(Bookkeeper), OrganisationId = nordic.Id, CompanyId = aps.Id, Role = MemberRole.Bookkeeper },
            new Membership { UserId = await IdOf(Employee), OrganisationId = nordic.Id, CompanyId = aps.Id, Role = MemberRole.Employee },
            new Membership { UserId = await IdOf(PersonalAdmin), OrganisationId = nordic.Id, CompanyId = aps.Id, Role = MemberRole.Admin },
            new Membership { UserId = await IdOf(FjordAdmin), OrganisationId = fjord.Id, CompanyId = fjordAs.Id, Role = MemberRole.Admin });

        // A few keys so the list is not empty on first run: one expired, one expiring within 7 days.
        // Their plaintext is thrown away at once; nobody can use them, which is what a demo needs.
        AddKey("Accounting sync (ERP)", 60, 300, [Scopes.ExportJobsRead, Scopes.ExportJobsWrite, Scopes.AccountsRead]);
        AddKey("Vendor import script", 20, 5, [Scopes.VendorsRead, Scopes.VendorsWrite]);
        AddKey("Old BI connector", 400, -10, [Scopes.UsersRead, Scopes.CompaniesRead]);

        void AddKey(string name, int createdDaysAgo, int expiresInDays, string[] scopes)
        {
            var key = ApiKeyFormat.Generate(options.Environment);
            var tz = TimeZoneInfo.FindSystemTimeZoneById(aps.TimeZoneId);
            var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTimeFromUtc(now, tz));
            db.ApiKeys.Add(new ApiKey
            {
                Id = Guid.NewGuid(),
                KeyId = key.KeyId,
                Environment = key.Environment,
                Last4 = key.Last4,
                SecretHash = hasher.Hash(key.Key),
                SecretDigest = digests.Compute(key.Key),
                DigestSecretId = digests.SecretId,
                Name = name,
                NormalizedName = KeyName.Fold(name),
                AccessLevel = AccessLevel.Company,
                CompanyId = aps.Id,
                OrganisationId = nordic.Id,
                Scopes = ApiKeys.Scopes.Join(scopes),
                CreatedAtUtc = now.AddDays(-createdDaysAgo),
                CreatedByUserId = admin.Id,
                CreatedByName = admin.DisplayName,
                ExpiresAtUtc = Expiry.EndOfDayUtc(today.AddDays(expiresInDays), tz),
            });
        }

        SeedApiData(db, aps.Id, "DK", now);
        SeedApiData(db, ab.Id, "SE", now);
        SeedApiData(db, fjordAs.Id, "NO", now);
        await db.SaveChangesAsync(ct);
    }

    private static async Task<AppUser> AddUserAsync(UserManager<AppUser> users, string email, string name, Guid defaultCompany)
    {
        var user = new AppUser
        {
            UserName = email, Email = email, EmailConfirmed = true, DisplayName = name,
            DefaultCompanyId = defaultCompany,
        };
        var result = await users.CreateAsync(user, Password);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException("Seeding user failed: " + string.Join("; ", result.Errors.Select(e => e.Description)));
        }

        return user;
    }

    private static void SeedApiData(AppDbContext db, Guid companyId, string country, DateTime now)
    {
        string[] first = ["Anna", "Lars", "Maja", "Oskar", "Sofie"];
        string[] last = ["Jensen", "Lindqvist", "Hansen", "Berg", "Nielsen"];
        for (var i = 0; i < first.Length; i++)
        {
            db.Employees.Add(new Employee
            {
                Id = Guid.NewGuid(), CompanyId = companyId, FirstName = first[i], LastName = last[i],
                Email = $"{first[i].ToLowerInvariant()}.{country.ToLowerInvariant()}@example.com",
                JobTitle = i == 0 ? "Finance lead" : "Barista",
            });
        }

        string[] vendors = ["Bean Importers", "Office Supplies Co", "Nordic Energy", "CloudHost"];
        foreach (var v in vendors)
        {
            db.Vendors.Add(new Vendor { Id = Guid.NewGuid(), CompanyId = companyId, Name = v, Country = country, CreatedAtUtc = now.AddDays(-30) });
        }

        (string Code, string Name, string Type)[] accounts =
            [("1000", "Cash", "ASSET"), ("2000", "Accounts payable", "LIABILITY"), ("4000", "Sales", "REVENUE"), ("6000", "Travel", "EXPENSE")];
        foreach (var a in accounts)
        {
            db.Accounts.Add(new Account { Id = Guid.NewGuid(), CompanyId = companyId, Code = a.Code, Name = a.Name, Type = a.Type, CreatedAtUtc = now.AddDays(-60) });
        }

        db.ExportJobs.Add(new ExportJob { Id = Guid.NewGuid(), CompanyId = companyId, Status = "COMPLETED", PeriodFrom = now.AddDays(-60), PeriodTo = now.AddDays(-30), CreatedAtUtc = now.AddDays(-29) });
        db.ExportJobs.Add(new ExportJob { Id = Guid.NewGuid(), CompanyId = companyId, Status = "PENDING", PeriodFrom = now.AddDays(-30), PeriodTo = now, CreatedAtUtc = now.AddHours(-1) });
    }
}
