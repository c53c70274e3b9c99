using System.Net;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.Data;
using Xunit.Abstractions;

namespace PleoKeys.Tests.Security;

/// <summary>
/// What checking the session on every page request costs, in database commands; and that the API, which never
/// reads the sign-in cookie, pays nothing for it.
/// </summary>
public sealed class SessionCheckCostTests(LoggingFactory factory, ITestOutputHelper output) : IClassFixture<LoggingFactory>
{
    /// <summary>The SQL of every command EF Core ran while <paramref name="request"/> was answered.</summary>
    private async Task<List<string>> CommandsDuringAsync(Func<Task> request)
    {
        var before = factory.Logs.Messages.Count;
        await request();
        return factory.Logs.Messages.Skip(before)
            .Where(m => m.StartsWith("Microsoft.EntityFrameworkCore.Database.Command Information: Executed DbCommand", StringComparison.Ordinal))
            .ToList();
    }

    private static int Reading(IEnumerable<string> commands, string table) =>
        commands.Count(c => c.Contains($"FROM \"{table}\"", StringComparison.Ordinal));

    /// <summary>
    /// Moves the clock a second, then lets the background services it woke (the key-change poller ticks every
    /// 0.5 s of this clock) finish their queries, so they are not counted as the next request's.
    /// </summary>
    private async Task AdvanceClockAsync()
    {
        factory.Time.Advance(TimeSpan.FromSeconds(1));
        await Task.Delay(TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public async Task PageRequest_ChecksTheStampWithTwoMoreQueries_ApiRequest_ReadsNoIdentityTable()
    {
        var browser = await factory.SignedInClientAsync(DemoData.Admin);
        var key = await browser.CreateKeyAsync(PageHelpers.UniqueName("Session cost"));
        await browser.GetAsync("/Settings/ApiKeys");

        // The test clock stands still, so a cookie issued at this instant is not checked: the page's own cost.
        var uncheckedRequest = await CommandsDuringAsync(async () => Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/Settings/ApiKeys")).StatusCode));
        await AdvanceClockAsync();
        var checkedRequest = await CommandsDuringAsync(async () => Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/Settings/ApiKeys")).StatusCode));
        await AdvanceClockAsync();
        var api = await CommandsDuringAsync(async () => Assert.Equal(HttpStatusCode.OK, (await browser.ApiGetAsync("/v1/installations/me", key)).StatusCode));

        output.WriteLine($"List page: {uncheckedRequest.Count} commands unchecked, {checkedRequest.Count} with the stamp check; API call with the same cookies: {api.Count}.");
        // The user row is read once either way (the page needs it too; Identity finds it in the context);
        // rebuilding the principal adds the user's claims and roles, one indexed query each.
        Assert.Equal(1, Reading(checkedRequest, "AspNetUsers"));
        Assert.Equal(1, Reading(checkedRequest, "AspNetUserClaims"));
        Assert.Equal(1, Reading(checkedRequest, "AspNetUserRoles"));
        Assert.Equal(uncheckedRequest.Count + 2, checkedRequest.Count);
        Assert.DoesNotContain(api, c => c.Contains("\"AspNet", StringComparison.Ordinal));
    }
}
