using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Pages;

/// <summary>
/// Issue 12, "Search that ignores case for every alphabet": the list's search matches a name whatever its letter
/// case, by Unicode full case folding, on both providers (run with PLEOKEYS_TEST_PROVIDER=Postgres too).
/// Each name carries a tag; the search term is the folded part plus the tag, so only this test's keys match.
/// </summary>
public sealed class KeySearchCaseFoldingTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    private static string Search(string term) => "/Settings/ApiKeys?q=" + Uri.EscapeDataString(term);

    private static string Tag() => Guid.NewGuid().ToString("N")[..8];

    /// <summary>The measured case: "Straße export" was not found by STRASSE, strasse or STRAẞE.</summary>
    [Theory]
    [InlineData("STRASSE")]
    [InlineData("strasse")]
    [InlineData("STRAẞE")]
    [InlineData("straße")]
    [InlineData("Straße EXPORT")]
    public async Task Search_Strasse_FindsStraßeExport(string term)
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var tag = Tag();
        var name = $"Straße export {tag}";
        await client.CreateKeyAsync(name);
        await client.CreateKeyAsync($"Strasbourg {tag}");

        var names = (await client.GetDocumentAsync(Search(term))).KeyNames()
            .Where(n => n.EndsWith(tag, StringComparison.Ordinal)).ToList();

        Assert.Equal([name], names);
    }

    /// <summary>Other full foldings: a ligature, Greek final sigma, a capital with two letters, decomposed input.</summary>
    [Theory]
    [InlineData("ﬁnance", "FINANCE")]            // U+FB01 LATIN SMALL LIGATURE FI folds to "fi"
    [InlineData("ΟΔΟΣ ΛΟΓΙΣΤΙΚΗ", "οδος")]        // final sigma ς and capital Σ fold to σ
    [InlineData("οδος λογιστικη", "ΟΔΟΣ")]
    [InlineData("ǅemal payroll", "ǆEMAL")]       // titlecase digraph U+01C5 and lowercase U+01C6
    [InlineData("Ærøskøbing", "A\u0308")]          // NFC name, no match for a decomposed A + diaeresis…
    [InlineData("Ärger", "A\u0308RGER")]          // …but a decomposed Ä finds the composed one
    [InlineData("ΐ sync", "\u0399\u0308\u0301")]                  // U+0390 folds to three code points
    [InlineData("Ꭰ Cherokee", "ꭰ cherokee")]      // Cherokee folds to its uppercase letters
    public async Task Search_UsesFullCaseFoldingAndCanonicalEquivalence(string name, string term)
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var tag = Tag();
        await client.CreateKeyAsync($"{name} {tag}");

        var found = (await client.GetDocumentAsync(Search(term))).KeyNames().Contains($"{name} {tag}");

        Assert.Equal(!name.StartsWith("Ærø", StringComparison.Ordinal), found);
    }

    [Theory]
    [InlineData("%")]
    [InlineData("_")]
    [InlineData("100%")]
    [InlineData("a_b")]
    public async Task Search_PercentAndUnderscore_AreLiteral(string term)
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var tag = Tag();
        var literal = $"Q{tag} 100% a_b";
        var lookalike = $"Q{tag} 1000 aXb";
        await client.CreateKeyAsync(literal);
        await client.CreateKeyAsync(lookalike);

        var names = (await client.GetDocumentAsync(Search(term))).KeyNames().Where(n => n.Contains(tag, StringComparison.Ordinal)).ToList();

        Assert.Equal([literal], names);
    }

    /// <summary>
    /// Rows stored before the folding: the FoldedKeyNames migration empties their search form, and start-up
    /// computes it (the same start-up step the app runs, on the same database).
    /// </summary>
    [Fact]
    public async Task Startup_FillsTheSearchFormOfExistingRows()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var tag = Tag();
        var name = $"Große Buchhaltung {tag}";
        await client.CreateKeyAsync(name);
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            await db.ApiKeys.Where(k => k.Name == name).ExecuteUpdateAsync(s => s.SetProperty(k => k.NormalizedName, ""));
        }

        Assert.Empty((await client.GetDocumentAsync(Search($"GROSSE BUCHHALTUNG {tag}"))).KeyNames());

        await factory.Services.MigrateAndSeedAsync();

        Assert.Equal([name], (await client.GetDocumentAsync(Search($"GROSSE BUCHHALTUNG {tag}"))).KeyNames());
    }
}
