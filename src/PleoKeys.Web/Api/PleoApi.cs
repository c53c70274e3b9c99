using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Auth;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Api;

public sealed record InstallationResponse(
    Guid Id, string ApplicationId, string Resource, string Status, string[] Scopes, Dictionary<string, string> Metadata,
    DateTime CreatedAt, DateTime UpdatedAt, DateTime ExpiresAt);

public sealed record CompanyResponse(Guid Id, string Name, string Country, Guid OrganizationId, string OrganizationName);

public sealed record EmployeeResponse(Guid Id, Guid CompanyId, string FirstName, string LastName, string Email, string? JobTitle);

public sealed record VendorResponse(Guid Id, Guid CompanyId, string Name, string? Country, string? TaxRegistrationNumber, DateTime CreatedAt);

public sealed record AccountResponse(Guid Id, Guid CompanyId, string Code, string Name, string Type, DateTime CreatedAt);

public sealed record ExportJobResponse(Guid Id, Guid CompanyId, string Status, DateTime? PeriodFrom, DateTime? PeriodTo, DateTime CreatedAt);

public sealed record CreateVendorRequest(string? Name, string? Country, string? TaxRegistrationNumber);

public sealed record CreateAccountRequest(string? Code, string? Name, string? Type);

public sealed record CreateExportJobRequest(DateTime? PeriodFrom, DateTime? PeriodTo);

/// <summary>
/// The Pleo-shaped External API that standalone keys open. Each endpoint names its scope as a policy;
/// company reach is checked by <see cref="KeyReach"/>, never by the caller's word.
/// </summary>
public static class PleoApi
{
    /// <summary>The policy of every <c>/v1</c> and <c>/v2</c> endpoint: an authenticated key, called from inside its IP allowlist.</summary>
    public const string AnyKeyPolicy = "api-key";

    /// <summary>
    /// The policy a scoped endpoint adds to <see cref="AnyKeyPolicy"/>: the key holds the scope (a <c>scope</c> claim).
    /// It holds nothing else, so the combined policy runs each requirement once.
    /// </summary>
    public static string ScopePolicy(string scope) => "scope:" + scope;

    /// <summary>Paths served the API's way (keys, problem details).</summary>
    public static bool IsApiPath(PathString path) =>
        path.StartsWithSegments("/v1") || path.StartsWithSegments("/v2") || path.StartsWithSegments("/openapi");

    private static readonly string[] AccountTypes = ["ASSET", "LIABILITY", "EQUITY", "REVENUE", "EXPENSE"];

    public static IEndpointRouteBuilder MapPleoApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").RequireAuthorization(AnyKeyPolicy).RequireRateLimiting(ApiRateLimiting.PerKeyPolicy);
        var v2 = app.MapGroup("/v2").RequireAuthorization(AnyKeyPolicy).RequireRateLimiting(ApiRateLimiting.PerKeyPolicy);

