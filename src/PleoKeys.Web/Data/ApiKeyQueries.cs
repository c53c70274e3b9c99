using PleoKeys.Web.Auth;

namespace PleoKeys.Web.Data;

public static class ApiKeyQueries
{
    /// <summary>
    /// The keys that cover the current company: its own entity keys and its organisation's keys, not deleted.
    /// Ownership is part of the query, so "not yours" and "no such key" are the same empty answer.
    /// </summary>
    public static IQueryable<ApiKey> CoveringCompany(this IQueryable<ApiKey> keys, CompanyView view) =>
        keys.ReachableFrom(view).Where(k => k.DeletedAtUtc == null);

    /// <summary>
    /// The keys a Details page shows: those not deleted, and those revoked because they were reported as exposed
    /// (their history and usage are what to review).
    /// </summary>
    public static IQueryable<ApiKey> ShownOnDetails(this IQueryable<ApiKey> keys) =>
        keys.Where(k => k.DeletedAtUtc == null || k.ReportedExposedAtUtc != null);

    /// <summary>The keys of the current company and its organisation, deleted ones included.</summary>
    public static IQueryable<ApiKey> ReachableFrom(this IQueryable<ApiKey> keys, CompanyView view)
    {
        var companyId = view.Company.Id;
        var organisationId = view.Company.OrganisationId;
        return keys.Where(k =>
            (k.AccessLevel == AccessLevel.Company && k.CompanyId == companyId) ||
            (k.AccessLevel == AccessLevel.Organisation && k.OrganisationId == organisationId));
    }

    /// <summary>
    /// The same keys as <see cref="CoveringCompany"/>, as the two ranges the indexes hold in creation order:
    /// the company's own keys (CompanyId, CreatedAtUtc) and its organisation's keys (OrganisationId,
    /// AccessLevel, CreatedAtUtc). A page read from each range in index order and merged costs a page of
    /// rows; ordering the OR of both makes SQLite read and sort every key of the company.
    /// </summary>
    public static (IQueryable<ApiKey> Own, IQueryable<ApiKey> Organisation) CoveringCompanyRanges(this IQueryable<ApiKey> keys, CompanyView view)
    {
        var companyId = view.Company.Id;
        var organisationId = view.Company.OrganisationId;
        return (
            keys.Where(k => k.CompanyId == companyId && k.AccessLevel == AccessLevel.Company && k.DeletedAtUtc == null),
            keys.Where(k => k.OrganisationId == organisationId && k.AccessLevel == AccessLevel.Organisation && k.DeletedAtUtc == null));
    }

    /// <summary>
    /// The company's keys whose secret works at <paramref name="now"/> (UTC): not deleted, not expired, and not a rolled
    /// secret past its grace period. What <c>PleoKeys:MaxActiveKeysPerCompany</c> counts, on Create and on a roll with a
    /// grace period. The (CompanyId, DeletedAtUtc, ExpiresAtUtc, SecretStopsAtUtc) index answers the count (on SQLite without reading a row).
    /// </summary>
    public static IQueryable<ApiKey> WorkingIn(this IQueryable<ApiKey> keys, Guid companyId, DateTime now) =>
        keys.Where(k => k.CompanyId == companyId && k.DeletedAtUtc == null && k.ExpiresAtUtc > now
            && (k.SecretStopsAtUtc == null || k.SecretStopsAtUtc > now));

    /// <summary>Organisation keys can be deleted only by organisation-level Admins and Bookkeepers.</summary>
    public static bool CanDelete(this CompanyView view, AccessLevel level) =>
        view.CanManageKeys && (level == AccessLevel.Company || view.ManagesOrganisation);
}
