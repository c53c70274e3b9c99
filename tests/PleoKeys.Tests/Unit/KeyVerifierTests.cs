using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Unit;

/// <summary>
/// The verifier's promises, counted rather than timed: BCrypt is paid once per key for its whole life (after
/// that a digest under the server secret recognises it on any verifier, after any restart), never for garbage
/// or a wrong secret of a key with a digest, and the cache never outlives a deletion or an expiry. A fake store
/// lets a test hold a database read open, so the races around revocation can be played out deterministically.
/// </summary>
public sealed class KeyVerifierTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 9, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Now);
    private readonly FakeStore _store = new();
    private readonly FakeHasher _hasher = new();
    private static readonly byte[] FirstSecret = RandomNumberGenerator.GetBytes(32);
    private readonly KeyDigests _digests = new(FirstSecret);
    private readonly KeyCache _cache;
    private readonly KeyVerifier _verifier;

    public KeyVerifierTests()
    {
        _cache = new KeyCache(_store, _digests);
        _verifier = NewVerifier(_cache, _digests);
    }

    public void Dispose() => _digests.Dispose();

    /// <summary>A verifier as a freshly started instance has it: an empty cache over the same rows.</summary>
    private KeyVerifier Restarted(KeyDigests? digests = null) => NewVerifier(new KeyCache(_store, digests ?? _digests), digests ?? _digests);

    private KeyVerifier NewVerifier(KeyCache cache, KeyDigests digests) =>
        new(cache, digests, new BCryptGate(_hasher), _store, _time,
            Options.Create(new PleoKeysOptions { Environment = KeyEnvironment.Staging }), NullLogger<KeyVerifier>.Instance);

    /// <summary>Stores a new key expiring in 30 days, as the Create page does (with its digest unless told not to), and answers its plaintext.</summary>
    private string AddKey(DateTime? expires = null, bool withDigest = true)
    {
        var key = ApiKeyFormat.Generate(KeyEnvironment.Staging);
        _store.Put(new KeySnapshot(Guid.NewGuid(), key.KeyId, _hasher.Hash(key.Key), key.Last4, KeyEnvironment.Staging,
            AccessLevel.Company, Guid.NewGuid(), Guid.NewGuid(), [Scopes.VendorsRead], Now.UtcDateTime,
            expires ?? Now.UtcDateTime.AddDays(30), null, "Europe/Copenhagen")
        {
            Digest = withDigest ? _digests.Compute(key.Key) : null,
            DigestSecretId = withDigest ? _digests.SecretId : null,
        });
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
    public async Task KeyWithADigest_IsRecognisedWithoutBCrypt_ByEveryRestartedVerifier()
    {
        var key = AddKey();

        for (var restart = 0; restart < 3; restart++)
        {
            Assert.Equal(VerifyOutcome.Valid, (await Restarted().VerifyAsync(key)).Outcome);
        }

        Assert.Equal(0, _hasher.Verifies);
        Assert.Equal(3, _store.Reads);
    }

    [Fact]
    public async Task KeyWithoutADigest_CostsOneBCryptForItsWholeLife()
    {
        var key = AddKey(withDigest: false);

        Assert.Equal(VerifyOutcome.Valid, (await _verifier.VerifyAsync(key)).Outcome);
        Assert.Equal(VerifyOutcome.Valid, (await _verifier.VerifyAsync(key)).Outcome);
        Assert.Equal(VerifyOutcome.Valid, (await Restarted().VerifyAsync(key)).Outcome);

        Assert.Equal(1, _hasher.Verifies);
        Assert.Equal(1, _store.DigestWrites);
        Assert.Equal(_digests.SecretId, _store.Get(KeyIdOf(key)).DigestSecretId);
    }

    [Fact]
    public async Task RotatedSecret_CostsEachKeyOneBCrypt_ThenItsNewDigestServes()
    {
        var key = AddKey();
        var rotated = new KeyDigests(RandomNumberGenerator.GetBytes(32));

        Assert.Equal(VerifyOutcome.Valid, (await Restarted(rotated).VerifyAsync(key)).Outcome);
        Assert.Equal(VerifyOutcome.Valid, (await Restarted(rotated).VerifyAsync(key)).Outcome);

        Assert.Equal(1, _hasher.Verifies);
        Assert.Equal(rotated.SecretId, _store.Get(KeyIdOf(key)).DigestSecretId);
        Assert.NotEqual(_digests.SecretId, rotated.SecretId);
    }

    [Fact]
    public async Task AfterARotation_ADigestUnderThePreviousSecret_IsMatchedByHmac_NotBCrypt_AndReplaced()
    {
        var key = AddKey();
        var rotated = new KeyDigests(RandomNumberGenerator.GetBytes(32), previous: FirstSecret);
        var verifier = Restarted(rotated);

        Assert.Equal(VerifyOutcome.UnknownOrWrongSecret, (await verifier.VerifyAsync(WrongSecret(key))).Outcome);
        Assert.Equal(VerifyOutcome.Valid, (await verifier.VerifyAsync(key)).Outcome);

        Assert.Equal(0, _hasher.Verifies);
        Assert.Equal(rotated.SecretId, _store.Get(KeyIdOf(key)).DigestSecretId);
    }

    [Fact]
    public async Task ACopyOfTheRowsWithoutTheSecret_GainsNothingFromTheDigest()
    {
        // Without the secret, the stored digest is neither the key's plain hash nor any other secret's HMAC, so
        // it cannot be tested against guesses: a verifier with another secret falls back to BCrypt.
        var key = AddKey();
        var stored = _store.Get(KeyIdOf(key)).Digest!;
        var otherSecret = new KeyDigests(RandomNumberGenerator.GetBytes(32));

        Assert.NotEqual(SHA256.HashData(Encoding.ASCII.GetBytes(key)), stored);
        Assert.NotEqual(otherSecret.Compute(key), stored);
        Assert.Equal(VerifyOutcome.UnknownOrWrongSecret, (await Restarted(otherSecret).VerifyAsync(WrongSecret(key))).Outcome);
        Assert.Equal(1, _hasher.Verifies);
    }

    [Fact]
    public async Task WrongSecrets_ForAKeyWithADigest_CostNoBCrypt()
    {
        var key = AddKey();

        for (var i = 0; i < 20; i++)
        {
            var result = await Restarted().VerifyAsync(WrongSecret(key, i % 8));
            Assert.Equal(VerifyOutcome.UnknownOrWrongSecret, result.Outcome);
            Assert.Equal(KeyIdOf(key), result.Key!.KeyId);
        }

        Assert.Equal(VerifyOutcome.Valid, (await Restarted().VerifyAsync(key)).Outcome);
        Assert.Equal(0, _hasher.Verifies);
    }

    [Fact]
    public async Task CompanySwitchedOff_RefusesItsEntityKeyOnceInvalidated_AndOnAgainRestoresIt()
    {
        var key = AddKey();
        Assert.Equal(VerifyOutcome.Valid, (await _verifier.VerifyAsync(key)).Outcome);

        _store.Put(_store.Get(KeyIdOf(key)) with { CompanyName = "Nordic Coffee AB", CompanyApiKeyAccess = false });
        _cache.Invalidate(KeyIdOf(key));
        var off = await _verifier.VerifyAsync(key);
        _store.Put(_store.Get(KeyIdOf(key)) with { CompanyApiKeyAccess = true });
        _cache.Invalidate(KeyIdOf(key));
        var on = await _verifier.VerifyAsync(key);

        Assert.Equal((VerifyOutcome.AccessSwitchedOff, "Nordic Coffee AB"), (off.Outcome, off.Key!.CompanyName));
        Assert.Equal(VerifyOutcome.Valid, on.Outcome);
    }

    [Fact]
    public async Task CompanySwitchedOff_LeavesAnOrganisationKeyValid()
    {
        var key = AddKey();
        _store.Put(_store.Get(KeyIdOf(key)) with { AccessLevel = AccessLevel.Organisation, CompanyApiKeyAccess = false });

        // Its reach is decided per call: only the switched-off company is refused (KeyReach).
        Assert.Equal(VerifyOutcome.Valid, (await _verifier.VerifyAsync(key)).Outcome);
    }

    [Fact]
    public async Task CachedKey_IsNotReadAgainUntilItChanges()
    {
        var key = AddKey();

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(VerifyOutcome.Valid, (await _verifier.VerifyAsync(key)).Outcome);
        }

        Assert.Equal(1, _store.Reads);
        _cache.Invalidate(KeyIdOf(key));
        await _verifier.VerifyAsync(key);
        Assert.Equal(2, _store.Reads);
    }

    [Fact]
    public async Task ConcurrentFirstUses_OfAKeyWithoutADigest_ShareOneBCrypt()
    {
        // 32 callers released together while the one BCrypt is held open, over many rounds, so that
        // callers who arrive while the first is still being set up are caught too.
        for (var round = 0; round < 25; round++)
        {
            var verifier = Restarted();
            var key = AddKey(withDigest: false);
            _hasher.Reset();
            _hasher.Hold();
            var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var calls = Enumerable.Range(0, 32)
                .Select(_ => Task.Run(async () =>
                {
                    await go.Task;
                    return await verifier.VerifyAsync(key);
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

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("pleo_test_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB_000000")]
    public async Task GarbageKeys_NeverReachTheStoreOrBCrypt(string presented)
    {
        var result = await _verifier.VerifyAsync(presented);

        Assert.Contains(result.Outcome, new[] { VerifyOutcome.Malformed, VerifyOutcome.BadChecksum });
        Assert.Equal(0, _store.Reads);
        Assert.Equal(0, _hasher.Verifies);
    }

    [Fact]
    public async Task UnknownKeyId_IsRefused_AndNotRemembered()
    {
        var stranger = ApiKeyFormat.Generate(KeyEnvironment.Staging).Key;

        var result = await _verifier.VerifyAsync(stranger);

        Assert.Equal((VerifyOutcome.UnknownOrWrongSecret, (KeySnapshot?)null), (result.Outcome, result.Key));
        Assert.Equal(0, _hasher.Verifies);
        Assert.Null(_cache.FindRemembered(KeyIdOf(stranger)));
    }

    [Fact]
    public async Task DeletedKey_IsRefusedOnceInvalidated()
    {
        var key = AddKey();
        await _verifier.VerifyAsync(key);

        MarkDeleted(key);
        _cache.Invalidate(KeyIdOf(key));

        Assert.Equal(VerifyOutcome.Deleted, (await _verifier.VerifyAsync(key)).Outcome);
        Assert.False(await _verifier.IsKnownKeyAsync(WrongSecret(key), () => true));
        Assert.True(await _verifier.IsKnownKeyAsync(key, () => true));
    }

    [Fact]
    public async Task IsKnownKey_OnAColdVerifier_ReadsTheRowOnce_AndNeverRunsBCrypt()
    {
        var key = AddKey();
        var legacy = AddKey(withDigest: false);

        Assert.True(await _verifier.IsKnownKeyAsync(key, () => true));
        Assert.False(await _verifier.IsKnownKeyAsync(WrongSecret(key), () => true));
        Assert.False(await _verifier.IsKnownKeyAsync("garbage", () => true));
        // Without a current digest only BCrypt could tell, which a client over its budget is not given.
        Assert.False(await _verifier.IsKnownKeyAsync(legacy, () => true));

        Assert.Equal(2, _store.Reads);
        Assert.Equal(0, _hasher.Verifies);
    }

    [Fact]
    public async Task RolledKey_IsValidUntilItsSecretStops_ThenRolled_WithoutAnotherRead()
    {
        var key = AddKey();
        var stops = Now.UtcDateTime.AddHours(1);
        _store.Put(_store.Get(KeyIdOf(key)) with { RolledAtUtc = Now.UtcDateTime, SecretStopsAtUtc = stops });

        Assert.Equal(VerifyOutcome.Valid, (await _verifier.VerifyAsync(key)).Outcome);
        _time.SetUtcNow(new DateTimeOffset(stops));

        Assert.Equal(VerifyOutcome.Rolled, (await _verifier.VerifyAsync(key)).Outcome);
        Assert.Equal(1, _store.Reads);
    }

    [Fact]
    public async Task InvalidateAll_RereadsEveryKey()
    {
        var one = AddKey();
        var two = AddKey();
        await _verifier.VerifyAsync(one);
        await _verifier.VerifyAsync(two);

        MarkDeleted(one);
        MarkDeleted(two);
        _cache.InvalidateAll();

        Assert.Equal(VerifyOutcome.Deleted, (await _verifier.VerifyAsync(one)).Outcome);
        Assert.Equal(VerifyOutcome.Deleted, (await _verifier.VerifyAsync(two)).Outcome);
    }

    [Fact]
    public async Task DeletedWhileItsFirstBCryptIsRunning_IsNotCachedAsValid()
    {
        // The first request reads the row, then BCrypt runs; the key is deleted in between. Whatever
        // that first request answers, the request after the deletion must not be let in from the cache.
        var key = AddKey(withDigest: false);
        _hasher.Hold();
        var first = _verifier.VerifyAsync(key).AsTask();
        await _hasher.EnteredAsync();

        MarkDeleted(key);
        _cache.Invalidate(KeyIdOf(key));
        _hasher.Release();
        await first;

        Assert.Equal(VerifyOutcome.Deleted, (await _verifier.VerifyAsync(key)).Outcome);
    }

    [Fact]
    public async Task JoiningABCryptBegunBeforeTheDeletion_IsNotLetIn()
    {
        var key = AddKey(withDigest: false);
        _hasher.Hold();
        var before = _verifier.VerifyAsync(key).AsTask();
        await _hasher.EnteredAsync();
        MarkDeleted(key);
        _cache.Invalidate(KeyIdOf(key));
        var after = _verifier.VerifyAsync(key).AsTask();
        _hasher.Release();
        await before;

        Assert.Equal(VerifyOutcome.Deleted, (await after).Outcome);
    }

    [Fact]
    public async Task RequestArrivingWhileTheStateIsReread_DoesNotUseTheOldState()
    {
        var key = AddKey();
        await _verifier.VerifyAsync(key);
        MarkDeleted(key);
        _cache.Invalidate(KeyIdOf(key));

        // The first request after the deletion starts re-reading the row and is held there.
        _store.Hold();
        var rereading = _verifier.VerifyAsync(key).AsTask();
        await _store.EnteredAsync();
        var meanwhile = await _verifier.VerifyAsync(key);
        _store.Release();

        Assert.Equal(VerifyOutcome.Deleted, meanwhile.Outcome);
        Assert.Equal(VerifyOutcome.Deleted, (await rereading).Outcome);
    }

    [Fact]
    public async Task CachedKey_IsRefusedAtTheInstantItExpires()
    {
        var expires = Now.UtcDateTime.AddDays(2);
        var key = AddKey(expires);
        Assert.Equal(VerifyOutcome.Valid, (await _verifier.VerifyAsync(key)).Outcome);

        _time.SetUtcNow(new DateTimeOffset(expires).AddTicks(-1));
        Assert.Equal(VerifyOutcome.Valid, (await _verifier.VerifyAsync(key)).Outcome);
        _time.SetUtcNow(new DateTimeOffset(expires));
        var result = await _verifier.VerifyAsync(key);

        Assert.Equal(VerifyOutcome.Expired, result.Outcome);
        Assert.Equal(expires, result.Key!.ExpiresAtUtc);
        Assert.Equal(1, _store.Reads);
    }

    [Fact]
    public async Task OtherEnvironment_IsToldWhichOne()
    {
        var result = await _verifier.VerifyAsync(ApiKeyFormat.Generate(KeyEnvironment.Production).Key);

        Assert.Equal(VerifyOutcome.WrongEnvironment, result.Outcome);
        Assert.Equal(KeyEnvironment.Production, result.PresentedEnvironment);
        Assert.Equal(0, _store.Reads);
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

        public Task StoreDigestAsync(KeySnapshot key, byte[] digest, string secretId)
        {
            Interlocked.Increment(ref _digestWrites);
            _rows.AddOrUpdate(key.KeyId, _ => throw new InvalidOperationException("no such row"),
                (_, row) => row.SecretHash == key.SecretHash ? row with { Digest = digest, DigestSecretId = secretId } : row);
            return Task.CompletedTask;
        }

        private int _digestWrites;

        public int DigestWrites => Volatile.Read(ref _digestWrites);
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
