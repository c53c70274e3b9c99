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
/// Its <see cref="SecretId"/> is stored with each digest. To rotate it, replace the file (the operator command
/// <c>rotate-key-digest-secret</c> writes a new one) and restart every instance: each key's next call then
/// costs one BCrypt verify and stores a digest under the new secret.
/// </para>
/// </summary>
public sealed class KeyDigests
{
    public const string FileName = "key-digest.secret";

    /// <summary>The digest's length in bytes (SHA-256).</summary>
    public const int Length = HMACSHA256.HashSizeInBytes;

    private const int SecretLength = 32;

    private readonly byte[] _secret;

    public KeyDigests(byte[] secret)
    {
        if (secret.Length < SecretLength)
        {
            throw new ArgumentException($"The key digest secret must be at least {SecretLength} bytes.", nameof(secret));
        }

        _secret = secret;
        // A name for the secret, not a way to it: the first 8 bytes of its SHA-256, which reveal nothing of a random 256-bit secret.
        SecretId = Convert.ToHexStringLower(SHA256.HashData(secret).AsSpan(0, 8));
    }

    /// <summary>Names the secret digests are made under (16 hex digits), stored beside each digest.</summary>
    public string SecretId { get; }

    /// <summary>The digest of a key's text (its ASCII bytes; any other text gets a digest no key has).</summary>
    public byte[] Compute(string key) => HMACSHA256.HashData(_secret, Encoding.UTF8.GetBytes(key));

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

        byte[] secret;
        try
        {
            secret = Convert.FromBase64String(File.ReadAllText(path).Trim());
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"The key digest secret {path} is not base64 text (set by PleoKeys:KeyDigestSecretPath).");
        }

        return secret.Length >= SecretLength
            ? new KeyDigests(secret)
            : throw new InvalidOperationException($"The key digest secret {path} holds {secret.Length} bytes; it needs at least {SecretLength}.");
    }

    /// <summary>Replaces the secret file with a new random secret (the operator's rotation); returns its id.</summary>
    public static string Rotate(PleoKeysOptions options, IHostEnvironment environment)
    {
        var path = PathOf(options, environment);
        Write(path, overwrite: true);
        return Load(options, environment).SecretId;
    }

    private static string PathOf(PleoKeysOptions options, IHostEnvironment environment) =>
        string.IsNullOrWhiteSpace(options.KeyDigestSecretPath)
            ? Path.Combine(Path.GetFullPath(options.SecretsPath, environment.ContentRootPath), FileName)
            : Path.GetFullPath(options.KeyDigestSecretPath, environment.ContentRootPath);

    private static void Write(string path, bool overwrite) =>
        SecretFiles.Write(path, Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomNumberGenerator.GetBytes(SecretLength)) + "\n"), overwrite);
}
