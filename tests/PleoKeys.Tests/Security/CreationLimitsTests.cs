using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Security;

/// <summary>
/// Issue 11.8: creating keys cannot slow everyone else. One user creates at most
/// <c>PleoKeys:KeyCreationsPerMinutePerUser</c> keys a minute, a company holds at most
/// <c>PleoKeys:MaxActiveKeysPerCompany</c> active keys, and creation hashes through the BCrypt gate that
/// verification uses, so BCrypt never takes every core.
/// </summary>
public sealed class CreationLimitsTests(CreationRateFactory factory) : IClassFixture<CreationRateFactory>
{
    private const string CreateUrl = "/Settings/ApiKeys/Create";

    [Fact]
    public async Task Create_32AtATimeByOneAdmin_CreatesTheMinutesTen_AndRefusesTheRestWithAClearMessage()
    {
        var (admin, _) = await factory.SignedInClientWithCookiesAsync(DemoData.Admin);
        var prefix = PageHelpers.UniqueName("Burst");
        // 32 tabs, each with its own form, submitted together.
        var forms = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => admin.FormTokensAsync(CreateUrl)));

        var answers = await Task.WhenAll(forms.Select((f, i) =>
            admin.PostFormAsync(CreateUrl, PageHelpers.CreateFields(f.Token, $"{prefix} {i}", ticket: f.Ticket))));

        Assert.Equal(CreationRateFactory.PerMinute, answers.Count(a => a.StatusCode == HttpStatusCode.Redirect));
        var refused = answers.Where(a => a.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(32 - CreationRateFactory.PerMinute, refused.Count);
        Assert.All(refused, r => Assert.True(r.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After missing"));
        var page = await Html.ParseAsync(refused[0]);
        Assert.Matches(@"You have created 10 keys within a minute, the most allowed\. Try again in \d+ seconds; nothing was created\.",
            page.QuerySelector("main [role=alert]").Text());
        Assert.Equal(CreationRateFactory.PerMinute,
            await factory.WithDbAsync(db => db.ApiKeys.CountAsync(k => k.Name.StartsWith(prefix))));

        // The limit is the user's: another Admin or Bookkeeper of the company is not held up.
        var bookkeeper = await factory.SignedInClientAsync(DemoData.Bookkeeper);
        Assert.Equal(HttpStatusCode.Redirect, (await bookkeeper.PostCreateFormAsync(PageHelpers.UniqueName("Not held up"))).StatusCode);
    }
}

public sealed class MaxActiveKeysTests(MaxActiveKeysFactory factory) : IClassFixture<MaxActiveKeysFactory>
{
    [Fact]
    public async Task Create_AtTheCompanysMaximumOfActiveKeys_IsRefused_UntilAKeyIsDeletedOrExpires()
    {
        var (admin, active) = await factory.FillFjordBikesAsync("Fjord key");
        var now = factory.Time.GetUtcNow().UtcDateTime;

        var refused = await admin.PostCreateFormAsync("One too many");

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal($"Fjord Bikes AS has {MaxActiveKeysFactory.MaxActive} active API keys, the most it can have. Delete keys that are no longer used, then create this one.",
            (await Html.ParseAsync(refused)).QuerySelector("main [role=alert] .validation-summary-errors li, main [role=alert] li").Text());
        Assert.Equal(0, await factory.CountKeysNamedAsync("One too many"));

        // Deleted keys do not count.
        var freed = await factory.KeyRowByNameAsync($"Fjord key {active}");
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SubmitAsync((await admin.GetDocumentAsync($"/Settings/ApiKeys/Delete/{freed.Id}")).Form())).StatusCode);

        // One place free, and six tabs submitting together: one key, the rest told the company is full.
        var forms = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => admin.FormTokensAsync("/Settings/ApiKeys/Create")));
        var answers = await Task.WhenAll(forms.Select((f, i) =>
            admin.PostFormAsync("/Settings/ApiKeys/Create", PageHelpers.CreateFields(f.Token, $"Racing for the last place {i}", ticket: f.Ticket))));
        Assert.Equal(1, answers.Count(a => a.StatusCode == HttpStatusCode.Redirect));
        Assert.Equal(5, answers.Count(a => a.StatusCode == HttpStatusCode.Conflict));
        var activeNow = await factory.WithDbAsync(db => db.ApiKeys.CountAsync(k => k.CompanyId == DemoData.FjordBikesAsId && k.DeletedAtUtc == null && k.ExpiresAtUtc > now));
        Assert.Equal(MaxActiveKeysFactory.MaxActive, activeNow);

        // Deleted keys do not count.
        var row = await factory.KeyRowByNameAsync($"Fjord key {active + 1}");
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SubmitAsync((await admin.GetDocumentAsync($"/Settings/ApiKeys/Delete/{row.Id}")).Form())).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await admin.PostCreateFormAsync("Room again")).StatusCode);
    }
}

