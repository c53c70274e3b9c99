using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;

namespace PleoKeys.Web.ApiKeys;

/// <summary>The deployment a key belongs to; its text says which (<c>pleo_test_</c> or <c>pleo_live_</c>).</summary>
public enum KeyEnvironment
{
    Staging,
    Production,
}

/// <summary>Why a presented string is not a well-formed key. Decided without the database.</summary>
public enum KeyFormatError
{
    None,
    Malformed,
    BadChecksum,
}

/// <summary>A well-formed key taken apart. <see cref="Key"/> is the secret: never log or store it.</summary>
public sealed record ParsedApiKey(string Key, KeyEnvironment Environment, string KeyId)
{
    public string Last4 => Key[^4..];

    /// <summary>The non-secret form, safe to log and show.</summary>
    public override string ToString() => ApiKeyFormat.Fingerprint(Environment, KeyId, Last4);
}

/// <summary>
/// The key format, learnt from GitHub's <c>ghp_</c> tokens (CRC32 checksum) and Stripe's
/// <c>sk_live_</c>/<c>sk_test_</c> prefixes:
/// <c>pleo_live_</c> + 12-character key id + <c>_</c> + 32-character secret + 6-character checksum,
/// all base62, 61 characters in all.
/// The key id is public and finds the row with one indexed lookup; the secret carries 190 bits from
/// a cryptographic generator; the CRC32 of everything before it lets a typo or a secret scanner reject
/// a key without a database lookup. Base62 and underscores are safe in a header and a URL, and a
/// double-click selects the whole key. 61 bytes stays under BCrypt's 72-byte input limit, so every
/// character is hashed.
/// </summary>
public static class ApiKeyFormat
{
    public const int KeyIdLength = 12;
    public const int SecretLength = 32;
    public const int ChecksumLength = 6;
    public const int PrefixLength = 10; // "pleo_live_" / "pleo_test_"
    public const int Length = PrefixLength + KeyIdLength + 1 + SecretLength + ChecksumLength;

    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string PrefixOf(KeyEnvironment environment) =>
        environment == KeyEnvironment.Production ? "pleo_live_" : "pleo_test_";

    /// <summary>What the list shows of a key: its prefix, key id and last four characters.</summary>
    public static string Fingerprint(KeyEnvironment environment, string keyId, string last4) =>
        PrefixOf(environment) + keyId + "_…" + last4;

    public static string NewKeyId() => RandomNumberGenerator.GetString(Alphabet, KeyIdLength);

    /// <summary>Makes a new key for the given environment. The result is the plaintext: show it once.</summary>
    public static ParsedApiKey Generate(KeyEnvironment environment)
    {
        var keyId = NewKeyId();
        var body = PrefixOf(environment) + keyId + "_" + RandomNumberGenerator.GetString(Alphabet, SecretLength);
        return new ParsedApiKey(body + Checksum(body), environment, keyId);
    }

    public static KeyFormatError TryParse(string text, out ParsedApiKey? key)
    {
        key = null;
        var candidate = text.AsSpan();
        if (candidate.Length != Length || !candidate.StartsWith("pleo_", StringComparison.Ordinal))
        {
            return KeyFormatError.Malformed;
        }

        KeyEnvironment environment;
        if (candidate.StartsWith("pleo_live_", StringComparison.Ordinal))
        {
            environment = KeyEnvironment.Production;
        }
        else if (candidate.StartsWith("pleo_test_", StringComparison.Ordinal))
        {
            environment = KeyEnvironment.Staging;
        }
        else
        {
            return KeyFormatError.Malformed;
        }

        var keyId = candidate.Slice(PrefixLength, KeyIdLength);
        var rest = candidate[(PrefixLength + KeyIdLength + 1)..];
        if (candidate[PrefixLength + KeyIdLength] != '_' || !IsBase62(keyId) || !IsBase62(rest))
        {
            return KeyFormatError.Malformed;
        }

        var body = candidate[..^ChecksumLength];
        Span<char> expected = stackalloc char[ChecksumLength];
        WriteChecksum(body, expected);
        if (!expected.SequenceEqual(candidate[^ChecksumLength..]))
        {
            return KeyFormatError.BadChecksum;
        }

        key = new ParsedApiKey(text, environment, keyId.ToString());
        return KeyFormatError.None;
    }

    internal static string Checksum(ReadOnlySpan<char> body)
    {
        Span<char> chars = stackalloc char[ChecksumLength];
        WriteChecksum(body, chars);
        return chars.ToString();
    }

    private static void WriteChecksum(ReadOnlySpan<char> body, Span<char> destination)
    {
        Span<byte> ascii = stackalloc byte[body.Length];
        Encoding.ASCII.GetBytes(body, ascii);
        var crc = (ulong)Crc32.HashToUInt32(ascii);
        // 62^6 > 2^32, so six base62 digits hold every CRC32 value.
        for (var i = destination.Length - 1; i >= 0; i--)
        {
            destination[i] = Alphabet[(int)(crc % 62)];
            crc /= 62;
        }
    }

    private static bool IsBase62(ReadOnlySpan<char> chars)
    {
        foreach (var c in chars)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
