using System.Net;
using Microsoft.EntityFrameworkCore;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>
/// Every change reaches every instance (issue 13.6): a change of any kind made elsewhere and announced to
/// nobody (another instance whose notice was lost, or that cannot notify) is seen here within one poll
/// interval, although this instance had the key's old state cached. Runs on the suite's provider.
/// </summary>
public sealed class KeyChangePollingTests(PollingOnlyFactory factory) : IClassFixture<PollingOnlyFactory>
{
    private static readonly TimeSpan Interval = new PleoKeys.Web.Data.DatabaseOptions().KeyChangePollInterval;

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
            await factory.WithDbAsync(db => db.Companies.Where(c => c.Id == DemoData.NordicCoffeeAbId).ExecuteUpdateAsync(s => s.SetProperty(c => c.ApiKeyAccess, true)));
        }
    }

    private static async Task<DateTime> UpdatedAtAsync(HttpClient api, string key)
    {
        var response = await api.ApiGetAsync("/v1/installations/me", key).ExpectAsync(HttpStatusCode.OK);
        return (await response.ReadJsonAsync()).GetProperty("updatedAt").GetDateTime().ToUniversalTime();
    }

    /// <summary>Moves the clock a tenth of the interval at a time until the condition holds; returns the clock time it took.</summary>
    private async Task<TimeSpan> AdvanceUntilAsync(Func<Task<bool>> condition)
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
