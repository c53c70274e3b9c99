using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Web.Auth;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Api;

/// <summary>
/// Which companies an authenticated key reaches. An entity key reaches its company (company_id may be
/// omitted); an organisation key reaches every entity of its organisation and must name one.
/// </summary>
public sealed record KeyReach(Guid KeyRowId, AccessLevel AccessLevel, Guid CompanyId, Guid OrganisationId)
{
    public static KeyReach Of(ClaimsPrincipal user) => new(
        Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)!),
        Enum.Parse<AccessLevel>(user.FindFirstValue(ApiKeyDefaults.AccessLevelClaim)!),
        Guid.Parse(user.FindFirstValue(ApiKeyDefaults.CompanyClaim)!),
        Guid.Parse(user.FindFirstValue(ApiKeyDefaults.OrganisationClaim)!));

    /// <summary>The answer to a key whose company's API key access is switched off (by the operator command).</summary>
    public static string SwitchedOff(string companyName) => $"API key access is switched off for {companyName}.";

    /// <summary>The companies the key's access level covers, whether or not their API key access is on.</summary>
    public IQueryable<Company> Companies(AppDbContext db) =>
        AccessLevel == AccessLevel.Organisation
            ? db.Companies.Where(c => c.OrganisationId == OrganisationId)
            : db.Companies.Where(c => c.Id == CompanyId);

    /// <summary>The company a company-scoped call works on, or the problem to answer with.</summary>
    public async Task<(Guid CompanyId, IResult? Problem)> ResolveAsync(string? companyId, AppDbContext db)
    {
        if (string.IsNullOrWhiteSpace(companyId))
        {
            return AccessLevel == AccessLevel.Company
                ? (CompanyId, null)
                : (Guid.Empty, ApiProblems.BadRequest("company_id is required",
                    "This organisation-level API key covers several companies. Name one with the company_id query parameter (GET /v1/companies lists them)."));
        }

        if (!Guid.TryParse(companyId, out var id))
        {
            return (Guid.Empty, ApiProblems.BadRequest("Invalid company_id", "company_id must be a company UUID, such as the id in urn:pleo:company:<uuid>."));
        }

        var reached = await Companies(db).Where(c => c.Id == id).Select(c => new { c.Name, c.ApiKeyAccess }).SingleOrDefaultAsync();
        if (reached is null)
        {
            return (Guid.Empty, ApiProblems.Forbidden($"This API key does not reach company {id}. Its access level covers only " +
                (AccessLevel == AccessLevel.Organisation ? "the entities of its own organisation." : "the company it was created for.")));
        }

        // Switched off by Pleo's operator command: an organisation key keeps its other entities, not this one.
        // (An entity key of that company is already refused when it authenticates.)
        return reached.ApiKeyAccess
            ? (id, null)
            : (Guid.Empty, ApiProblems.Forbidden(SwitchedOff(reached.Name)));
    }
}

public static class ApiProblems
{
    public static IResult BadRequest(string title, string detail) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status400BadRequest);

    public static IResult Forbidden(string detail) =>
        TypedResults.Problem(title: "Forbidden", detail: detail, statusCode: StatusCodes.Status403Forbidden);
}
