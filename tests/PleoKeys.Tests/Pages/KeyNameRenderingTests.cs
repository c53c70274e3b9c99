using System.Net;
using AngleSharp.Html.Dom;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Pages;

/// <summary>
/// Issue 12, "Names that render as written": the measured names are refused by the real create form with a
/// field message, and a name is isolated everywhere it is shown, even one stored before the rule existed.
/// </summary>
public sealed class KeyNameRenderingTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    private const string Rlo = "\u202E";

    public static TheoryData<string, string> MeasuredNames => new()
    {
        // A name made only of zero-width characters showed as an empty row.
        { "\u200B\u200C\u200D\u2060\uFEFF", "The name can't contain invisible characters such as U+200B (zero width space)." },
        // A right-to-left override inside a name reversed the app's own text around it.
        { $"Payroll {Rlo}tropxe", "The name can't contain text-direction controls such as U+202E (right-to-left override): each name is shown in its own direction already." },
        // 99 combining marks drew over the row above.
        { "Z" + new string('\u0301', 99), "The name stacks too many accents or marks on one letter (at most 4)." },
    };

    [Theory]
    [MemberData(nameof(MeasuredNames))]
    public async Task Create_MeasuredName_IsRefusedWithAFieldMessage(string name, string message)
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var before = await factory.WithDbAsync(db => db.ApiKeys.CountAsync());

        var response = await client.PostCreateFormAsync(name);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var page = await Html.ParseAsync(response);
        Assert.Equal(message, page.QuerySelector("#name-error").Text());
        Assert.Equal("true", page.QuerySelector("#Input_Name")!.GetAttribute("aria-invalid"));
        Assert.Equal(before, await factory.WithDbAsync(db => db.ApiKeys.CountAsync()));
    }

    [Theory]
    [InlineData("👩‍💻 dev team")]
    [InlineData("می‌خواهم گزارش")]
    [InlineData("Kế toán Việt Nam")]
    [InlineData("नमस्ते क्षत्रिय")]
    public async Task Create_RealWorldName_IsAcceptedAndShownIsolated(string name)
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        name = PageHelpers.UniqueName(name);

        var (_, reveal, _) = await client.CreateAndRevealAsync(name);

        Assert.Equal(name, reveal.QuerySelector("main .lede bdi.name").Text());
        var list = await client.GetDocumentAsync("/Settings/ApiKeys?q=" + Uri.EscapeDataString(name));
        Assert.Equal(name, list.QuerySelector("table.keys td.key-name bdi.name").Text());
    }

    /// <summary>
    /// A name stored before the rule (here: with a right-to-left override) is shown isolated on the list, the
    /// details page and its dialog, the delete confirmation, and in the status message after deletion, so the
    /// override cannot reach the app's own text.
    /// </summary>
    [Fact]
    public async Task StoredNameWithAnOverride_IsIsolatedEverywhereItIsShown()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var plain = PageHelpers.UniqueName("Legacy");
        var key = await client.CreateKeyAsync(plain);
        var name = $"{plain} {Rlo}tropxe";
        var id = (await factory.KeyRowAsync(key)).Id;
        await factory.WithDbAsync(db => db.ApiKeys.Where(k => k.Id == id).ExecuteUpdateAsync(s => s.SetProperty(k => k.Name, name)));

        var list = await client.GetDocumentAsync("/Settings/ApiKeys?q=" + Uri.EscapeDataString(plain));
        Assert.Equal(name, list.QuerySelector("table.keys td.key-name a bdi.name").Text());

        var details = await client.GetDocumentAsync($"/Settings/ApiKeys/Details/{id}");
        Assert.Equal(name, details.QuerySelector("main h1 bdi.name").Text());
        Assert.Equal(name, details.QuerySelector("dialog h2 bdi.name").Text());
        Assert.Equal($"\u2068{name}\u2069 · PleoKeys", details.Title);

        var confirmation = await client.GetDocumentAsync($"/Settings/ApiKeys/Delete/{id}");
        Assert.Equal(name, confirmation.QuerySelector("main h1 bdi.name").Text());

        Assert.Equal(HttpStatusCode.Redirect, (await client.SubmitAsync(confirmation.Form())).StatusCode);
        var after = await client.GetDocumentAsync("/Settings/ApiKeys");
        var status = after.QuerySelector("main [role=status]")!;
        Assert.Equal($"API key “{name}” was deleted. Integrations using it can no longer connect.", status.TextContent.Trim());
        Assert.Equal(name, status.QuerySelector("bdi.name").Text());
    }

    [Fact]
    public async Task Search_TermIsEchoedIsolated()
    {
        var client = await factory.SignedInClientAsync(DemoData.Admin);
        var term = $"{Rlo}none {Guid.NewGuid():N}";

        var list = await client.GetDocumentAsync("/Settings/ApiKeys?q=" + Uri.EscapeDataString(term));

        Assert.Equal(term, list.QuerySelector("main p.muted bdi.name").Text());
        Assert.Equal("auto", ((IHtmlInputElement)list.QuerySelector("#q")!).GetAttribute("dir"));
    }
}
