using System.Collections.Concurrent;

namespace PleoKeys.Web.ApiKeys;

/// <summary>
/// The keys this instance has read, by public key id, so a key's calls cost no database read. Every change to
/// a key (deleted, rolled, activated, its company's access switched) reaches <see cref="Invalidate"/>: from
/// this instance through <see cref="KeyRevocation"/>, from others through PostgreSQL NOTIFY and
/// <see cref="KeyChangePoller"/>. Each entry remembers the key's change count when it was read, so a state
/// read before a change is never used after it, however requests and re-reads interleave. Expiry and the end
/// of a rolled key's grace period are judged against the clock on every request, not here.
/// </summary>
public sealed class KeyCache(IKeyStore store, KeyDigests digests)
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _changes = new(StringComparer.Ordinal);
    private long _epoch;

    /// <summary>How often the key had changed, and all keys had been invalidated, when its state was read.</summary>
    private readonly record struct Version(long Changes, long Epoch);

    private sealed record Entry(KeySnapshot Key, Version ReadAt);

    /// <summary>The key with this key id: from memory when nothing changed since it was read, else one indexed lookup.</summary>
    public ValueTask<KeySnapshot?> FindAsync(string keyId, CancellationToken ct) =>
        _entries.TryGetValue(keyId, out var entry) && entry.ReadAt == CurrentVersion(keyId)
            ? ValueTask.FromResult<KeySnapshot?>(entry.Key)
            : new ValueTask<KeySnapshot?>(ReadAsync(keyId, ct));

    /// <summary>The key with this key id if it is in memory and current; never reads the database.</summary>
    public KeySnapshot? FindCached(string keyId) =>
        _entries.TryGetValue(keyId, out var entry) && entry.ReadAt == CurrentVersion(keyId) ? entry.Key : null;

    /// <summary>
    /// The key with this key id as last read, even when it changed since (for matching its digest, which never
    /// changes, not for judging its state); null when not in memory. Never reads the database.
    /// </summary>
    public KeySnapshot? FindRemembered(string keyId) => _entries.TryGetValue(keyId, out var entry) ? entry.Key : null;

    /// <summary>Forgets what is known of the key's state, so its next request reads it again.</summary>
    public void Invalidate(string keyId) => _changes.AddOrUpdate(keyId, 1, static (_, n) => n + 1);

    /// <summary>Forgets every key's state (a lost notification, a reconnect).</summary>
    public void InvalidateAll() => Interlocked.Increment(ref _epoch);

    /// <summary>Keeps a digest just made for a key (after its BCrypt verify) with the key's cached state, if that is still the state it was made for.</summary>
    public void RememberDigest(KeySnapshot verified, byte[] digest, string secretId)
    {
        if (_entries.TryGetValue(verified.KeyId, out var entry) && entry.Key.SecretHash == verified.SecretHash)
        {
            _entries.TryUpdate(verified.KeyId, entry with { Key = entry.Key with { Digest = digest, DigestSecretId = secretId } }, entry);
        }
    }

    private Version CurrentVersion(string keyId) => new(_changes.GetValueOrDefault(keyId), Interlocked.Read(ref _epoch));

    private async Task<KeySnapshot?> ReadAsync(string keyId, CancellationToken ct)
    {
        // The version first: a change made during the read leaves the entry stale, to be read again next time.
        var version = CurrentVersion(keyId);
        var key = await store.FindAsync(keyId, ct);
        if (key is null)
        {
            // Not kept: made-up key ids must not fill memory. Each costs its sender failed-authentication budget.
            _entries.TryRemove(keyId, out _);
            return null;
        }

        // Racing reads may store out of order; an older one only causes another read later. A digest remembered
        // meanwhile (a racing first call's BCrypt verify) is kept: the row read may predate its storing, and
        // losing it would cost another verify.
        var entry = _entries.AddOrUpdate(keyId, new Entry(key, version), (_, old) => new Entry(
            digests.IsCurrent(old.Key) && !digests.IsCurrent(key) && old.Key.SecretHash == key.SecretHash
                ? key with { Digest = old.Key.Digest, DigestSecretId = old.Key.DigestSecretId }
                : key,
            version));
        return entry.Key;
    }
}
