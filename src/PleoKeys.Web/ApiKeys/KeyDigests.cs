using System.Security.Cryptography;
using System.Text;

namespace PleoKeys.Web.ApiKeys;

/// <summary>
/// The keyed digest stored beside each key's BCrypt hash: HMAC-SHA-256 (RFC 2104) of the key's text under a
/// 256-bit server secret kept outside the database. BCrypt stays the hash of record; the digest lets any
/// instance recognise a key after any restart with one indexed lookup and one HMAC (about a microsecond)
/// instead of a BCrypt verify (about 160 ms of a core at work factor 11). A copy of the database without the
/// secret is no easier to attack than BCrypt alone: without the secret a digest cannot be computed, so it
/// cannot be tested against guesses.
/// <para>
/// The secret is the file <c>PleoKeys:KeyDigestSecretPath</c> (shared by every instance, like the Data
/// Protection certificate), or <see cref="FileName"/> in <c>PleoKeys:SecretsPath</c>, created on first run.
/// Its <see cref="SecretId"/> is stored with each digest. To rotate it, run the operator command
/// <c>rotate-key-digest-secret</c> (a new secret, the old one kept as the previous), copy the file to every
/// instance and restart them: a key whose digest is under the previous secret is recognised by one HMAC and gets
/// a new digest; a key with no digest, or one under a retired secret, costs one BCrypt verify.
/// </para>
/// </summary>
public sealed class KeyDigests : IDisposable
{
    public const string FileName = "key-digest.secret";

    /// <summary>The digest's length in bytes (SHA-256).</summary>
    public const int Length = HMACSHA256.HashSizeInBytes;

    private const int SecretLength = 32;

    private readonly byte[] _secret;
    private readonly byte[]? _previous;

    /// <param name="secret">The current secret: new digests are made under it.</param>
    /// <param name="previous">The secret before the last rotation, if kept: a digest under it still recognises its key (and is then replaced).</param>
    public KeyDigests(byte[] secret, byte[]? previous = null)
    {
        if (secret.Length < SecretLength || previous is { Length: < SecretLength })
        {
            throw new ArgumentException($"A key digest secret must be at least {SecretLength} bytes.", nameof(secret));
        }

        _secret = secret;
        _hmac = new ThreadLocal<IncrementalHash>(() => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _secret), trackAllValues: true);
        _previous = previous;
        SecretId = IdOf(secret);
        PreviousSecretId = previous is null ? null : IdOf(previous);
    }

    /// <summary>A name for a secret, not a way to it: the first 8 bytes of its SHA-256, which reveal nothing of a random 256-bit secret.</summary>
    private static string IdOf(byte[] secret) => Convert.ToHexStringLower(SHA256.HashData(secret).AsSpan(0, 8));

    /// <summary>The id of the secret before the last rotation, when it is kept.</summary>
    public string? PreviousSecretId { get; }

    /// <summary>
    /// True when the key's digest was made under the previous secret and matches <paramref name="presented"/>: the
    /// key is recognised without BCrypt, and its digest should be made again under the current secret.
    /// </summary>
    public bool MatchesUnderPrevious(KeySnapshot key, string presented) =>
        _previous is not null && key.Digest is { Length: Length } && key.DigestSecretId == PreviousSecretId
        && CryptographicOperations.FixedTimeEquals(key.Digest, HMACSHA256.HashData(_previous, Encoding.UTF8.GetBytes(presented)));

    /// <summary>Names the secret digests are made under (16 hex digits), stored beside each digest.</summary>
    public string SecretId { get; }

    /// <summary>
    /// The digest of a key's text (its UTF-8 bytes, which for a key are its ASCII ones). Each thread keeps an HMAC
    /// with the secret set up, since a one-shot HMAC sets the secret up again on every call (OpenSSL's context
    /// and key schedule: measured at about 6 % of an API call's CPU).
    /// </summary>
    public byte[] Compute(string key)
    {
        var hmac = _hmac.Value!;
        Span<byte> bytes = stackalloc byte[256];
        if (Encoding.UTF8.TryGetBytes(key, bytes, out var written))
        {
            hmac.AppendData(bytes[..written]);
        }
        else
        {
            hmac.AppendData(Encoding.UTF8.GetBytes(key));
        }

        return hmac.GetHashAndReset();
    }

    private readonly ThreadLocal<IncrementalHash> _hmac;

    /// <summary>True when the key has a digest made under the current secret (else its next verify is a BCrypt one).</summary>
    public bool IsCurrent(KeySnapshot key) => key.Digest is { Length: Length } && key.DigestSecretId == SecretId;

    /// <summary>Reads the configured or generated secret file; creates the generated one on first run.</summary>
    /// <exception cref="InvalidOperationException">A configured file is missing or holds no valid secret.</exception>
    public static KeyDigests Load(PleoKeysOptions options, IHostEnvironment environment)
    {
        var path = PathOf(options, environment);
        if (!File.Exists(path))
        {
            if (!string.IsNullOrWhiteSpace(options.KeyDigestSecretPath))
            {
                throw new InvalidOperationException(
                    $"PleoKeys:KeyDigestSecretPath is {path}, which does not exist. Mount the shared secret there, or leave the setting empty to let a single instance create its own.");
            }

            Write(path, overwrite: false);
        }

        // The file: the current secret on the first line; the one before the last rotation, if kept, on the second.
        var secrets = new List<byte[]>();
        foreach (var line in File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0))
        {
            try
            {
                secrets.Add(Convert.FromBase64String(line));
            }
            catch (FormatException)
            {
                throw new InvalidOperationException($"The key digest secret {path} is not base64 text (set by PleoKeys:KeyDigestSecretPath).");
            }
        }

        return secrets is [{ Length: >= SecretLength } current, ..] && secrets.Skip(1).All(p => p.Length >= SecretLength)
            ? new KeyDigests(current, secrets.ElementAtOrDefault(1))
            : throw new InvalidOperationException($"The key digest secret {path} must hold a base64 secret of at least {SecretLength} bytes on its first line.");
    }

    /// <summary>
    /// The operator's rotation: a new random secret becomes current and the current one is kept as the previous
    /// (the one before it is dropped), so keys whose digests were made under it are recognised without BCrypt and
    /// get new digests. Rotating twice retires a secret for good. Returns the new secret's id.
    /// </summary>
    public static string Rotate(PleoKeysOptions options, IHostEnvironment environment)
    {
        var path = PathOf(options, environment);
        var current = File.Exists(path) ? File.ReadAllLines(path).Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) : null;
        var text = Convert.ToBase64String(RandomNumberGenerator.GetBytes(SecretLength)) + "\n" + (current is null ? "" : current + "\n");
        SecretFiles.Write(path, Encoding.ASCII.GetBytes(text), overwrite: true);
        using var rotated = Load(options, environment);
        return rotated.SecretId;
    }

    private static string PathOf(PleoKeysOptions options, IHostEnvironment environment) =>
        string.IsNullOrWhiteSpace(options.KeyDigestSecretPath)
            ? Path.Combine(Path.GetFullPath(options.SecretsPath, environment.ContentRootPath), FileName)
            : Path.GetFullPath(options.KeyDigestSecretPath, environment.ContentRootPath);

    private static void Write(string path, bool overwrite) =>
        SecretFiles.Write(path, Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomNumberGenerator.GetBytes(SecretLength)) + "\n"), overwrite);

    public void Dispose()
    {
        foreach (var hmac in _hmac.Values)
        {
            hmac.Dispose();
        }

        _hmac.Dispose();
    }
}
