using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using PleoKeys.Web.Data;

namespace PleoKeys.Web.ApiKeys;

/// <summary>What verification needs to know of a stored key: everything but the plaintext.</summary>
public sealed record KeySnapshot(
    Guid Id,
    string KeyId,
    string SecretHash,
    string Last4,
    KeyEnvironment Environment,
    AccessLevel AccessLevel,
    Guid CompanyId,
    Guid OrganisationId,
    string[] Scopes,
    DateTime CreatedAtUtc,
    DateTime ExpiresAtUtc,
    DateTime? DeletedAtUtc,
    string TimeZoneId)
{
    public string Fingerprint => ApiKeyFormat.Fingerprint(Environment, KeyId, Last4);

    /// <summary>The key's name, which the installation answers with.</summary>
    public string Name { get; init; } = "";

    public DateTime? InstallationActivatedAtUtc { get; init; }

    /// <summary>The name of the company the key was created in, which a refusal names.</summary>
    public string CompanyName { get; init; } = "";

    /// <summary>Whether that company's API key access is on (Pleo's operator command switches it).</summary>
    public bool CompanyApiKeyAccess { get; init; } = true;

    /// <summary>
    /// An entity key whose company's API key access is off: refused until it is on again. An organisation key
    /// is not one company's key; it loses only the switched-off entities (<c>KeyReach</c> decides per call).
    /// </summary>
    public bool IsSwitchedOff => AccessLevel == AccessLevel.Company && !CompanyApiKeyAccess;

    /// <summary>When the key was rolled; its secret then works until <see cref="SecretStopsAtUtc"/>.</summary>
    public DateTime? RolledAtUtc { get; init; }

    /// <summary>The end of a rolled key's grace period, judged against the clock on every request.</summary>
    public DateTime? SecretStopsAtUtc { get; init; }

    /// <summary>The key's IP allowlist (<see cref="ApiKeys.AllowedNetworks"/>); empty, any address.</summary>
    public System.Net.IPNetwork[] AllowedNetworks { get; init; } = [];
}

/// <summary>Reads one key's row by its public key id (one indexed lookup).</summary>
public interface IKeyStore
{
    Task<KeySnapshot?> FindAsync(string keyId, CancellationToken ct);
}

public enum VerifyOutcome
{
    Valid,
    Malformed,
    BadChecksum,
    WrongEnvironment,
    UnknownOrWrongSecret,
    Expired,
    Deleted,
    AccessSwitchedOff,

    /// <summary>The key was rolled and its grace period has ended: the replacement must be used.</summary>
    Rolled,
    Throttled,
}

/// <param name="BurstKeyId">
/// Set on the first answer that throttles a key id in a window: the caller records one audit event for
/// the burst of failed attempts against that key.
/// </param>
public sealed record VerifyResult(
    VerifyOutcome Outcome, KeySnapshot? Key = null, KeyEnvironment? PresentedEnvironment = null, TimeSpan? RetryAfter = null,
    string? BurstKeyId = null)
{
    public bool Succeeded => Outcome == VerifyOutcome.Valid;
}

/// <summary>
/// Verifies presented keys while paying BCrypt once per key per process instead of once per request.
/// <list type="bullet">
/// <item>Format and checksum are checked first, without the database or BCrypt.</item>
/// <item>After one successful BCrypt verify, an HMAC-SHA-256 of the key under a random per-process secret
/// is kept with the key's state; a later request whose digest matches skips BCrypt (about a microsecond).
/// The digest is useless outside this process, unlike a plain hash of the key.</item>
/// <item>Concurrent first uses of the same key share one BCrypt verify (single flight).</item>
/// <item>The key's state (expiry, deletion, roll, scopes, its company's API key access) is re-read from the database by the first request
/// after <see cref="Invalidate"/>, so deletion and a roll bite on the next request; expiry and the end of a
/// rolled key's grace period are checked against the clock on every request. Each cached state remembers the key's change count it was read under, so a
/// state read before a change is never trusted after it, however the requests interleave.</item>
/// <item>Failures are budgeted per client address and per key id; over budget, BCrypt is not even
/// tried, and at most one BCrypt runs at a time so valid (cached) traffic keeps a core.</item>
/// </list>
/// </summary>
public sealed class KeyVerifier : IDisposable
{
    private const int MaxRememberedFailures = 100_000;

