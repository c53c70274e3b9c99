using Microsoft.Extensions.DependencyInjection;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>
/// The start prepares the key lookup for the first burst of calls after a deploy (issue 13.2): EF Core's pool already
/// holds <see cref="KeyLookupWarmUp.Contexts"/> built contexts, so that many lookups at once build none. A context's
/// lease count (<c>DbContext.ContextId.Lease</c>) is 1 the first time the pool hands it out.
/// </summary>
public sealed class KeyLookupWarmUpTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    [Fact]
    public async Task AfterStart_AsManyContextsAsTheWarmUpMade_AreRentedBuilt()
    {
        var scopes = Enumerable.Range(0, KeyLookupWarmUp.Contexts).Select(_ => factory.Services.CreateAsyncScope()).ToList();
        try
        {
            var leases = scopes.Select(s => s.ServiceProvider.GetRequiredService<AppDbContext>().ContextId.Lease).ToList();

            // The app's background services (the key change poller, the expiry reminders, the grace period audit) may hold
            // a context each at the moment, which makes the pool build that many more; without the warm-up nearly all are new.
            var built = leases.Count(lease => lease == 1);
            Assert.True(built <= 8, $"{built} of {leases.Count} contexts were built on demand (leases: {string.Join(", ", leases)}).");
        }
        finally
        {
            foreach (var scope in scopes)
            {
                await scope.DisposeAsync();
            }
        }
    }
}
