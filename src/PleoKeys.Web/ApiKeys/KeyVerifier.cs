using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace PleoKeys.Web.ApiKeys;

/// <summary>
/// Decides whether a presented key is one of ours and what state it is in, paying BCrypt once per key for the
/// key's whole life:
/// <list type="number">
/// <item>Format and checksum are checked first, without the database.</item>
/// <item>The key is found by its public key id (<see cref="KeyCache"/>: from memory, or one indexed lookup).</item>
/// <item>A key with a digest under the current server secret (<see cref="KeyDigests"/>) is matched by one HMAC,
/// on any instance, after any restart; a wrong secret costs no BCrypt either.</item>
/// <item>A key without one (created before digests, or under a retired secret) is verified by BCrypt once
/// (concurrent first calls share that verify), and its digest is then stored in the background.</item>
/// <item>A matched key is judged by its state: deleted, rolled past its grace period, expired, switched off, or valid.</item>
/// </list>
/// Failure budgets are not kept here but by the caller (<see cref="Auth.FailureBudgets"/>), per failing client.
/// </summary>
public sealed class KeyVerifier(
    KeyCache cache,
    KeyDigests digests,
    BCryptGate bcrypt,
    IKeyStore store,
    TimeProvider time,
    IOptions<PleoKeysOptions> options,
    ILogger<KeyVerifier> logger)
{
    private readonly ConcurrentDictionary<string, Lazy<Task<bool>>> _bcryptFlights = new(StringComparer.Ordinal);

    /// <summary>Decides a presented key; completes synchronously for a cached key with a current digest.</summary>
    public async ValueTask<VerifyResult> VerifyAsync(string presented, CancellationToken ct = default)
    {
        var error = ApiKeyFormat.TryParse(presented, out var parsed);
        if (error != KeyFormatError.None)
        {
            return new VerifyResult(error == KeyFormatError.BadChecksum ? VerifyOutcome.BadChecksum : VerifyOutcome.Malformed);
        }

        if (parsed!.Environment != options.Value.Environment)
        {
            return new VerifyResult(VerifyOutcome.WrongEnvironment, PresentedEnvironment: parsed.Environment);
        }

        var key = await cache.FindAsync(parsed.KeyId, ct);
        if (key is null)
        {
            return new VerifyResult(VerifyOutcome.UnknownOrWrongSecret);
        }

        var digest = digests.Compute(presented);
        if (!digests.IsCurrent(key) && cache.FindRemembered(key.KeyId) is { } remembered && digests.IsCurrent(remembered) && remembered.SecretHash == key.SecretHash)
        {
            // A concurrent first call verified it with BCrypt while this one read the row: use that call's digest.
            key = key with { Digest = remembered.Digest, DigestSecretId = remembered.DigestSecretId };
        }

        bool matches;
        if (digests.IsCurrent(key))
        {
            matches = CryptographicOperations.FixedTimeEquals(key.Digest, digest);
        }
        else if (key.DigestSecretId is { } made && made == digests.PreviousSecretId)
        {
            // Made under the secret before the last rotation: an HMAC decides, never BCrypt, so wrong secrets sent
            // after a rotation cost no more than before it. A match gets its digest made again under the current one.
            matches = digests.MatchesUnderPrevious(key, presented);
            if (matches)
            {
                Remember(key, digest);
            }
        }
        else
        {
            matches = await VerifyOnceWithBCryptAsync(key, presented, digest);
        }
        return matches ? Judge(key) : new VerifyResult(VerifyOutcome.UnknownOrWrongSecret, key);
    }

    /// <summary>
    /// True when the presented text is one of our keys with a current digest that matches: at most one indexed
    /// lookup and one HMAC, never BCrypt. How a client over its failure budget still gets its good key verified,
    /// also on an instance that has not seen the key yet. Says nothing of the key's state, which
    /// <see cref="VerifyAsync"/> judges.
    /// </summary>
    /// <param name="mayReadTheDatabase">False: decided from memory only (a key this instance has not read is not known).</param>
    public async ValueTask<bool> IsKnownKeyAsync(string presented, Func<bool> mayReadTheDatabase, CancellationToken ct = default)
    {
        if (ApiKeyFormat.TryParse(presented, out var parsed) != KeyFormatError.None || parsed!.Environment != options.Value.Environment)
        {
            return false;
        }

        var key = cache.FindCached(parsed.KeyId) ?? (mayReadTheDatabase() ? await cache.FindAsync(parsed.KeyId, ct) : null);
        if (key is null || !digests.IsCurrent(key))
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(key.Digest, digests.Compute(presented));
    }

    private Task<bool> VerifyOnceWithBCryptAsync(KeySnapshot key, string presented, byte[] digest)
    {
        // One verify for every concurrent call with the same key text. GetOrAdd may build a value more than
        // once when callers race, so it holds a Lazy: only the one stored is ever started.
        var flightKey = key.KeyId + ":" + Convert.ToBase64String(digest);
        Lazy<Task<bool>>? mine = null;
        mine = new Lazy<Task<bool>>(() => FlyAsync(key, presented, digest, flightKey, mine!));
        return _bcryptFlights.GetOrAdd(flightKey, mine).Value;
    }

    private async Task<bool> FlyAsync(KeySnapshot key, string presented, byte[] digest, string flightKey, Lazy<Task<bool>> self)
    {
        try
        {
            // Never run BCrypt inline under GetOrAdd: return to the caller's await first.
            await Task.Yield();
            if (!await bcrypt.VerifyAsync(presented, key.SecretHash))
            {
                return false;
            }

            Remember(key, digest);
            return true;
        }
        finally
        {
            _bcryptFlights.TryRemove(new KeyValuePair<string, Lazy<Task<bool>>>(flightKey, self));
        }
    }

    /// <summary>Keeps a digest just made under the current secret, in memory at once and on the key's row in the background.</summary>
    private void Remember(KeySnapshot key, byte[] digest)
    {
        cache.RememberDigest(key, digest, digests.SecretId);
        _ = StoreDigestAsync(key, digest);
    }

    /// <summary>Stores the digest on the key's row, off the request path; a failure only costs another BCrypt verify later.</summary>
    private async Task StoreDigestAsync(KeySnapshot key, byte[] digest)
    {
        try
        {
            await store.StoreDigestAsync(key, digest, digests.SecretId);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not store the digest of key {Fingerprint}; its next call on a cold instance costs a BCrypt verify", key.Fingerprint);
        }
    }

    private VerifyResult Judge(KeySnapshot key)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var outcome = key.DeletedAtUtc is not null ? VerifyOutcome.Deleted
            : key.SecretStopsAtUtc is { } stops && now >= stops ? VerifyOutcome.Rolled
            : now >= key.ExpiresAtUtc ? VerifyOutcome.Expired
            : key.IsSwitchedOff ? VerifyOutcome.AccessSwitchedOff
            : VerifyOutcome.Valid;
        return new VerifyResult(outcome, key);
    }
}
