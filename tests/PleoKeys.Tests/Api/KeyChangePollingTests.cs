using System.Net;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>
/// Every change reaches every instance (issue 13.6): a change of any kind made elsewhere and announced to
/// nobody (another instance whose notice was lost, or that cannot notify) is seen here within one poll
/// interval, although this instance had the key's old state cached. Runs on the suite's provider.
/// </summary>
public sealed class KeyChangePollingTests(PollingOnlyFactory factory) : IClassFixture<PollingOnlyFactory>
{
    internal static readonly TimeSpan Interval = new PleoKeys.Web.Data.DatabaseOptions().KeyChangePollInterval;

    [Fact]
    public async Task ActivationElsewhere_WithoutNotice_IsSeenWithinOnePollInterval()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName("Activated elsewhere"));
        var api = factory.NewClient();
        var before = await UpdatedAtAsync(api, key);
        var activatedAt = factory.Time.GetUtcNow().UtcDateTime.AddMinutes(5);

        // What POST /v1/installations/me writes, done by "another instance" that tells nobody.
        await factory.WithDbAsync(db => db.ApiKeys.Where(k => k.KeyId == TestKeys.KeyIdOf(key)).ExecuteUpdateAsync(s => s
            .SetProperty(k => k.InstallationActivatedAtUtc, activatedAt).SetProperty(k => k.ChangedAtUtc, factory.Time.GetUtcNow().UtcDateTime).SetProperty(k => k.ChangeCount, k => k.ChangeCount + 1)));
        // Nobody told the verifier: it still answers from the state it cached.
        Assert.Equal(before, await UpdatedAtAsync(api, key));

        var took = await AdvanceUntilAsync(async () => await UpdatedAtAsync(api, key) == activatedAt);
        Assert.True(took <= Interval, $"Seen only after {took} of clock time.");
    }

    [Fact]
    public async Task AccessSwitchedOffElsewhere_WithoutNotice_IsRefusedWithinOnePollInterval()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        await admin.SwitchCompanyAsync(DemoData.NordicCoffeeAbId);
        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName("Switched off elsewhere"));
        var api = factory.NewClient();
        await api.ApiGetAsync("/v1/installations/me", key).ExpectAsync(HttpStatusCode.OK);

        // What the operator command writes, from a process whose notice never arrives.
        var now = factory.Time.GetUtcNow().UtcDateTime;
        await factory.WithDbAsync(async db =>
        {
            await db.Companies.Where(c => c.Id == DemoData.NordicCoffeeAbId).ExecuteUpdateAsync(s => s.SetProperty(c => c.ApiKeyAccess, false));
            return await db.ApiKeys.Where(k => k.CompanyId == DemoData.NordicCoffeeAbId).ExecuteUpdateAsync(s => s
                .SetProperty(k => k.ChangedAtUtc, now).SetProperty(k => k.ChangeCount, k => k.ChangeCount + 1));
        });
        try
        {
            await api.ApiGetAsync("/v1/installations/me", key).ExpectAsync(HttpStatusCode.OK);

            var took = await AdvanceUntilAsync(async () => (await api.ApiGetAsync("/v1/installations/me", key)).StatusCode == HttpStatusCode.Unauthorized);
            Assert.True(took <= Interval, $"Refused only after {took} of clock time.");
        }
        finally
        {
            await factory.SetApiKeyAccessAsync(DemoData.NordicCoffeeAbId, true);
        }
    }

    internal static async Task<DateTime> UpdatedAtAsync(HttpClient api, string key)
    {
        var response = await api.ApiGetAsync("/v1/installations/me", key).ExpectAsync(HttpStatusCode.OK);
        return (await response.ReadJsonAsync()).GetProperty("updatedAt").GetDateTime().ToUniversalTime();
    }

    private Task<TimeSpan> AdvanceUntilAsync(Func<Task<bool>> condition) => AdvanceUntilAsync(factory, condition);

    /// <summary>Moves the app's clock a tenth of the interval at a time until the condition holds; returns the clock time it took.</summary>
    internal static async Task<TimeSpan> AdvanceUntilAsync(PleoKeysFactory factory, Func<Task<bool>> condition)
    {
        var step = Interval / 10;
        var waited = TimeSpan.Zero;
        while (waited <= 5 * Interval)
        {
            // The poller runs on the thread pool against the real database: give it a moment at each tick.
            for (var i = 0; i < 20; i++)
            {
                if (await condition())
                {
                    return waited;
                }

                await Task.Delay(25);
            }

            factory.Time.Advance(step);
            waited += step;
        }

        throw new Xunit.Sdk.XunitException($"Not seen after {waited} of clock time.");
    }
}

/// <summary>
/// Every change reaches every instance (issue 13.6), end to end: two instances of the app on one database, with
/// no notifications between them (SQLite has none; on PostgreSQL the second one does not LISTEN). Each kind of
/// change is made on the first through its page, API call or operator command, while the second has the key's old
/// state cached, and the second sees it within one poll interval of its clock. Runs on the suite's provider.
/// </summary>
public sealed class KeyChangesAcrossInstancesTests(TwoPollingOnlyInstances instances) : IClassFixture<TwoPollingOnlyInstances>
{
    private const string Me = "/v1/installations/me";

    private readonly PollingOnlyFactory _a = instances.A;
    private readonly PollingOnlyFactory _b = instances.B;