/// <summary>A roll with a grace period adds a working secret until the grace ends, so it counts against the same maximum.</summary>
public sealed class MaxActiveKeysRollTests(MaxActiveKeysFactory factory) : IClassFixture<MaxActiveKeysFactory>
{
    [Fact]
    public async Task Roll_AtTheCompanysMaximum_WithAGracePeriodIsRefused_AndRollingNowIsNot()
    {
        var (admin, _) = await factory.FillFjordBikesAsync("Fjord roll");
        var now = factory.Time.GetUtcNow().UtcDateTime;

        var row = await factory.KeyRowByNameAsync($"Fjord roll {MaxActiveKeysFactory.MaxActive - 1}");
        var withGrace = await admin.SubmitAsync((await admin.GetDocumentAsync($"/Settings/ApiKeys/Roll/{row.Id}")).Form("main form"), ("Input.Grace", "24h"));

        Assert.Equal(HttpStatusCode.Conflict, withGrace.StatusCode);
        Assert.Equal($"Fjord Bikes AS has {MaxActiveKeysFactory.MaxActive} active API keys, the most it can have. Choose “Now” so the old secret stops as the new one starts, or delete keys that are no longer used.",
            (await Html.ParseAsync(withGrace)).QuerySelector("main [role=alert] .validation-summary-errors li, main [role=alert] li").Text());
        Assert.Null((await factory.KeyRowByNameAsync(row.Name)).RolledAtUtc);

        // The old secret stops as the new one starts: one working secret for another, and the company stays at its maximum.
        var rollingNow = await admin.SubmitAsync((await admin.GetDocumentAsync($"/Settings/ApiKeys/Roll/{row.Id}")).Form("main form"), ("Input.Grace", "now"));
        Assert.Equal(HttpStatusCode.Redirect, rollingNow.StatusCode);
        var later = now.AddSeconds(1);
        Assert.Equal(MaxActiveKeysFactory.MaxActive, await factory.WithDbAsync(db => db.ApiKeys.CountAsync(k => k.CompanyId == DemoData.FjordBikesAsId
            && k.DeletedAtUtc == null && k.ExpiresAtUtc > later && (k.SecretStopsAtUtc == null || k.SecretStopsAtUtc > later))));
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostCreateFormAsync("Still full")).StatusCode);
    }
}

public sealed class BCryptGateTests(SlowBCryptFactory factory) : IClassFixture<SlowBCryptFactory>
{
    [Fact]
    public async Task Create_HashesThroughTheBCryptGate_SoBCryptNeverTakesEveryCore()
    {
        var clients = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => factory.SignedInClientAsync(DemoData.Admin)));
        var verifier = factory.NewClient();
        factory.Hasher.ResetConcurrency();

        // Creations (hashes) and first uses of keys (verifies) at the same time.
        var creations = clients.Select(c => c.CreateKeyAsync(PageHelpers.UniqueName("Gated")));
        var keys = await Task.WhenAll(creations);
        var firstUses = keys.Select(k => verifier.ApiGetAsync("/v1/installations/me", k));
        var more = clients.Select(c => c.CreateKeyAsync(PageHelpers.UniqueName("Gated")));
        await Task.WhenAll(firstUses.Concat<Task>(more));

        Assert.True(factory.Hasher.MaxConcurrent <= Math.Max(1, Environment.ProcessorCount - 1),
            $"BCrypt ran {factory.Hasher.MaxConcurrent} at once on {Environment.ProcessorCount} cores");
        Assert.True(factory.Hasher.Hashes >= 12);
    }
}

/// <summary>The default creation rate limit, 10 keys per user per minute.</summary>
public sealed class CreationRateFactory : PleoKeysFactory
{
    public const int PerMinute = 10;

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["PleoKeys:KeyCreationsPerMinutePerUser"] = PerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>At most 5 active keys per company.</summary>
public sealed class MaxActiveKeysFactory : PleoKeysFactory
{
    public const int MaxActive = 5;

    /// <summary>
    /// Opens Fjord Bikes' API access and creates keys named "{prefix} {n}" through the form until it has
    /// <see cref="MaxActive"/> working keys; returns its Admin's client and how many it had before.
    /// </summary>
    public async Task<(HttpClient Admin, int Before)> FillFjordBikesAsync(string prefix)
    {
        var admin = await this.SignedInClientAsync(DemoData.FjordAdmin);
        await WithDbAsync(db => db.Companies.Where(c => c.Id == DemoData.FjordBikesAsId)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.ApiKeyAccess, true)));
        var now = Time.GetUtcNow().UtcDateTime;
        // Written out, not ApiKeyQueries.WorkingIn, which these tests check.
        var active = await WithDbAsync(db => db.ApiKeys.CountAsync(k => k.CompanyId == DemoData.FjordBikesAsId && k.DeletedAtUtc == null
            && k.ExpiresAtUtc > now && (k.SecretStopsAtUtc == null || k.SecretStopsAtUtc > now)));
        Assert.True(active < MaxActive, "the demo company already has the most keys");
        for (var i = active; i < MaxActive; i++)
        {
            await admin.CreateKeyAsync($"{prefix} {i}");
        }

        return (admin, active);
    }

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["PleoKeys:MaxActiveKeysPerCompany"] = MaxActive.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>A BCrypt that takes 30 ms a call, long enough for calls to overlap if the gate let them.</summary>
public sealed class SlowBCryptFactory : PleoKeysFactory
{
    public SlowBCryptFactory() => Hasher.Delay = TimeSpan.FromMilliseconds(30);
}
