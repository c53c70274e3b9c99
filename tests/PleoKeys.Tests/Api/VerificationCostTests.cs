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
/// What authenticating costs through the whole app, counted in BCrypt calls (factory.Hasher), never timed: BCrypt
/// once per key for its whole life (issue 13.1). A key made through the Create form has a digest under the server
/// secret and costs none, on any instance, after any restart; a key without a current digest (made before digests,
/// or under a retired secret) costs one verify, after which its digest is stored and it costs none again.
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

    /// <summary>The same app restarted: a new host on this database file and secrets folder, with its own counting hasher.</summary>
    private PleoKeysFactory Restarted() => new() { SharesDatabaseWith = _factory };

    private static async Task<int> VerifiesForAsync(PleoKeysFactory app, string key, int calls)
    {
        var before = app.Hasher.Verifies;
        var client = app.NewClient();
        var responses = await Task.WhenAll(Enumerable.Range(0, calls).Select(_ => client.ApiSendAsync(HttpMethod.Get, Me, key)));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        return app.Hasher.Verifies - before;
    }

    private Task<int> ClearDigestAsync(string key) =>
        _factory.WithDbAsync(db => db.ApiKeys.Where(k => k.KeyId == TestKeys.KeyIdOf(key))
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.SecretDigest, (byte[]?)null).SetProperty(k => k.DigestSecretId, (string?)null)));

    [Fact]
    public async Task KeyMadeThroughTheForm_ThirtyTwoConcurrentFirstUses_CostNoBCrypt()
    {
        var (_, key) = await NewKeyAsync("Cold start");

        Assert.Equal(0, await VerifiesForAsync(_factory, key, 32));
    }

    [Fact]
    public async Task KeyMadeThroughTheForm_ManyUses_CostNoBCrypt()
    {
        var (_, key) = await NewKeyAsync("Steady state");
        var client = _factory.NewClient();
        var before = _factory.Hasher.Verifies;

        for (var i = 0; i < 50; i++)
        {
            await client.ApiSendAsync(HttpMethod.Get, i % 2 == 0 ? Me : "/v1/vendors", key).ExpectAsync(HttpStatusCode.OK);
        }

        Assert.Equal(0, _factory.Hasher.Verifies - before);
    }

    [Fact]
    public async Task KeyMadeThroughTheForm_AfterARestart_CostsNoBCrypt()
    {
        var (_, key) = await NewKeyAsync("Restart");

        await using var restarted = Restarted();

        Assert.Equal(0, await VerifiesForAsync(restarted, key, 32));
    }

    [Fact]
    public async Task KeyWhoseDigestWasCleared_CostsOneBCrypt_ThenNone_AlsoAfterARestart()
    {
        var (_, key) = await NewKeyAsync("Made before digests");
        await ClearDigestAsync(key);

        await using (var first = Restarted())
        {
            Assert.Equal(1, await VerifiesForAsync(first, key, 1));
            Assert.Equal(0, await VerifiesForAsync(first, key, 32));
            var secretId = (await _factory.WaitForKeyRowAsync(key, r => r.SecretDigest is { Length: 32 })).DigestSecretId;
            Assert.NotNull(secretId);
        }

        await using var second = Restarted();
        Assert.Equal(0, await VerifiesForAsync(second, key, 8));
    }

    [Fact]
    public async Task KeyWithoutADigest_ThirtyTwoConcurrentFirstCallsOnAColdInstance_ShareOneBCrypt()
    {
        var (_, key) = await NewKeyAsync("Cold and concurrent");
        // Several rounds: each racing read of the row must find the verify another first call made meanwhile.
        for (var round = 0; round < 3; round++)
        {
            await ClearDigestAsync(key);
            await using var cold = Restarted();

            Assert.Equal(1, await VerifiesForAsync(cold, key, 32));
        }
    }

    [Fact]
    public async Task KeyWhoseDigestWasMadeUnderAnotherSecret_CostsOneBCrypt_ThenGetsADigestUnderTheCurrentOne()
    {
        var (_, key) = await NewKeyAsync("Made under a retired secret");
        var original = await _factory.KeyRowAsync(key);
        // As if the digest had been made under a secret since retired (the operator rotated the secret file).
        await _factory.WithDbAsync(db => db.ApiKeys.Where(k => k.KeyId == TestKeys.KeyIdOf(key))
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.DigestSecretId, "0123456789abcdef")));

        await using (var first = Restarted())
        {
            Assert.Equal(1, await VerifiesForAsync(first, key, 1));
            Assert.Equal(0, await VerifiesForAsync(first, key, 8));
            var stored = await _factory.WaitForKeyRowAsync(key, r => r.DigestSecretId == original.DigestSecretId);
            Assert.Equal(original.SecretDigest, stored.SecretDigest);
        }

        await using var second = Restarted();
        Assert.Equal(0, await VerifiesForAsync(second, key, 4));
    }

    [Fact]
    public async Task GarbageKeys_CostNoBCrypt()
    {
        var (_, key) = await NewKeyAsync("Real key");
        var client = _factory.NewClient();
        var before = _factory.Hasher.Verifies;
        string[] garbage =
        [
            "garbage", key[..^1], key + "x", TestKeys.WithBadChecksum(key), TestKeys.ChangeAt(key, 20, fixChecksum: false),
            TestKeys.Unknown(), TestKeys.Unknown(), ApiKeyFormat.Generate(KeyEnvironment.Production).Key,
        ];

        foreach (var presented in garbage)
        {
            await client.ApiSendAsync(HttpMethod.Get, Me, presented).ExpectAsync(HttpStatusCode.Unauthorized);
        }

        Assert.Equal(0, _factory.Hasher.Verifies - before);
    }

    [Fact]
    public async Task AfterTheOperatorRotatesTheDigestSecret_AKeyIsRecognisedWithoutBCrypt_AndRotatingTwiceCostsOne()
    {
        // An app of this test's own: rotating the secret of the class's app would change the other tests' costs.
        await using var original = new PleoKeysFactory();
        var admin = await original.SignedInClientAsync(DemoData.Admin);
        var key = await admin.CreateKeyAsync("Outlives a rotation", scopes: [Scopes.VendorsRead]);
        var other = await admin.CreateKeyAsync("Unused through a rotation", scopes: [Scopes.VendorsRead]);
        var before = await original.KeyRowAsync(key);

        // The operator's command, then a restart of every instance (the secret is read at start). The secret before
        // it is kept as the previous one: the key is recognised by an HMAC under it, wrong secrets too, and gets a new digest.
        Assert.Equal(0, await OperatorCommands.RunAsync(original.Services, [OperatorCommands.RotateKeyDigestSecret], TextWriter.Null));
        await using (var rotated = new PleoKeysFactory { SharesDatabaseWith = original })
        {
            Assert.Equal(0, await VerifiesForAsync(rotated, key, 8));
            var guesses = rotated.Hasher.Verifies;
            for (var i = 0; i < 5; i++)
            {
                await rotated.NewClient().ApiSendAsync(HttpMethod.Get, Me, TestKeys.WithWrongSecret(other, i)).ExpectAsync(HttpStatusCode.Unauthorized);
            }

            Assert.Equal(guesses, rotated.Hasher.Verifies);
            var after = await original.WaitForKeyRowAsync(key, r => r.DigestSecretId != before.DigestSecretId);
            Assert.NotEqual(before.SecretDigest, after.SecretDigest);
        }

        // Rotated again: the first secret is retired, so the key never used since costs one BCrypt verify, then none.
        Assert.Equal(0, await OperatorCommands.RunAsync(original.Services, [OperatorCommands.RotateKeyDigestSecret], TextWriter.Null));
        await using var twice = new PleoKeysFactory { SharesDatabaseWith = original };
        Assert.Equal(1, await VerifiesForAsync(twice, other, 1));
        Assert.Equal(0, await VerifiesForAsync(twice, other, 8));
        Assert.Equal(0, await VerifiesForAsync(twice, key, 8));
    }

    [Fact]
    public async Task RepeatedWrongSecrets_CostNoBCrypt()
    {
        var (_, key) = await NewKeyAsync("Guessed at");
        var client = _factory.NewClient();
        var before = _factory.Hasher.Verifies;

        for (var i = 0; i < 20; i++)
        {
            // The key's digest tells a wrong secret apart by one HMAC.
            await client.ApiSendAsync(HttpMethod.Get, Me, TestKeys.WithWrongSecret(key, i % 2)).ExpectAsync(HttpStatusCode.Unauthorized);
        }

        Assert.Equal(0, _factory.Hasher.Verifies - before);
    }

    [Fact]
    public async Task DeletedKey_IsForgottenByTheCacheAtOnce()
    {
        var (admin, key) = await NewKeyAsync("Cached, then deleted");
        var client = _factory.NewClient();
        await client.ApiSendAsync(HttpMethod.Get, Me, key).ExpectAsync(HttpStatusCode.OK);
        var before = _factory.Hasher.Verifies;
        var row = await _factory.KeyRowAsync(key);

        var details = await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}");
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SubmitAsync(details.Form($"form[method=post][action='/Settings/ApiKeys/Delete/{row.Id}']"))).StatusCode);

        for (var i = 0; i < 3; i++)
        {
            var response = await client.ApiSendAsync(HttpMethod.Get, Me, key).ExpectAsync(HttpStatusCode.Unauthorized);
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
        await client.ApiSendAsync(HttpMethod.Get, Me, key).ExpectAsync(HttpStatusCode.OK);
        var row = await _factory.KeyRowAsync(key);
        var details = await admin.GetDocumentAsync($"/Settings/ApiKeys/Details/{row.Id}");
        await admin.SubmitAsync(details.Form($"form[method=post][action='/Settings/ApiKeys/Delete/{row.Id}']"));

        var responses = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => client.ApiSendAsync(HttpMethod.Get, Me, key)));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode));
    }

    [Fact]
    public async Task ExpiredKey_IsRefusedWhileCached()
    {
        var (_, key) = await NewKeyAsync("Cached, then expired");
        var client = _factory.NewClient();
        await client.ApiSendAsync(HttpMethod.Get, Me, key).ExpectAsync(HttpStatusCode.OK);
        var before = _factory.Hasher.Verifies;

        // Past the key's 30 days: the cached state is judged against the clock on every request.
        _factory.Time.Advance(TimeSpan.FromDays(31));
        var response = await client.ApiSendAsync(HttpMethod.Get, Me, key).ExpectAsync(HttpStatusCode.Unauthorized);

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

        var row = await _factory.KeyRowAsync(key);

        Assert.Matches(@"^\$2[aby]\$05\$", row.SecretHash);
        await _factory.NewClient().ApiSendAsync(HttpMethod.Get, "/v1/installations/me", key).ExpectAsync(HttpStatusCode.OK);
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

        await _factory.NewClient().ApiSendAsync(HttpMethod.Get, "/v1/installations/me", key).ExpectAsync(HttpStatusCode.OK);
        await _factory.NewClient().ApiSendAsync(HttpMethod.Get, "/v1/installations/me", TestKeys.WithWrongSecret(key)).ExpectAsync(HttpStatusCode.Unauthorized);
        Assert.Matches(@"^\$2[aby]\$04\$", (await _factory.KeyRowAsync(key)).SecretHash);
    }
}
