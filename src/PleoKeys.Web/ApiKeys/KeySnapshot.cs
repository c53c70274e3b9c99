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

    /// <summary>The key's <see cref="KeyDigests"/> digest (32 bytes), or null before its first verify.</summary>
    public byte[]? Digest { get; init; }

    /// <summary>The id of the server secret <see cref="Digest"/> was made under.</summary>
    public string? DigestSecretId { get; init; }

    /// <summary>The key's IP allowlist (<see cref="ApiKeys.AllowedNetworks"/>); empty, any address.</summary>
    public System.Net.IPNetwork[] AllowedNetworks { get; init; } = [];
}

/// <summary>The key rows as verification sees them.</summary>
public interface IKeyStore
{
    /// <summary>Reads one key's row by its public key id (one indexed lookup); null when there is none.</summary>
    Task<KeySnapshot?> FindAsync(string keyId, CancellationToken ct);

    /// <summary>Stores the digest made after the key's BCrypt verify (see <see cref="KeyDigests"/>).</summary>
    Task StoreDigestAsync(KeySnapshot key, byte[] digest, string secretId);
}

public enum VerifyOutcome
{
    Valid,
    Malformed,
    BadChecksum,
    WrongEnvironment,

    /// <summary>No key has this key id, or the secret is not the key's (answered alike: the key id is public).</summary>
    UnknownOrWrongSecret,
    Expired,
    Deleted,
    AccessSwitchedOff,

    /// <summary>The key was rolled and its grace period has ended: the replacement must be used.</summary>
    Rolled,
}

/// <param name="Key">The stored key the presented text names by its key id, when there is one (also for a wrong secret).</param>
/// <param name="PresentedEnvironment">For <see cref="VerifyOutcome.WrongEnvironment"/>: the environment the key was made for.</param>
public sealed record VerifyResult(VerifyOutcome Outcome, KeySnapshot? Key = null, KeyEnvironment? PresentedEnvironment = null)
{
    public bool Succeeded => Outcome == VerifyOutcome.Valid;
}
