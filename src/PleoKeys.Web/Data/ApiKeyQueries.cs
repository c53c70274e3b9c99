using PleoKeys.Web.Auth;

namespace PleoKeys.Web.Data;

public static class ApiKeyQueries
{
    /// <summary>
    /// The keys that cover the current company: its own entity keys and its organisation's keys, not deleted.
    /// Ownership is part of the query, so "not yours" and "no such key" are the same empty answer.
    /// </summary>
    public static IQueryable<ApiKey> CoveringCompany(this IQueryable<ApiKey> keys, CompanyView view)
    {
        var companyId = view.Company.Id;
        var organisationId = view.Company.OrganisationId;
        return keys.Where(k => k.DeletedAtUtc == null &&
            ((k.AccessLevel == AccessLevel.Company && k.CompanyId == companyId) ||
             (k.AccessLevel == AccessLevel.Organisation && k.OrganisationId == organisationId)));
    }

    /// <summary>Organisation keys can be deleted only by organisation-level Admins and Bookkeepers.</summary>
    public static bool CanDelete(this CompanyView view, AccessLevel level) =>
        view.CanManageKeys && (level == AccessLevel.Company || view.ManagesOrganisation);
}
