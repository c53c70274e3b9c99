using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Unit;

/// <summary>
/// The verifier's promises, counted rather than timed: BCrypt is paid once per key, never for garbage,
/// and the cache never outlives a deletion or an expiry. A fake store lets a test hold a database
/// read open, so the races around revocation can be played out deterministically.
/// </summary>
public sealed class KeyVerifierTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 9, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Now);
    private readonly FakeStore _store = new();
    private readonly FakeHasher _hasher = new();
    private readonly KeyVerifier _verifier;

    public KeyVerifierTests() => _verifier = NewVerifier();

    public void Dispose() => _verifier.Dispose();

    private KeyVerifier NewVerifier(int failuresPerKey = 100_000, int failuresPerClient = 100_000) =>
        new(_store, new BCryptGate(_hasher), _time, Options.Create(new PleoKeysOptions
        {
            Environment = KeyEnvironment.Staging,
            FailedAuthPerMinutePerKey = failuresPerKey,
            FailedAuthPerMinutePerClient = failuresPerClient,
        }));

    /// <summary>Stores a new key expiring in 30 days and answers its plaintext.</summary>
    private string AddKey(DateTime? expires = null)
    {
        var key = ApiKeyFormat.Generate(KeyEnvironment.Staging);
        _store.Put(new KeySnapshot(Guid.NewGuid(), key.KeyId, _hasher.Hash(key.Key), key.Last4, KeyEnvironment.Staging,
            AccessLevel.Company, Guid.NewGuid(), Guid.NewGuid(), [Scopes.VendorsRead], Now.UtcDateTime,
            expires ?? Now.UtcDateTime.AddDays(30), null, "Europe/Copenhagen"));
        return key.Key;
    }

    private void MarkDeleted(string key) =>
        _store.Put(_store.Get(KeyIdOf(key)) with { DeletedAtUtc = _time.GetUtcNow().UtcDateTime });

    private static string KeyIdOf(string key) => key.Substring(ApiKeyFormat.PrefixLength, ApiKeyFormat.KeyIdLength);

    private static string WrongSecret(string key, int variant = 0)
    {
        var chars = key.ToCharArray();
        var i = ApiKeyFormat.PrefixLength + ApiKeyFormat.KeyIdLength + 1 + variant;
        chars[i] = chars[i] == 'a' ? 'b' : 'a';
        var body = new string(chars)[..^ApiKeyFormat.ChecksumLength];
        return body + ApiKeyFormat.Checksum(body);
    }

    [Fact]
    public async Task CompanySwitchedOff_RefusesItsEntityKeyOnceInvalidated_WithoutBCrypt_AndOnAgainRestoresIt()
    {
        var key = AddKey();
        Assert.Equal(VerifyOutcome.Valid, (await _verifier.VerifyAsync(key, "client")).Outcome);

        _store.Put(_store.Get(KeyIdOf(key)) with { CompanyName = "Nordic Coffee AB", CompanyApiKeyAccess = false });
        _verifier.Invalidate(KeyIdOf(key));
        var off = await _verifier.VerifyAsync(key, "client");
        _store.Put(_store.Get(KeyIdOf(key)) with { CompanyApiKeyAccess = true });
        _verifier.Invalidate(KeyIdOf(key));
        var on = await _verifier.VerifyAsync(key, "client");

        Assert.Equal((VerifyOutcome.AccessSwitchedOff, "Nordic Coffee AB"), (off.Outcome, off.Key!.CompanyName));
        Assert.Equal(VerifyOutcome.Valid, on.Outcome);
        Assert.Equal(1, _hasher.Verifies);
    }

    [Fact]
    public async Task CompanySwitchedOff_LeavesAnOrganisationKeyValid()
    {
        var key = AddKey();
        _store.Put(_store.Get(KeyIdOf(key)) with { AccessLevel = AccessLevel.Organisation, CompanyApiKeyAccess = false });

        // Its reach is decided per call: only the switched-off company is refused (KeyReach).
        Assert.Equal(VerifyOutcome.Valid, (await _verifier.VerifyAsync(key, "client")).Outcome);
    }

    [Fact]
    public async Task ValidKey_CostsOneBCryptThenNone()
    {
        var key = AddKey();

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(VerifyOutcome.Valid, (await _verifier.VerifyAsync(key, "client")).Outcome);
        }

        Assert.Equal(1, _hasher.Verifies);
        Assert.Equal(1, _verifier.BCryptVerifies);
    }

    [Fact]
    public async Task ConcurrentFirstUses_ShareOneBCrypt()
    {
        // 32 callers released together while the one BCrypt is held open, over many rounds, so that
        // callers who arrive while the first is still being set up are caught too.
        for (var round = 0; round < 25; round++)
        {
            using var verifier = NewVerifier();
            var key = AddKey();
            _hasher.Reset();
            _hasher.Hold();
            var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var calls = Enumerable.Range(0, 32)
                .Select(_ => Task.Run(async () =>
                {
                    await go.Task;
                    return await verifier.VerifyAsync(key, "client");
                }))
                .ToArray();
            go.SetResult();
            await _hasher.EnteredAsync();
            await Task.Delay(20);
            _hasher.Release();

            var results = await Task.WhenAll(calls);

            Assert.All(results, r => Assert.Equal(VerifyOutcome.Valid, r.Outcome));
            Assert.Equal(1, _hasher.Verifies);
        }
    }

    [Fact]
    public async Task GarbageKeys_NeverReachBCrypt()
    {
        var key = AddKey();
        var badChecksum = key[..^1] + (key[^1] == 'a' ? 'b' : 'a');
        string[] garbage = ["", "x", new string('p', 61), "pleo_test_" + new string('_', 51), badChecksum, key.ToUpperInvariant(),
            ApiKeyFormat.Generate(KeyEnvironment.Staging).Key, ApiKeyFormat.Generate(KeyEnvironment.Production).Key];

        foreach (var presented in garbage)
        {
            Assert.False((await _verifier.VerifyAsync(presented, "client")).Succeeded);
        }

        Assert.Equal(0, _hasher.Verifies);
        // Only the well-formed unknown key id needed the store; malformed ones, bad checksums and the other environment did not.
        Assert.Equal(1, _store.Reads);
    }

    [Fact]
    public async Task UnknownKeyId_RepeatedIsNotLookedUpAgain()
    {
        var unknown = ApiKeyFormat.Generate(KeyEnvironment.Staging).Key;

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(VerifyOutcome.UnknownOrWrongSecret, (await _verifier.VerifyAsync(unknown, "client")).Outcome);
        }

        Assert.Equal(1, _store.Reads);
        Assert.Equal(0, _hasher.Verifies);
    }

    [Fact]
    public async Task RepeatedWrongSecret_CostsOneBCrypt()
    {
        var key = AddKey();
        var wrong = WrongSecret(key);

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(VerifyOutcome.UnknownOrWrongSecret, (await _verifier.VerifyAsync(wrong, "client")).Outcome);
        }

        Assert.Equal(1, _hasher.Verifies);
    }

    [Fact]
    public async Task WrongSecret_ForACachedKey_IsRefused()
    {
        var key = AddKey();
        await _verifier.VerifyAsync(key, "client");

        Assert.Equal(VerifyOutcome.UnknownOrWrongSecret, (await _verifier.VerifyAsync(WrongSecret(key), "client")).Outcome);
        Assert.Equal(VerifyOutcome.Valid, (await _verifier.VerifyAsync(key, "client")).Outcome);
    }

    [Fact]
    public async Task DeletedKey_IsForgottenAtOnce_WithoutAnotherBCrypt()
    {
        var key = AddKey();
        await _verifier.VerifyAsync(key, "client");

        MarkDeleted(key);
        _verifier.Invalidate(KeyIdOf(key));

        Assert.Equal(VerifyOutcome.Deleted, (await _verifier.VerifyAsync(key, "client")).Outcome);
        Assert.Equal(VerifyOutcome.Deleted, (await _verifier.VerifyAsync(key, "client")).Outcome);
        Assert.Equal(1, _hasher.Verifies);
    }

    [Fact]
    public async Task UnknownKeyId_IsLookedUpOnceAMinute_AndLeavesNoKeyBudgetBehind()
    {
        // With a key-id budget of one, a second failure charged to the key id would be throttled.
        using var verifier = NewVerifier(failuresPerKey: 1);
        var unknown = ApiKeyFormat.Generate(KeyEnvironment.Staging).Key;
        var reads = _store.Reads;

        for (var i = 0; i < 5; i++)
        {
            var presented = i == 0 ? unknown : WrongSecret(unknown, i);
            Assert.Equal(VerifyOutcome.UnknownOrWrongSecret, (await verifier.VerifyAsync(presented, "client")).Outcome);
        }

        Assert.Equal(reads + 1, _store.Reads);
        Assert.Equal(0, _hasher.Verifies);

        // A minute on, the key id is looked up again.
        _time.Advance(TimeSpan.FromMinutes(1));
        await verifier.VerifyAsync(unknown, "client");
        Assert.Equal(reads + 2, _store.Reads);
    }

    [Fact]
    public async Task HotPaths_AnswerOnlyForTheVerifiedKey_AndForgetItAtDeletion()
    {
        var key = AddKey();
        var header = "Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes(key + ":"));

        // Nothing is decided from the cache before a BCrypt verify.
        Assert.False(_verifier.TryVerifyCached(key, header, out _));
        Assert.False(_verifier.TryVerifyCachedCredential(header, out _));
        Assert.Equal(VerifyOutcome.Valid, (await _verifier.VerifyAsync(key, "client")).Outcome);

        // The key's text decides; a wrong secret or a bad checksum under the same key id is not let in.
        Assert.False(_verifier.TryVerifyCached(WrongSecret(key), null, out _));
        Assert.False(_verifier.TryVerifyCached(key[..^1] + (key[^1] == 'a' ? 'b' : 'a'), null, out _));
        Assert.True(_verifier.TryVerifyCached(key, header, out var byText));
        Assert.Equal(VerifyOutcome.Valid, byText.Outcome);

        // The header string it came in is remembered as that very object, not by its content.
        Assert.True(_verifier.TryVerifyCachedCredential(header, out var byCredential));
        Assert.Equal(VerifyOutcome.Valid, byCredential.Outcome);
        Assert.False(_verifier.TryVerifyCachedCredential(new string(header.AsSpan()), out _));

        MarkDeleted(key);
        _verifier.Invalidate(KeyIdOf(key));
        Assert.False(_verifier.TryVerifyCached(key, header, out _));
        Assert.False(_verifier.TryVerifyCachedCredential(header, out _));
        Assert.Equal(VerifyOutcome.Deleted, (await _verifier.VerifyAsync(key, "client")).Outcome);

        // Once re-read, the hot paths give the deletion too, never a valid answer.
        Assert.True(_verifier.TryVerifyCached(key, header, out var afterDeletion));
        Assert.Equal(VerifyOutcome.Deleted, afterDeletion.Outcome);
        Assert.True(_verifier.TryVerifyCachedCredential(header, out afterDeletion));
        Assert.Equal(VerifyOutcome.Deleted, afterDeletion.Outcome);
        Assert.Equal(1, _hasher.Verifies);
    }

    [Fact]
    public async Task HotPaths_RefuseAnExpiredKey()
    {
        var expires = Now.UtcDateTime.AddDays(2);
        var key = AddKey(expires);
        var header = "Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes(key + ":"));
        await _verifier.VerifyAsync(key, "client");
        Assert.True(_verifier.TryVerifyCached(key, header, out _));

        _time.SetUtcNow(new DateTimeOffset(expires));

        Assert.True(_verifier.TryVerifyCachedCredential(header, out var result));
        Assert.Equal(VerifyOutcome.Expired, result.Outcome);
        Assert.True(_verifier.TryVerifyCached(key, null, out result));
        Assert.Equal(VerifyOutcome.Expired, result.Outcome);
    }

    [Fact]
    public async Task RolledKey_IsValidUntilItsSecretStops_ThenRolled_OnEveryPath_WithoutAnotherRead()
    {
        var key = AddKey();
        var header = "Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes(key + ":"));
        await _verifier.VerifyAsync(key, "client");
        var stops = Now.UtcDateTime.AddHours(1);
        _store.Put(_store.Get(KeyIdOf(key)) with { RolledAtUtc = Now.UtcDateTime, SecretStopsAtUtc = stops });
        _verifier.Invalidate(KeyIdOf(key));

        var inGrace = await _verifier.VerifyAsync(key, "client");
        Assert.Equal(VerifyOutcome.Valid, inGrace.Outcome);
        Assert.Equal(stops, inGrace.Key!.SecretStopsAtUtc);
        Assert.True(_verifier.TryVerifyCached(key, header, out _));
        var reads = _store.Reads;

        _time.SetUtcNow(new DateTimeOffset(stops.AddTicks(-1)));
        Assert.Equal(VerifyOutcome.Valid, (await _verifier.VerifyAsync(key, "client")).Outcome);
        _time.SetUtcNow(new DateTimeOffset(stops));
        Assert.Equal(VerifyOutcome.Rolled, (await _verifier.VerifyAsync(key, "client")).Outcome);
        Assert.True(_verifier.TryVerifyCachedCredential(header, out var result));
        Assert.Equal(VerifyOutcome.Rolled, result.Outcome);
        Assert.Equal(reads, _store.Reads);
        Assert.Equal(1, _hasher.Verifies);
    }

    [Fact]
    public async Task InvalidateAll_RereadsEveryKey()
    {
        var one = AddKey();
        var two = AddKey();
        await _verifier.VerifyAsync(one, "client");
        await _verifier.VerifyAsync(two, "client");

        MarkDeleted(one);
        MarkDeleted(two);
        _verifier.InvalidateAll();

        Assert.Equal(VerifyOutcome.Deleted, (await _verifier.VerifyAsync(one, "client")).Outcome);
        Assert.Equal(VerifyOutcome.Deleted, (await _verifier.VerifyAsync(two, "client")).Outcome);
    }

    [Fact]
    public async Task DeletedWhileItsFirstVerifyIsRunning_IsNotCachedAsValid()
    {
        // The first request reads the row, then BCrypt runs; the key is deleted in between. Whatever
        // that first request answers, the request after the deletion must not be let in from the cache.
        var key = AddKey();
        _hasher.Hold();
        var first = _verifier.VerifyAsync(key, "client");
        await _hasher.EnteredAsync();

        MarkDeleted(key);
        _verifier.Invalidate(KeyIdOf(key));
        _hasher.Release();
        await first;

        Assert.Equal(VerifyOutcome.Deleted, (await _verifier.VerifyAsync(key, "client")).Outcome);
    }

    [Fact]
    public async Task RequestArrivingWhileTheStateIsReread_DoesNotUseTheOldState()
    {
        var key = AddKey();
        await _verifier.VerifyAsync(key, "client");
        MarkDeleted(key);
        _verifier.Invalidate(KeyIdOf(key));

        // The first request after the deletion starts re-reading the row and is held there.
        _store.Hold();
        var rereading = _verifier.VerifyAsync(key, "client");
        await _store.EnteredAsync();
        var meanwhile = await _verifier.VerifyAsync(key, "client");
        _store.Release();

        Assert.Equal(VerifyOutcome.Deleted, meanwhile.Outcome);
        Assert.Equal(VerifyOutcome.Deleted, (await rereading).Outcome);
    }

    [Fact]
    public async Task JoiningAFlightThatReadBeforeTheDeletion_IsNotLetIn()
    {
        // A request that arrives after the deletion but joins a first verify begun before it must not be let in.
        var key = AddKey();
        _hasher.Hold();
        var before = _verifier.VerifyAsync(key, "client");
        await _hasher.EnteredAsync();
        MarkDeleted(key);
        _verifier.Invalidate(KeyIdOf(key));
        var after = _verifier.VerifyAsync(key, "client");
        _hasher.Release();
        await before;

        Assert.Equal(VerifyOutcome.Deleted, (await after).Outcome);
    }

    [Fact]
    public async Task CachedKey_IsRefusedAtTheInstantItExpires()
    {
        var expires = Now.UtcDateTime.AddDays(2);
        var key = AddKey(expires);
        Assert.Equal(VerifyOutcome.Valid, (await _verifier.VerifyAsync(key, "client")).Outcome);

        _time.SetUtcNow(new DateTimeOffset(expires).AddTicks(-1));
        Assert.Equal(VerifyOutcome.Valid, (await _verifier.VerifyAsync(key, "client")).Outcome);
        _time.SetUtcNow(new DateTimeOffset(expires));
        var result = await _verifier.VerifyAsync(key, "client");

        Assert.Equal(VerifyOutcome.Expired, result.Outcome);
        Assert.Equal(expires, result.Key!.ExpiresAtUtc);
        Assert.Equal(1, _hasher.Verifies);
    }

    [Fact]
    public async Task OtherEnvironment_IsToldWhichOne()
    {
        var result = await _verifier.VerifyAsync(ApiKeyFormat.Generate(KeyEnvironment.Production).Key, "client");

        Assert.Equal(VerifyOutcome.WrongEnvironment, result.Outcome);
        Assert.Equal(KeyEnvironment.Production, result.PresentedEnvironment);
        Assert.Equal(0, _store.Reads);
    }

    [Fact]
    public async Task WrongSecretsOverTheKeyBudget_AreThrottledWithoutBCrypt()
    {
        using var verifier = NewVerifier(failuresPerKey: 3);
        var key = AddKey();

        var outcomes = new List<VerifyOutcome>();
        for (var i = 0; i < 6; i++)
        {
            outcomes.Add((await verifier.VerifyAsync(WrongSecret(key, i), $"client-{i}")).Outcome);
        }

        Assert.Equal([.. Enumerable.Repeat(VerifyOutcome.UnknownOrWrongSecret, 3), .. Enumerable.Repeat(VerifyOutcome.Throttled, 3)], outcomes);
        Assert.Equal(3, _hasher.Verifies);
        var throttled = await verifier.VerifyAsync(WrongSecret(key, 10), "client-x");
        Assert.NotNull(throttled.RetryAfter);
    }

    [Fact]
    public async Task GarbageOverTheClientBudget_IsThrottledForThatClientOnly()
    {
        using var verifier = NewVerifier(failuresPerClient: 2);

        var outcomes = new List<VerifyOutcome>();
        for (var i = 0; i < 4; i++)
        {
            outcomes.Add((await verifier.VerifyAsync("garbage", "attacker")).Outcome);
        }

        Assert.Equal([VerifyOutcome.Malformed, VerifyOutcome.Malformed, VerifyOutcome.Throttled, VerifyOutcome.Throttled], outcomes);
        Assert.Equal(VerifyOutcome.Malformed, (await verifier.VerifyAsync("garbage", "someone-else")).Outcome);
    }

    [Fact]
    public void RaisingTheWorkFactor_KeepsOldHashesValid()
    {
        // A hash carries its own cost: a key hashed at factor 4 still verifies once the app hashes at 6.
        var key = ApiKeyFormat.Generate(KeyEnvironment.Staging).Key;
        var oldHash = new BCryptKeySecretHasher(4).Hash(key);
        var newHasher = new BCryptKeySecretHasher(6);

        Assert.StartsWith("$2", oldHash, StringComparison.Ordinal);
        Assert.Contains("$04$", oldHash, StringComparison.Ordinal);
        Assert.Contains("$06$", newHasher.Hash(key), StringComparison.Ordinal);
        Assert.True(newHasher.Verify(key, oldHash));
        Assert.False(newHasher.Verify(WrongSecret(key), oldHash));
    }

    /// <summary>Keys by key id; can hold the next read open, as a slow query would.</summary>
    private sealed class FakeStore : IKeyStore
    {
        private readonly ConcurrentDictionary<string, KeySnapshot> _rows = new(StringComparer.Ordinal);
        private TaskCompletionSource? _gate;
        private TaskCompletionSource? _held;
        private TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public void Put(KeySnapshot snapshot) => _rows[snapshot.KeyId] = snapshot;

        public KeySnapshot Get(string keyId) => _rows[keyId];

        public void Hold()
        {
            _gate = _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public Task EnteredAsync() => _entered.Task.WaitAsync(TimeSpan.FromSeconds(10));

        public void Release() => _held?.TrySetResult();

        public async Task<KeySnapshot?> FindAsync(string keyId, CancellationToken ct)
        {
            Interlocked.Increment(ref _reads);
            var gate = _gate;
            if (gate is not null)
            {
                _gate = null;
                _entered.TrySetResult();
                // The row is read after the hold, so a change made meanwhile is seen, as a real query would.
                await gate.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
            }

            return _rows.GetValueOrDefault(keyId);
        }
    }

    /// <summary>SHA-256 instead of BCrypt (fast), counting verifies; can hold the next verify open.</summary>
    private sealed class FakeHasher : IKeySecretHasher
    {
        private int _verifies;
        private TaskCompletionSource? _gate;
        private TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Verifies => Volatile.Read(ref _verifies);

        public void Reset() => Interlocked.Exchange(ref _verifies, 0);

        public void Hold()
        {
            _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public Task EnteredAsync() => _entered.Task.WaitAsync(TimeSpan.FromSeconds(10));

        public void Release()
        {
            var gate = _gate;
            _gate = null;
            gate?.TrySetResult();
        }

        public string Hash(string key) => Convert.ToHexString(SHA256.HashData(Encoding.ASCII.GetBytes(key)));

        public bool Verify(string key, string hash)
        {
            Interlocked.Increment(ref _verifies);
            var gate = _gate;
            if (gate is not null)
            {
                _entered.TrySetResult();
                // BCrypt is synchronous, so the held call blocks its thread, as a real one would.
                gate.Task.Wait(TimeSpan.FromSeconds(10));
            }

            return Hash(key) == hash;
        }
    }
}
