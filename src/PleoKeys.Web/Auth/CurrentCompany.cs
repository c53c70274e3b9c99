using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.Auth;

/// <summary>Why the signed-in user may not manage API keys in the current company.</summary>
public enum KeyAccessDenial
{
    None,
    NoCompany,
    FeatureOff,
    NotAdminOrBookkeeper,
    PersonalEmail,
}

public sealed record CompanyChoice(Guid Id, string Name);

/// <summary>What the signed-in user is in the company they are working in, loaded once per request.</summary>
public sealed class CompanyView
{
    public required Company Company { get; init; }
    public required string OrganisationName { get; init; }
    public required int EntityCount { get; init; }
    public required IReadOnlyList<CompanyChoice> Choices { get; init; }

    /// <summary>The strongest role the user holds here, counting an organisation-level one.</summary>
    public required MemberRole Role { get; init; }

    /// <summary>True when the user is Admin or Bookkeeper for the whole organisation.</summary>
    public required bool ManagesOrganisation { get; init; }

    public required string UserId { get; init; }
    public required string UserName { get; init; }
    public required string Email { get; init; }
    public required KeyAccessDenial Denial { get; init; }

    public bool CanManageKeys => Denial == KeyAccessDenial.None;

    /// <summary>Organisation keys are offered only in a multi-entity organisation, to organisation-level managers.</summary>
    public bool CanUseOrganisationKeys => CanManageKeys && ManagesOrganisation && EntityCount > 1;

    /// <summary>Why the user may not manage keys here, in the words of <paramref name="t"/> (the request's language).</summary>
    public string DenialMessageIn(Microsoft.Extensions.Localization.IStringLocalizer t) => Denial switch
    {
        KeyAccessDenial.FeatureOff =>
            t["API keys are not enabled for {0}. API key access is set up by Pleo during onboarding; contact Pleo support to have it turned on.", Company.Name],
        KeyAccessDenial.NotAdminOrBookkeeper =>
            t["Only Admins and Bookkeepers of {0} can manage API keys. Ask an Admin if you need a key.", Company.Name],
        KeyAccessDenial.PersonalEmail =>
            t["API keys are created from a work email account. You are signed in as {0}, a personal email address; sign in with your work email to manage API keys.", Email],
        KeyAccessDenial.NoCompany => t["You are not a member of any company."],
        _ => "",
    };
}

/// <summary>
/// Resolves the current company (chosen in the header, kept in a cookie, re-checked against the
/// user's memberships on every request) and the user's reach in it.
/// </summary>
public sealed class CurrentCompany(
    AppDbContext db,
    IHttpContextAccessor accessor,
    UserManager<AppUser> users,
    IOptions<PleoKeysOptions> options)
{
    public const string CookieName = "pleokeys.company";

    /// <summary>The company cookie's flags, the same when it is set and when it is cleared.</summary>
    public static CookieOptions CookieOptions(HttpRequest request) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Lax,
        Secure = request.IsHttps,
        IsEssential = true,
    };

    private CompanyView? _view;
    private bool _loaded;
    private Reach? _reach;

    /// <summary>The signed-in user and the companies they reach, read once per request.</summary>
    private sealed record Reach(AppUser User, List<Membership> Memberships, List<Company> Companies, List<Company> Reachable);

    public async Task<CompanyView?> GetAsync()
    {
        if (_loaded)
        {
            return _view;
        }

        _loaded = true;
        if (await ReachAsync() is not { } reach)
        {
            return null;
        }

        var chosen = Guid.TryParse(accessor.HttpContext!.Request.Cookies[CookieName], out var cookieId) ? cookieId : reach.User.DefaultCompanyId;
        _view = ViewOf(reach, reach.Reachable.FirstOrDefault(c => c.Id == chosen) ?? reach.Reachable[0]);
        return _view;
    }

    /// <summary>
    /// What the user would be in <paramref name="companyId"/> if they switched to it (null when they do not belong to
    /// it), without switching: the current company stays as the cookie says.
    /// </summary>
    public async Task<CompanyView?> ForAsync(Guid companyId) =>
        await ReachAsync() is { } reach && reach.Reachable.FirstOrDefault(c => c.Id == companyId) is { } company
            ? ViewOf(reach, company)
            : null;

    private async Task<Reach?> ReachAsync()
    {
        if (_reach is not null)
        {
            return _reach;
        }

        var userId = accessor.HttpContext?.User.FindFirstValue(ClaimTypes.NameIdentifier);
        if (userId is null || await users.FindByIdAsync(userId) is not { } user)
        {
            return null;
        }

        // The user's memberships with every company of their organisations, in one query (a row per pair).
        var rows = await (
                from m in db.Memberships.AsNoTracking()
                where m.UserId == userId
                join c in db.Companies.AsNoTracking() on m.OrganisationId equals c.OrganisationId
                select new { Membership = m, Company = c, c.Organisation })
            .ToListAsync();
        var memberships = rows.Select(r => r.Membership).DistinctBy(m => m.Id).ToList();
        var companies = rows.DistinctBy(r => r.Company.Id).Select(r =>
        {
            r.Company.Organisation = r.Organisation;
            return r.Company;
        }).ToList();
        // A company-level membership reaches that company; an organisation-level one reaches all its entities.
        var reachable = companies
            .Where(c => memberships.Any(m => m.OrganisationId == c.OrganisationId && (m.CompanyId is null || m.CompanyId == c.Id)))
            .OrderBy(c => c.Organisation.Name, StringComparer.Ordinal).ThenBy(c => c.Name, StringComparer.Ordinal)
            .ToList();
        return reachable.Count == 0 ? null : _reach = new Reach(user, memberships, companies, reachable);
    }

    private CompanyView ViewOf(Reach reach, Company company)
    {
        var here = reach.Memberships.Where(m => m.OrganisationId == company.OrganisationId && (m.CompanyId is null || m.CompanyId == company.Id)).ToList();
        var role = here.Max(m => m.Role);
        var managesOrganisation = here.Any(m => m.CompanyId is null && m.Role is MemberRole.Admin or MemberRole.Bookkeeper);
        var email = reach.User.Email ?? "";

        var denial = !company.ApiKeyAccess ? KeyAccessDenial.FeatureOff
            : role is not (MemberRole.Admin or MemberRole.Bookkeeper) ? KeyAccessDenial.NotAdminOrBookkeeper
            : IsPersonalEmail(email, options.Value.PersonalEmailDomains) ? KeyAccessDenial.PersonalEmail
            : KeyAccessDenial.None;

        return new CompanyView
        {
            Company = company,
            OrganisationName = company.Organisation.Name,
            EntityCount = reach.Companies.Count(c => c.OrganisationId == company.OrganisationId),
            Choices = reach.Reachable.Select(c => new CompanyChoice(c.Id, c.Name)).ToList(),
            Role = role,
            ManagesOrganisation = managesOrganisation,
            UserId = reach.User.Id,
            UserName = reach.User.DisplayName,
            Email = email,
            Denial = denial,
        };
    }

    public static bool IsPersonalEmail(string email, IEnumerable<string> domains)
    {
        var at = email.LastIndexOf('@');
        if (at < 0)
        {
            return false;
        }

        var domain = email[(at + 1)..].Trim();
        return domains.Any(d => string.Equals(d, domain, StringComparison.OrdinalIgnoreCase));
    }
}
