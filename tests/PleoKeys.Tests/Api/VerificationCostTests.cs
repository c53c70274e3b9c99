using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>
/// What authenticating costs through the whole app, counted in BCrypt calls (factory.Hasher), never
/// timed: one per key, none for garbage, and the cache never outlives a deletion or an expiry.
/// </summary>
public sealed class VerificationCostTests : IClassFixture<PleoKeysFactory>
{
    private const string Me = "/v1/installations/me";

    private readonly PleoKeysFactory _factory;

    public VerificationCostTests(PleoKeysFactory factory) => _factory = factory;

    private async Task<(HttpClient Admin, string Key)> NewKeyAsync(string name)
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        return (admin, await admin.CreateKeyAsync(name, scopes: [Scopes.VendorsRead]));
    }

    [Fact]
    public async Task ThirtyTwoConcurrentFirstUses_CostOneBCrypt()
    {
        var (_, key) = await NewKeyAsync("Cold start");
        var client = _factory.NewClient();
        var before = _factory.Hasher.Verifies;

        var responses = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => client.ApiSendAsync(Api.Get, Me, key)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(1, _factory.Hasher.Verifies - before);
    }

    [Fact]
    public async Task ManyUsesOfOneKey_CostOneBCrypt()
    {
        var (_, key) = await NewKeyAsync("Steady state");
        var client = _factory.NewClient();
        var before = _factory.Hasher.Verifies;

        for (var i = 0; i < 50; i++)
        {
            await client.ApiSendAsync(Api.Get, i % 2 == 0 ? Me : "/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);
        }

        Assert.Equal(1, _factory.Hasher.Verifies - before);
    }

    [Fact]
    public async Task GarbageKeys_CostNoBCrypt()
    {
        var (_, key) = await NewKeyAsync("Real key");
        var client = _factory.NewClient();
        var before = _factory.Hasher.Verifies;
        string[] garbage =
        [
            "garbage", key[..^1], key + "x", TestKeys.WithBadChecksum(key), TestKeys.WithCharChanged(key, 20, fixChecksum: false),
            TestKeys.Unknown(), TestKeys.Unknown(), ApiKeyFormat.Generate(KeyEnvironment.Production).Key,
        ];

        foreach (var presented in garbage)
        {
            await client.ApiSendAsync(Api.Get, Me, presented).ExpectAsync(HttpStatusCode.Unauthorized);
        }

        Assert.Equal(0, _factory.Hasher.Verifies - before);
    }

    [Fact]
    public async Task RepeatedWrongSecret_CostsAtMostOneBCrypt()
    {
        var (_, key) = await NewKeyAsync("Guessed at");
        var client = _factory.NewClient();
        var wrong = TestKeys.WithWrongSecret(key);
        var before = _factory.Hasher.Verifies;

        for (var i = 0; i < 20; i++)
        {
            await client.ApiSendAsync(Api.Get, Me, wrong).ExpectAsync(HttpStatusCode.Unauthorized);
        }

        Assert.Equal(1, _factory.Hasher.Verifies - before);
    }

    [Fact]
    public async Task DeletedKey_IsForgottenByTheCacheAtOnce()
    {
        var (admin, key) = await NewKeyAsync("Cached, then deleted");
        var client = _factory.NewClient();
        await client.ApiSendAsync(Api.Get, Me, key).ExpectAsync(HttpStatusCode.OK);
        var before = _factory.Hasher.Verifies;
        var row = await _factory.RowAsync(key);

        var details = await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}");
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SubmitAsync(details.Form($"form[method=post][action='/Settings/ApiKeys/Delete/{row.Id}']"))).StatusCode);

        for (var i = 0; i < 3; i++)
        {
            var response = await client.ApiSendAsync(Api.Get, Me, key).ExpectAsync(HttpStatusCode.Unauthorized);
            Assert.StartsWith("This API key has been deleted.", (await response.ReadProblemAsync()).Detail, StringComparison.Ordinal);
        }

        // The state is re-read; the secret, verified already, is not checked with BCrypt again.
        Assert.Equal(before, _factory.Hasher.Verifies);
    }

    [Fact]
    public async Task DeletedKey_UsedConcurrentlyRightAfterTheDelete_IsRefusedByEveryRequest()
    {
        var (admin, key) = await NewKeyAsync("Deleted under load");
        var client = _factory.NewClient();
        await client.ApiSendAsync(Api.Get, Me, key).ExpectAsync(HttpStatusCode.OK);
        var row = await _factory.RowAsync(key);
        var details = await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}");
        await admin.SubmitAsync(details.Form($"form[method=post][action='/Settings/ApiKeys/Delete/{row.Id}']"));

        var responses = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => client.ApiSendAsync(Api.Get, Me, key)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode));
    }

    [Fact]
    public async Task ExpiredKey_IsRefusedWhileCached()
    {
        var (_, key) = await NewKeyAsync("Cached, then expired");
        var client = _factory.NewClient();
        await client.ApiSendAsync(Api.Get, Me, key).ExpectAsync(HttpStatusCode.OK);
        var before = _factory.Hasher.Verifies;

        // Past the key's 30 days: the cached state is judged against the clock on every request.
        _factory.Time.Advance(TimeSpan.FromDays(31));
        var response = await client.ApiSendAsync(Api.Get, Me, key).ExpectAsync(HttpStatusCode.Unauthorized);

        Assert.StartsWith("This API key expired on", (await response.ReadProblemAsync()).Detail, StringComparison.Ordinal);
        Assert.Equal(before, _factory.Hasher.Verifies);
    }
}