    /// <summary>A key made on instance A, already verified and cached by instance B.</summary>
    private async Task<(HttpClient Admin, string Key, HttpClient OnB)> KeyCachedByBAsync(string name, Guid? company = null)
    {
        var admin = await _a.SignedInClientAsync(DemoData.Admin);
        if (company is { } id)
        {
            await admin.SwitchCompanyAsync(id);
        }

        var key = await admin.CreateKeyAsync(PageHelpers.UniqueName(name), scopes: [Scopes.VendorsRead]);
        var onB = _b.NewClient();
        await onB.ApiGetAsync(Me, key).ExpectAsync(HttpStatusCode.OK);
        return (admin, key, onB);
    }

    private async Task AssertSeenByBWithinOneIntervalAsync(Func<Task<bool>> seen)
    {
        var took = await KeyChangePollingTests.AdvanceUntilAsync(_b, seen);
        Assert.True(took <= KeyChangePollingTests.Interval, $"Seen by the other instance only after {took} of its clock.");
    }

    private static async Task<string?> RefusalAsync(HttpClient api, string key)
    {
        var response = await api.ApiGetAsync(Me, key);
        return response.StatusCode == HttpStatusCode.Unauthorized ? (await response.ReadProblemAsync()).Title : null;
    }

    [Fact]
    public async Task Deletion_OnOneInstance_IsRefusedByTheOther()
    {
        var (admin, key, onB) = await KeyCachedByBAsync("Deleted on A");
        var row = await _a.KeyRowAsync(key);

        var details = await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}");
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SubmitAsync(details.Form($"form[method=post][action='/Settings/ApiKeys/Delete/{row.Id}']"))).StatusCode);
        await _a.NewClient().ApiGetAsync(Me, key).ExpectAsync(HttpStatusCode.Unauthorized);

        await AssertSeenByBWithinOneIntervalAsync(async () => await RefusalAsync(onB, key) == "API key deleted");
    }

    [Fact]
    public async Task Roll_OnOneInstance_PutsTheOldSecretInItsGracePeriodOnTheOther()
    {
        var (admin, key, onB) = await KeyCachedByBAsync("Rolled on A");
        var row = await _a.KeyRowAsync(key);
        Assert.Null((await onB.ApiGetAsync(Me, key)).Header("Deprecation"));

        // The roll form with its defaults (the old secret keeps working for 24 hours, announced by Deprecation and Sunset).
        var form = await admin.GetDocumentAsync($"/Settings/ApiKeys/Roll/{row.Id}");
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SubmitAsync(form.Form("main form"))).StatusCode);
        Assert.NotNull((await _a.NewClient().ApiGetAsync(Me, key)).Header("Deprecation"));

        await AssertSeenByBWithinOneIntervalAsync(async () =>
            (await onB.ApiGetAsync(Me, key).ExpectAsync(HttpStatusCode.OK)).Header("Deprecation") is not null);
    }

    [Fact]
    public async Task Activation_OnOneInstance_IsShownByTheOther()
    {
        var (_, key, onB) = await KeyCachedByBAsync("Activated on A");
        var before = await KeyChangePollingTests.UpdatedAtAsync(onB, key);
        _a.Time.Advance(TimeSpan.FromMinutes(5));

        await _a.NewClient().SendRawAsync(HttpMethod.Post, Me, Clients.Basic(key).ToString()).ExpectAsync(HttpStatusCode.OK);
        var activated = await KeyChangePollingTests.UpdatedAtAsync(_a.NewClient(), key);
        Assert.NotEqual(before, activated);

        await AssertSeenByBWithinOneIntervalAsync(async () => await KeyChangePollingTests.UpdatedAtAsync(onB, key) == activated);
    }

    [Fact]
    public async Task AccessSwitch_OffAndOn_ByTheOperatorOnOneInstance_IsFollowedByTheOther()
    {
        var (_, key, onB) = await KeyCachedByBAsync("Switched on A", DemoData.NordicCoffeeAbId);
        try
        {
            Assert.Equal(0, await OperatorCommands.RunAsync(_a.Services, [OperatorCommands.ApiKeyAccess, DemoData.NordicCoffeeAbId.ToString(), "off"], TextWriter.Null));
            await AssertSeenByBWithinOneIntervalAsync(async () => await RefusalAsync(onB, key) == "API key access switched off");

            Assert.Equal(0, await OperatorCommands.RunAsync(_a.Services, [OperatorCommands.ApiKeyAccess, DemoData.NordicCoffeeAbId.ToString(), "on"], TextWriter.Null));
            await AssertSeenByBWithinOneIntervalAsync(async () => (await onB.ApiGetAsync(Me, key)).StatusCode == HttpStatusCode.OK);
        }
        finally
        {
            await _a.SetApiKeyAccessAsync(DemoData.NordicCoffeeAbId, true);
        }
    }
}

/// <summary>Two instances of the app on one database, neither listening for the other's notices.</summary>
public sealed class TwoPollingOnlyInstances : IDisposable
{
    public TwoPollingOnlyInstances() => B = new PollingOnlyFactory { SharesDatabaseWith = A };

    public PollingOnlyFactory A { get; } = new();

    public PollingOnlyFactory B { get; }

    public void Dispose()
    {
        // B uses A's database, which A drops: B goes first.
        B.Dispose();
        A.Dispose();
    }
}