    /// <summary>The failure window: a burst against one key id is audited once per window, and remembered failures last as long.</summary>
    private static readonly TimeSpan BurstWindow = TimeSpan.FromMinutes(1);

    private readonly IKeyStore _store;
    private readonly BCryptGate _bcrypt;
    private readonly TimeProvider _time;
    private readonly KeyEnvironment _environment;
    private readonly byte[] _digestKey = RandomNumberGenerator.GetBytes(32);
    private const int DigestLength = HMACSHA256.HashSizeInBytes;

    private readonly ConcurrentDictionary<string, Entry> _verified = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> _verifiedByKeyId;
    private readonly ThreadLocal<IncrementalHash> _hmac;

    /// <summary>Credential strings (weakly held: an entry goes with its string) and the verified key each carried.</summary>
    private readonly ConditionalWeakTable<string, Entry> _credentials = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<VerifyResult>>> _inFlight = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _changes = new(StringComparer.Ordinal);
    private long _epoch;
    private readonly ConcurrentDictionary<string, DateTime> _knownBad = new(StringComparer.Ordinal);

    /// <summary>Key ids with no row, remembered for a minute: any secret with them is refused without a lookup.</summary>
    private readonly ConcurrentDictionary<string, DateTime> _unknownKeyIds = new(StringComparer.Ordinal);

    /// <summary>The flight's answer for a key id with no row (told apart by reference from a wrong secret's).</summary>
    private static readonly VerifyResult NoSuchKeyId = new(VerifyOutcome.UnknownOrWrongSecret);
    private readonly ConcurrentDictionary<string, DateTime> _burstUntil = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTime> _probing = new(StringComparer.Ordinal);
    private readonly PartitionedRateLimiter<string> _failuresPerClient;
    private readonly PartitionedRateLimiter<string> _failuresPerKey;

