namespace PleoKeys.Web.ApiKeys;

public sealed record ScopeInfo(string Value, string Api, string Label);

/// <summary>
/// Pleo's scope strings (<c>resource:permission</c>). The create form is rendered from this list and the
/// server validates against the same list, so the two cannot drift apart.
/// </summary>
public static class Scopes
{
    public const string ExportJobsRead = "export-jobs:read";
    public const string ExportJobsWrite = "export-jobs:write";
    public const string ExportItemsRead = "export-items:read";
    public const string AccountsRead = "accounts:read";
    public const string AccountsWrite = "accounts:write";
    public const string VendorsRead = "vendors:read";
    public const string VendorsWrite = "vendors:write";
    public const string UsersRead = "users:read";
    public const string CompaniesRead = "companies:read";
    public const string TagGroupsRead = "tag-groups:read";
    public const string TagGroupsWrite = "tag-groups:write";
    public const string TaxCodesRead = "tax-codes:read";
    public const string TaxCodesWrite = "tax-codes:write";
    public const string AccountingEntriesWrite = "accounting-entries:write";

    public static readonly IReadOnlyList<ScopeInfo> All =
    [
        new(ExportJobsRead, "Export", "Read export jobs and their items"),
        new(ExportJobsWrite, "Export", "Create export jobs and events, update job items"),
        new(ExportItemsRead, "Export", "Read export items"),
        new(AccountsRead, "Chart of accounts", "Read accounts"),
        new(AccountsWrite, "Chart of accounts", "Create, update and delete accounts"),
        new(VendorsRead, "Vendors", "Read vendors"),
        new(VendorsWrite, "Vendors", "Create, update and archive vendors"),
        new(UsersRead, "Employees", "Search and read employees"),
        new(CompaniesRead, "Companies", "List companies"),
        new(TagGroupsRead, "Tags", "Read tag groups"),
        new(TagGroupsWrite, "Tags", "Create and update tag groups"),
        new(TaxCodesRead, "Tax codes", "Read tax codes"),
        new(TaxCodesWrite, "Tax codes", "Create and update tax codes"),
        new(AccountingEntriesWrite, "Accounting entries", "Enrich accounting entries"),
    ];

    private static readonly HashSet<string> Known = All.Select(s => s.Value).ToHashSet(StringComparer.Ordinal);

    public static bool IsKnown(string scope) => Known.Contains(scope);

    /// <summary>Stored form: the scopes in catalogue order, space-separated (as OAuth writes them).</summary>
    public static string Join(IEnumerable<string> scopes)
    {
        var chosen = scopes.ToHashSet(StringComparer.Ordinal);
        return string.Join(' ', All.Where(s => chosen.Contains(s.Value)).Select(s => s.Value));
    }

    public static string[] Split(string stored) =>
        stored.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
