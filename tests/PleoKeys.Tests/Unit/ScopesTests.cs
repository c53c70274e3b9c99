using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Tests.Unit;

public sealed class ScopesTests
{
    /// <summary>The scope strings issue 2 lists, in its order.</summary>
    public static readonly string[] IssueScopes =
    [
        "export-jobs:read", "export-jobs:write", "export-items:read", "accounts:read", "accounts:write",
        "vendors:read", "vendors:write", "users:read", "companies:read", "tag-groups:read", "tag-groups:write",
        "tax-codes:read", "tax-codes:write", "accounting-entries:write",
    ];

    [Fact]
    public void All_IsExactlyPleosScopeStrings()
    {
        Assert.Equal(IssueScopes, Scopes.All.Select(s => s.Value));
    }

    [Fact]
    public void All_HaveAnApiGroupAndAHumanLabel()
    {
        Assert.All(Scopes.All, s =>
        {
            Assert.False(string.IsNullOrWhiteSpace(s.Api));
            Assert.False(string.IsNullOrWhiteSpace(s.Label));
            Assert.DoesNotContain(":", s.Label, StringComparison.Ordinal);
        });
    }

    [Theory]
    [InlineData("payments:write")]
    [InlineData("VENDORS:READ")]
    [InlineData(" vendors:read")]
    [InlineData("vendors:*")]
    [InlineData("")]
    public void IsKnown_AnythingElse_IsFalse(string scope)
    {
        Assert.False(Scopes.IsKnown(scope));
    }

    [Fact]
    public void Join_StoresEachScopeOnceInCatalogueOrder()
    {
        var stored = Scopes.Join(["vendors:read", "accounts:read", "vendors:read", "export-jobs:read"]);

        Assert.Equal("export-jobs:read accounts:read vendors:read", stored);
        Assert.Equal(["export-jobs:read", "accounts:read", "vendors:read"], Scopes.Split(stored));
    }
}