    public KeyVerifier(IKeyStore store, BCryptGate bcrypt, TimeProvider time, IOptions<PleoKeysOptions> options)
    {
        _store = store;
        _bcrypt = bcrypt;
        _time = time;
        var o = options.Value;
        _environment = o.Environment;
        _verifiedByKeyId = _verified.GetAlternateLookup<ReadOnlySpan<char>>();
        _hmac = new ThreadLocal<IncrementalHash>(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _digestKey), trackAllValues: true);
        _failuresPerClient = FailureBudget(o.FailedAuthPerMinutePerClient);
        _failuresPerKey = FailureBudget(o.FailedAuthPerMinutePerKey);
    }

    /// <summary>How often a key had changed (and all keys had been invalidated) when its state was read.</summary>
    private readonly record struct Version(long Changes, long Epoch);

    /// <summary>A key's state as read, with the answers it gives made once (a request allocates none).</summary>
    private sealed class State(KeySnapshot snapshot, Version readAt)
    {
        public KeySnapshot Snapshot { get; } = snapshot;

        public Version ReadAt { get; } = readAt;

        public VerifyResult Valid { get; } = new(VerifyOutcome.Valid, snapshot);

        public VerifyResult Expired { get; } = new(VerifyOutcome.Expired, snapshot);

        public VerifyResult Deleted { get; } = new(VerifyOutcome.Deleted, snapshot);

        public VerifyResult SwitchedOff { get; } = new(VerifyOutcome.AccessSwitchedOff, snapshot);
        public VerifyResult Rolled { get; } = new(VerifyOutcome.Rolled, snapshot);
    }

    private sealed class Entry(byte[] digest, State state)
    {
        public byte[] Digest { get; } = digest;

        // Replaced whole, so a reader never sees a snapshot with another snapshot's version.
        public volatile State State = state;

        /// <summary>Set when the entry leaves the cache; credentials remembered against it no longer count.</summary>
        public volatile bool Retired;
    }

    /// <summary>Counts the BCrypt verifies this verifier ran (for tests and the benchmark).</summary>
    public long BCryptVerifies => Interlocked.Read(ref _bcryptVerifies);

    private long _bcryptVerifies;

    /// <summary>
    /// Decides a presented key. A key verified before, whose state is current, is decided synchronously
    /// without allocating (see <see cref="TryVerifyCached"/>); anything else takes the full path.
    /// </summary>
    public ValueTask<VerifyResult> VerifyAsync(string presented, string? client, CancellationToken ct = default) =>
        TryVerifyCached(presented, null, out var cached)
            ? ValueTask.FromResult(cached)
            : new ValueTask<VerifyResult>(VerifyFullAsync(presented, client, ct));

    /// <summary>
    /// The hot path: a key this process verified before, presented again. One HMAC of the presented text
    /// and a lookup by its key id; true only when the digest matches a verified key and that key's cached
    /// state is current, with the answer (valid, expired, deleted or switched off). A digest match means the text is the
    /// very key once verified, so its format, checksum and environment need no second look. False sends
    /// the caller to <see cref="VerifyAsync"/>, which decides everything else.
    /// </summary>
    /// <param name="credential">
    /// The string the key came in (the Authorization header), remembered against the key when it matches,
    /// for <see cref="TryVerifyCachedCredential"/>.
    /// </param>
    public bool TryVerifyCached(ReadOnlySpan<char> presented, string? credential, [NotNullWhen(true)] out VerifyResult? result)
    {
        result = null;
        if (!TryFindVerified(presented, out var entry) || !TryJudgeCurrent(entry, out result))
        {
            return false;
        }

        if (credential is not null)
        {
            _credentials.AddOrUpdate(credential, entry);
        }

        return true;
    }

    /// <summary>
    /// The hotter path: the very string object a verified key came in before. Kestrel hands a keep-alive
    /// connection the same header string for as long as its bytes stay the same, so a client calling again
    /// with its key costs a reference lookup here, not an HMAC. The key's state is checked as on every path:
    /// a deleted, changed or expired key is never let in from here.
    /// </summary>
    public bool TryVerifyCachedCredential(string credential, [NotNullWhen(true)] out VerifyResult? result)
    {
        result = null;
        return _credentials.TryGetValue(credential, out var entry) && TryJudgeCurrent(entry, out result);
    }

    /// <summary>
    /// True when this client address has spent its failed-authentication budget for the minute: its next
    /// unknown credential is refused without a lookup (see <see cref="IsVerifiedKey"/> for the exception).
    /// </summary>
    public bool IsClientThrottled(string? client) => Exhausted(_failuresPerClient, client ?? "-") is not null;

    /// <summary>
    /// True when this client address tried wrong secrets for a real key (or kept at a throttled key id)
    /// within the failure window: not a typo or a misconfigured integration, but guessing.
    /// </summary>
    public bool IsProbing(string? client) => IsRemembered(_probing, client ?? "-");

    private void MarkProbing(string? client) => Remember(_probing, client ?? "-");

    /// <summary>
    /// True when the credential string, or the key text, is one this process verified (whatever the key's
    /// state now): such a request is never shed as an attacker's, since its key is judged by its state.
    /// </summary>
    public bool IsVerifiedKey(string credential, ReadOnlySpan<char> presented)
    {
        if (_credentials.TryGetValue(credential, out var remembered) && !remembered.Retired)
        {
            return true;
        }

        return TryFindVerified(presented, out var entry) && !entry.Retired;
    }

    /// <summary>The cached entry of the very key presented: found by its key id, matched by its digest.</summary>
    private bool TryFindVerified(ReadOnlySpan<char> presented, [NotNullWhen(true)] out Entry? entry)
    {
        Span<byte> digest = stackalloc byte[DigestLength];
        if (presented.Length == ApiKeyFormat.Length
            && _verifiedByKeyId.TryGetValue(presented.Slice(ApiKeyFormat.PrefixLength, ApiKeyFormat.KeyIdLength), out entry)
            && TryDigest(presented, digest) && CryptographicOperations.FixedTimeEquals(entry.Digest, digest))
        {
            return true;
        }

        entry = null;
        return false;
    }

    /// <summary>The answer from the entry's cached state, when the entry is still cached and its state current.</summary>
    private bool TryJudgeCurrent(Entry entry, [NotNullWhen(true)] out VerifyResult? result)
    {
        var state = entry.State;
        if (entry.Retired || state.ReadAt != CurrentVersion(state.Snapshot.KeyId))
        {
            result = null;
            return false;
        }

        result = Judge(state);
        return true;
    }

    private async Task<VerifyResult> VerifyFullAsync(string presented, string? client, CancellationToken ct)
    {
        var formatError = ApiKeyFormat.TryParse(presented, out var parsed);
        if (formatError != KeyFormatError.None)
        {
            return Fail(formatError == KeyFormatError.BadChecksum ? VerifyOutcome.BadChecksum : VerifyOutcome.Malformed, client, null);
        }

        if (parsed!.Environment != _environment)
        {
            return Fail(VerifyOutcome.WrongEnvironment, client, null, parsed.Environment);
        }

        var digest = Digest(presented);
        if (_verified.TryGetValue(parsed.KeyId, out var entry))
        {
            if (CryptographicOperations.FixedTimeEquals(entry.Digest, digest))
            {
                return await FromCacheAsync(parsed.KeyId, entry, client, ct);
            }

            // A wrong secret for a key that exists: someone is guessing at a real key.
            MarkProbing(client);
        }

        // A key id with no row has no secret to guess: it spends the client's budget only, so a spray of
        // made-up key ids does not leave a failure budget behind for each of them.
        if (IsRemembered(_unknownKeyIds, parsed.KeyId))
        {
            return Fail(VerifyOutcome.UnknownOrWrongSecret, client, null);
        }

        var flightKey = parsed.KeyId + ":" + Convert.ToBase64String(digest);
        if (IsRemembered(_knownBad, flightKey))
        {
            return Fail(VerifyOutcome.UnknownOrWrongSecret, client, parsed.KeyId);
        }

        // Over budget, do not spend BCrypt on this client or key id at all.
        if (Exhausted(_failuresPerClient, client ?? "-") is { } clientWait)
        {
            return new VerifyResult(VerifyOutcome.Throttled, RetryAfter: clientWait);
        }

        if (Exhausted(_failuresPerKey, parsed.KeyId) is { } keyWait)
        {
            // Still a failed attempt by this client: one that keeps trying a throttled key id spends its own
            // budget too, and is then refused before any of this work (see FailedAuthShedding).
            _failuresPerClient.AttemptAcquire(client ?? "-").Dispose();
            MarkProbing(client);
            return KeyThrottled(parsed.KeyId, keyWait);
        }

        // GetOrAdd may run a value factory more than once when callers race, so the dictionary holds a
        // Lazy: only the one stored is ever started, and every concurrent caller awaits that one.
        Lazy<Task<VerifyResult>>? mine = null;
        mine = new Lazy<Task<VerifyResult>>(() => FlyAsync(parsed, digest, flightKey, mine!));
        var result = await _inFlight.GetOrAdd(flightKey, mine).Value.WaitAsync(ct);
        if (!result.Succeeded && result.Outcome is not (VerifyOutcome.Expired or VerifyOutcome.Deleted or VerifyOutcome.AccessSwitchedOff or VerifyOutcome.Rolled))
        {
            return Fail(result.Outcome, client, ReferenceEquals(result, NoSuchKeyId) ? null : parsed.KeyId);
        }

        // The secret matched and is cached now. The flight may have read the row before a change that this
        // request came after (it joined late, or the key was deleted during BCrypt), so judge by the cache,
        // which re-reads a state older than the key's last change.
        return _verified.TryGetValue(parsed.KeyId, out entry) && CryptographicOperations.FixedTimeEquals(entry.Digest, digest)
            ? await FromCacheAsync(parsed.KeyId, entry, client, ct)
            : result;
    }

    /// <summary>Forgets what is known of the key's state, so the next request re-reads it.</summary>
    public void Invalidate(string keyId) => _changes.AddOrUpdate(keyId, 1, (_, n) => n + 1);

    /// <summary>Forgets every key's state (a lost notification, a reconnect).</summary>
    public void InvalidateAll() => Interlocked.Increment(ref _epoch);

    private Version CurrentVersion(string keyId) => new(_changes.GetValueOrDefault(keyId), Interlocked.Read(ref _epoch));

    private async ValueTask<VerifyResult> FromCacheAsync(string keyId, Entry entry, string? client, CancellationToken ct)
    {
        var state = entry.State;
        var version = CurrentVersion(keyId);
        if (state.ReadAt == version)
        {
            return Judge(state);
        }

        // The key changed since its state was read: read the state again (the version first, so a change
        // made during the read is caught next time). The secret was verified already and the hash does not
        // change; if it did, or the row is gone, the cached verification no longer counts.
        var fresh = await _store.FindAsync(keyId, ct);
        if (fresh is null || fresh.SecretHash != state.Snapshot.SecretHash)
        {
            entry.Retired = true;
            _verified.TryRemove(new KeyValuePair<string, Entry>(keyId, entry));
            return Fail(VerifyOutcome.UnknownOrWrongSecret, client, keyId);
        }

        // Racing re-reads may publish out of order; an older one only causes another re-read later.
        var refreshed = new State(fresh, version);
        entry.State = refreshed;
        return Judge(refreshed);
    }

    private async Task<VerifyResult> FlyAsync(ParsedApiKey parsed, byte[] digest, string flightKey, Lazy<Task<VerifyResult>> self)
    {
        try
        {
            // Let the starting caller return to its await before the work, so it is never done inline under GetOrAdd.
            await Task.Yield();

            // A flight that finished between this caller's cache miss and its GetOrAdd has left its answer:
            // no second BCrypt for the same key (a changed key is re-read by the cache path).
            if (_verified.TryGetValue(parsed.KeyId, out var done) && CryptographicOperations.FixedTimeEquals(done.Digest, digest))
            {
                return await FromCacheAsync(parsed.KeyId, done, null, CancellationToken.None);
            }

            return await VerifySlowAsync(parsed, digest, flightKey);
        }
        finally
        {
            // Only this flight's own entry: a later flight for the same key may already be in its place.
            _inFlight.TryRemove(new KeyValuePair<string, Lazy<Task<VerifyResult>>>(flightKey, self));
        }
    }

    private async Task<VerifyResult> VerifySlowAsync(ParsedApiKey parsed, byte[] digest, string flightKey)
    {
        var version = CurrentVersion(parsed.KeyId);
        var snapshot = await _store.FindAsync(parsed.KeyId, CancellationToken.None);
        if (snapshot is null)
        {
            Remember(_unknownKeyIds, parsed.KeyId);
            return NoSuchKeyId;
        }

        Interlocked.Increment(ref _bcryptVerifies);
        var matches = await _bcrypt.VerifyAsync(parsed.Key, snapshot.SecretHash);

        if (!matches)
        {
            Remember(_knownBad, flightKey);
            return new VerifyResult(VerifyOutcome.UnknownOrWrongSecret);
        }

        var state = new State(snapshot, version);
        _verified.AddOrUpdate(parsed.KeyId, static (_, added) => added, static (_, old, added) =>
        {
            old.Retired = true;
            return added;
        }, new Entry(digest, state));
        return Judge(state);
    }

    private VerifyResult Judge(State state) =>
        state.Snapshot.DeletedAtUtc is not null ? state.Deleted
        : state.Snapshot.SecretStopsAtUtc is { } stops && Now >= stops ? state.Rolled
        : Now >= state.Snapshot.ExpiresAtUtc ? state.Expired
        : state.Snapshot.IsSwitchedOff ? state.SwitchedOff
        : state.Valid;

    private VerifyResult Fail(VerifyOutcome outcome, string? client, string? keyId, KeyEnvironment? environment = null)
    {
        // Each failure spends budget; once a budget is spent the answer becomes 429 with Retry-After.
        using var clientLease = _failuresPerClient.AttemptAcquire(client ?? "-");
        if (!clientLease.IsAcquired)
        {
            return new VerifyResult(VerifyOutcome.Throttled, RetryAfter: RetryAfterOf(clientLease));
        }

        if (keyId is not null)
        {
            using var keyLease = _failuresPerKey.AttemptAcquire(keyId);
            if (!keyLease.IsAcquired)
            {
                return KeyThrottled(keyId, RetryAfterOf(keyLease));
            }
        }

        return new VerifyResult(outcome, PresentedEnvironment: environment);
    }

    /// <summary>A throttled answer for a key id; the first in a window is marked as a new burst, to be audited once.</summary>
    private VerifyResult KeyThrottled(string keyId, TimeSpan retryAfter)
    {
        var now = Now;
        if (_burstUntil.Count > MaxRememberedFailures)
        {
            _burstUntil.Clear();
        }

        while (true)
        {
            if (_burstUntil.TryGetValue(keyId, out var until))
            {
                if (until > now)
                {
                    return new VerifyResult(VerifyOutcome.Throttled, RetryAfter: retryAfter);
                }

                if (_burstUntil.TryUpdate(keyId, now + BurstWindow, until))
                {
                    break;
                }
            }
            else if (_burstUntil.TryAdd(keyId, now + BurstWindow))
            {
                break;
            }
        }

        return new VerifyResult(VerifyOutcome.Throttled, RetryAfter: retryAfter, BurstKeyId: keyId);
    }

    private static TimeSpan? Exhausted(PartitionedRateLimiter<string> limiter, string partition) =>
        limiter.GetStatistics(partition)?.CurrentAvailablePermits <= 0 ? TimeSpan.FromSeconds(60) : null;

    private static TimeSpan RetryAfterOf(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) ? retry : TimeSpan.FromSeconds(60);

    /// <summary>Remembers a failure fact for the failure window; a map that outgrows its bound starts afresh.</summary>
    private void Remember(ConcurrentDictionary<string, DateTime> facts, string key)
    {
        if (facts.Count > MaxRememberedFailures)
        {
            facts.Clear();
        }

        facts[key] = Now + BurstWindow;
    }

    private bool IsRemembered(ConcurrentDictionary<string, DateTime> facts, string key) =>
        facts.TryGetValue(key, out var until) && until > Now;

    private DateTime Now => _time.GetUtcNow().UtcDateTime;

    private byte[] Digest(string presented)
    {
        var digest = new byte[DigestLength];
        if (!TryDigest(presented, digest))
        {
            // Not a well-formed key (callers check first); hash its UTF-8 instead, never matched by a key's digest.
            HMACSHA256.HashData(_digestKey, Encoding.UTF8.GetBytes(presented), digest);
        }

        return digest;
    }

    /// <summary>
    /// The HMAC of a key's text, with an HMAC per thread that keeps the per-process secret's prepared state
    /// (a fresh one-shot HMAC sets the secret up again each time). False when the text is not ASCII, which
    /// no key is.
    /// </summary>
    private bool TryDigest(ReadOnlySpan<char> presented, Span<byte> digest)
    {
        if (presented.Length > ApiKeyFormat.Length || !Ascii.IsValid(presented))
        {
            return false;
        }

        Span<byte> ascii = stackalloc byte[ApiKeyFormat.Length];
        var n = Encoding.ASCII.GetBytes(presented, ascii);
        var hmac = _hmac.Value!;
        hmac.AppendData(ascii[..n]);
        return hmac.TryGetHashAndReset(digest, out _);
    }

    private static PartitionedRateLimiter<string> FailureBudget(int perMinute) =>
        PartitionedRateLimiter.Create<string, string>(partition => RateLimitPartition.GetFixedWindowLimiter(partition, _ =>
            new FixedWindowRateLimiterOptions { PermitLimit = Math.Max(1, perMinute), Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));

    public void Dispose()
    {
        foreach (var hmac in _hmac.Values)
        {
            hmac.Dispose();
        }

        _hmac.Dispose();
        _failuresPerClient.Dispose();
        _failuresPerKey.Dispose();
    }
}