        v1.MapGet("/installations/me", GetInstallation).WithTags("Installations")
            .WithSummary("Get the installation of the calling key").WithDescription("The first call of an integration; any valid key.");
        v1.MapPost("/installations/me", ActivateInstallation).WithTags("Installations")
            .WithSummary("Activate the installation of the calling key").WithDescription("Idempotent; any valid key.");
        v1.MapGet("/companies", GetCompanies).Scope(Scopes.CompaniesRead).WithTags("Companies").WithSummary("List the companies the key reaches");
        v1.MapGet("/employees", GetEmployees).Scope(Scopes.UsersRead).WithTags("Employees").WithSummary("List employees");
        v1.MapGet("/vendors", GetVendors).Scope(Scopes.VendorsRead).WithTags("Vendors").WithSummary("List vendors");
        v1.MapPost("/vendors", CreateVendor).Scope(Scopes.VendorsWrite).WithTags("Vendors").WithSummary("Create a vendor");
        v1.MapGet("/accounts", GetAccounts).Scope(Scopes.AccountsRead).WithTags("Chart of accounts").WithSummary("List accounts");
        v1.MapPost("/accounts", CreateAccount).Scope(Scopes.AccountsWrite).WithTags("Chart of accounts").WithSummary("Create an account");
        v2.MapGet("/export-jobs", GetExportJobs).Scope(Scopes.ExportJobsRead).WithTags("Export").WithSummary("List export jobs");
        v2.MapPost("/export-jobs", CreateExportJob).Scope(Scopes.ExportJobsWrite).WithTags("Export").WithSummary("Create an export job");
        return app;
    }

    private static RouteHandlerBuilder Scope(this RouteHandlerBuilder builder, string scope) =>
        builder.RequireAuthorization(ScopePolicy(scope))
            .WithMetadata(new RequiredScopeMetadata(scope))
            .WithDescription($"Requires the scope `{scope}`.");

    /// <summary>
    /// Answers from the key's state the verifier already holds (see <see cref="ApiKeyFeature"/>), so the
    /// integration's most frequent call costs no database read; activation invalidates that state.
    /// </summary>
    internal static Ok<InstallationResponse> GetInstallation(HttpContext context) =>
        TypedResults.Ok(ToInstallation(ApiKeyFeature.Of(context)));

    internal static async Task<IResult> ActivateInstallation(HttpContext context, AppDbContext db, IKeyStore store, KeyRevocation revocation, TimeProvider time)
    {
        var key = ApiKeyFeature.Of(context);
        var now = time.GetUtcNow().UtcDateTime;
        // Only the first activation writes; later calls answer the same installation.
        var activated = await db.ApiKeys.Where(k => k.Id == key.Id && k.InstallationActivatedAtUtc == null)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.InstallationActivatedAtUtc, now)
                .SetProperty(k => k.ChangedAtUtc, now).SetProperty(k => k.ChangeCount, k => k.ChangeCount + 1));
        if (activated > 0)
        {
            await revocation.KeyChangedAsync(key.KeyId);
        }

        var fresh = await store.FindAsync(key.KeyId, context.RequestAborted);
        return TypedResults.Ok(ToInstallation(fresh!));
    }

    /// <summary>The installation of a key (public: the benchmark's anonymous twin in bench/ builds the same answer).</summary>
    public static InstallationResponse ToInstallation(KeySnapshot key) => new(
        key.Id,
        "standalone-api-key",
        key.AccessLevel == AccessLevel.Organisation ? $"urn:pleo:organization:{key.OrganisationId}" : $"urn:pleo:company:{key.CompanyId}",
        "ACTIVATED",
        key.Scopes,
        new Dictionary<string, string> { ["name"] = key.Name, ["keyId"] = key.KeyId },
        key.CreatedAtUtc,
        key.InstallationActivatedAtUtc ?? key.CreatedAtUtc,
        key.ExpiresAtUtc);

    internal static async Task<IResult> GetCompanies(ClaimsPrincipal user, AppDbContext db, string? offset, string? limit)
    {
        var (paging, problem) = Paging.Parse(offset, limit);
        if (problem is not null)
        {
            return problem;
        }

        // A company whose API key access is switched off is left out: no key reaches it until it is on again.
        var query = KeyReach.Of(user).Companies(db).Where(c => c.ApiKeyAccess).AsNoTracking();
        return TypedResults.Ok(await PageAsync(query.OrderBy(c => c.Name).ThenBy(c => c.Id), paging,
            c => new CompanyResponse(c.Id, c.Name, c.Country, c.OrganisationId, c.Organisation.Name)));
    }

    internal static Task<IResult> GetEmployees(ClaimsPrincipal user, AppDbContext db, string? company_id, string? offset, string? limit) =>
        ListAsync(user, db, company_id, offset, limit, (q, id) => q.Employees.Where(e => e.CompanyId == id).OrderBy(e => e.LastName).ThenBy(e => e.Id),
            e => new EmployeeResponse(e.Id, e.CompanyId, e.FirstName, e.LastName, e.Email, e.JobTitle));

    internal static Task<IResult> GetVendors(ClaimsPrincipal user, AppDbContext db, string? company_id, string? offset, string? limit) =>
        ListAsync(user, db, company_id, offset, limit, (q, id) => q.Vendors.Where(v => v.CompanyId == id).OrderBy(v => v.Name).ThenBy(v => v.Id),
            v => new VendorResponse(v.Id, v.CompanyId, v.Name, v.Country, v.TaxRegistrationNumber, v.CreatedAtUtc));

    internal static Task<IResult> GetAccounts(ClaimsPrincipal user, AppDbContext db, string? company_id, string? offset, string? limit) =>
        ListAsync(user, db, company_id, offset, limit, (q, id) => q.Accounts.Where(a => a.CompanyId == id).OrderBy(a => a.Code).ThenBy(a => a.Id),
            a => new AccountResponse(a.Id, a.CompanyId, a.Code, a.Name, a.Type, a.CreatedAtUtc));

    internal static Task<IResult> GetExportJobs(ClaimsPrincipal user, AppDbContext db, string? company_id, string? offset, string? limit) =>
        ListAsync(user, db, company_id, offset, limit, (q, id) => q.ExportJobs.Where(j => j.CompanyId == id).OrderByDescending(j => j.CreatedAtUtc).ThenBy(j => j.Id),
            j => new ExportJobResponse(j.Id, j.CompanyId, j.Status, j.PeriodFrom, j.PeriodTo, j.CreatedAtUtc));

    internal static async Task<IResult> CreateVendor(ClaimsPrincipal user, AppDbContext db, TimeProvider time, string? company_id, CreateVendorRequest body)
    {
        var (companyId, problem) = await KeyReach.Of(user).ResolveAsync(company_id, db);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new Dictionary<string, string[]>();
        var name = body.Name?.Trim() ?? "";
        if (name.Length is 0 or > 200)
        {
            errors["name"] = ["name is required, 1 to 200 characters."];
        }

        if (body.Country is { } country && (country.Length != 2 || !country.All(char.IsAsciiLetterUpper)))
        {
            errors["country"] = ["country is a two-letter ISO 3166 code in capitals, such as DK."];
        }

        if (body.TaxRegistrationNumber is { Length: > 50 })
        {
            errors["taxRegistrationNumber"] = ["taxRegistrationNumber is at most 50 characters."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var vendor = new Vendor
        {
            Id = Guid.NewGuid(), CompanyId = companyId, Name = name, Country = body.Country,
            TaxRegistrationNumber = body.TaxRegistrationNumber, CreatedAtUtc = time.GetUtcNow().UtcDateTime,
        };
        db.Vendors.Add(vendor);
        await db.SaveChangesAsync();
        return TypedResults.Created($"/v1/vendors/{vendor.Id}",
            new VendorResponse(vendor.Id, vendor.CompanyId, vendor.Name, vendor.Country, vendor.TaxRegistrationNumber, vendor.CreatedAtUtc));
    }

    internal static async Task<IResult> CreateAccount(ClaimsPrincipal user, AppDbContext db, TimeProvider time, string? company_id, CreateAccountRequest body)
    {
        var (companyId, problem) = await KeyReach.Of(user).ResolveAsync(company_id, db);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new Dictionary<string, string[]>();
        var code = body.Code?.Trim() ?? "";
        var name = body.Name?.Trim() ?? "";
        if (code.Length is 0 or > 20)
        {
            errors["code"] = ["code is required, 1 to 20 characters."];
        }

        if (name.Length is 0 or > 200)
        {
            errors["name"] = ["name is required, 1 to 200 characters."];
        }

        if (body.Type is null || !AccountTypes.Contains(body.Type))
        {
            errors["type"] = [$"type is one of {string.Join(", ", AccountTypes)}."];
        }

        if (errors.Count == 0 && await db.Accounts.AnyAsync(a => a.CompanyId == companyId && a.Code == code))
        {
            errors["code"] = [$"An account with code {code} already exists in this company."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var account = new Account { Id = Guid.NewGuid(), CompanyId = companyId, Code = code, Name = name, Type = body.Type!, CreatedAtUtc = time.GetUtcNow().UtcDateTime };
        db.Accounts.Add(account);
        await db.SaveChangesAsync();
        return TypedResults.Created($"/v1/accounts/{account.Id}",
            new AccountResponse(account.Id, account.CompanyId, account.Code, account.Name, account.Type, account.CreatedAtUtc));
    }

    internal static async Task<IResult> CreateExportJob(ClaimsPrincipal user, AppDbContext db, TimeProvider time, string? company_id, CreateExportJobRequest body)
    {
        var (companyId, problem) = await KeyReach.Of(user).ResolveAsync(company_id, db);
        if (problem is not null)
        {
            return problem;
        }

        var errors = new Dictionary<string, string[]>();
        if (body.PeriodFrom is null)
        {
            errors["periodFrom"] = ["periodFrom is required (an ISO 8601 date-time)."];
        }

        if (body.PeriodTo is null)
        {
            errors["periodTo"] = ["periodTo is required (an ISO 8601 date-time)."];
        }

        if (body.PeriodFrom is { } from && body.PeriodTo is { } to && to <= from)
        {
            errors["periodTo"] = ["periodTo must be after periodFrom."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var job = new ExportJob
        {
            Id = Guid.NewGuid(), CompanyId = companyId, Status = "PENDING",
            PeriodFrom = body.PeriodFrom!.Value.ToUniversalTime(), PeriodTo = body.PeriodTo!.Value.ToUniversalTime(),
            CreatedAtUtc = time.GetUtcNow().UtcDateTime,
        };
        db.ExportJobs.Add(job);
        await db.SaveChangesAsync();
        return TypedResults.Created($"/v2/export-jobs/{job.Id}",
            new ExportJobResponse(job.Id, job.CompanyId, job.Status, job.PeriodFrom, job.PeriodTo, job.CreatedAtUtc));
    }

    private static async Task<IResult> ListAsync<TEntity, TResponse>(
        ClaimsPrincipal user, AppDbContext db, string? companyId, string? offset, string? limit,
        Func<AppDbContext, Guid, IOrderedQueryable<TEntity>> query,
        System.Linq.Expressions.Expression<Func<TEntity, TResponse>> project)
        where TEntity : class
    {
        var (paging, pagingProblem) = Paging.Parse(offset, limit);
        if (pagingProblem is not null)
        {
            return pagingProblem;
        }

        var (id, problem) = await KeyReach.Of(user).ResolveAsync(companyId, db);
        return problem ?? TypedResults.Ok(await PageAsync(query(db, id), paging, project));
    }

    private static async Task<Page<TResponse>> PageAsync<TEntity, TResponse>(
        IOrderedQueryable<TEntity> query, Paging paging, System.Linq.Expressions.Expression<Func<TEntity, TResponse>> project)
        where TEntity : class
    {
        var total = await query.CountAsync();
        var data = await query.AsNoTracking().Skip(paging.Offset).Take(paging.Limit).Select(project).ToListAsync();
        return new Page<TResponse>(data, new PageInfo(paging.Offset, paging.Limit, total));
    }
}

/// <summary>Marks an endpoint with the scope it needs, for OpenAPI and the 403 message.</summary>
public sealed record RequiredScopeMetadata(string Scope);