/// <summary>
/// The app as configured in production, with its own BCrypt at work factor 5 (not the tests' counting
/// hasher at 4), to show that raising the factor keeps keys hashed at the old one valid.
/// </summary>
public sealed class WorkFactorFiveFactory : PleoKeysFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["PleoKeys:BCryptWorkFactor"] = "5" };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // Program's registration is captured before the base factory replaces it, and put back after.
        ServiceDescriptor? programs = null;
        builder.ConfigureServices(s => programs = s.Last(d => d.ServiceType == typeof(IKeySecretHasher)));
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(s =>
        {
            s.RemoveAll<IKeySecretHasher>();
            s.Add(programs!);
        });
    }
}

public sealed class WorkFactorTests : IClassFixture<WorkFactorFiveFactory>
{
    private readonly WorkFactorFiveFactory _factory;

    public WorkFactorTests(WorkFactorFiveFactory factory) => _factory = factory;

    [Fact]
    public async Task NewKeys_AreHashedAtTheConfiguredFactor()
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync("Factor five");

        var row = await _factory.RowAsync(key);

        Assert.Matches(@"^\$2[aby]\$05\$", row.SecretHash);
        await _factory.NewClient().ApiSendAsync(Api.Get, "/v1/installations/me", key).ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task KeyHashedAtAnOlderFactor_StillWorks()
    {
        // A key created when the factor was 4: its hash carries its own cost.
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync("Made at factor four");
        var keyId = TestKeys.KeyIdOf(key);
        var oldHash = new BCryptKeySecretHasher(4).Hash(key);
        await _factory.WithDbAsync(db => db.ApiKeys.Where(k => k.KeyId == keyId).ExecuteUpdateAsync(s => s.SetProperty(k => k.SecretHash, oldHash)));

        await _factory.NewClient().ApiSendAsync(Api.Get, "/v1/installations/me", key).ExpectAsync(HttpStatusCode.OK);
        await _factory.NewClient().ApiSendAsync(Api.Get, "/v1/installations/me", TestKeys.WithWrongSecret(key)).ExpectAsync(HttpStatusCode.Unauthorized);
        Assert.Matches(@"^\$2[aby]\$04\$", (await _factory.RowAsync(key)).SecretHash);
    }
}
