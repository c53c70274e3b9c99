using System.IO.Hashing;
using System.Text;

namespace PleoKeys.Tests.Infrastructure;

/// <summary>
/// The key format as the README documents it, written out here independently of the app's code, so a
/// test can build well-formed variants of a key (a changed character with a correct checksum).
/// </summary>
public static class TestKeys
{
    public const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    public const int Length = 61;
    public const int KeyIdStart = 10;
    public const int KeyIdLength = 12;
    public const int SecretStart = 23;
    public const int SecretLength = 32;
    public const int ChecksumStart = 55;

    public static string KeyIdOf(string key) => key.Substring(KeyIdStart, KeyIdLength);

    public static string SecretOf(string key) => key.Substring(SecretStart, SecretLength);

    /// <summary>CRC32 of the ASCII body, written as six base62 digits, most significant first.</summary>
    public static string Checksum(string body)
    {
        var crc = (ulong)Crc32.HashToUInt32(Encoding.ASCII.GetBytes(body));
        var digits = new char[6];
        for (var i = digits.Length - 1; i >= 0; i--)
        {
            digits[i] = Base62[(int)(crc % 62)];
            crc /= 62;
        }

        return new string(digits);
    }

    /// <summary>The key's body (everything before the checksum) with a correct checksum appended.</summary>
    public static string WithChecksum(string body) => body + Checksum(body);

    /// <summary>
    /// The key with the character at <paramref name="position"/> replaced by another one. Before the
    /// checksum the checksum is recomputed unless <paramref name="fixChecksum"/> is false, so the variant is
    /// well-formed and only the stored digest or hash can tell it from the real key.
    /// </summary>
    public static string ChangeAt(string key, int position, bool fixChecksum = true)
    {
        var chars = key.ToCharArray();
        chars[position] = chars[position] == 'a' ? 'b' : 'a';
        var changed = new string(chars);
        return fixChecksum && position < ChecksumStart ? WithChecksum(changed[..ChecksumStart]) : changed;
    }

    /// <summary>Same key id, another secret (a different one for each <paramref name="variant"/> below 32), a correct checksum.</summary>
    public static string WithWrongSecret(string key, int variant = 0) => ChangeAt(key, SecretStart + (variant % SecretLength));

    public static string WithBadChecksum(string key) => ChangeAt(key, Length - 1);

    /// <summary>A well-formed Staging key whose key id exists nowhere.</summary>
    public static string Unknown() => PleoKeys.Web.ApiKeys.ApiKeyFormat.Generate(PleoKeys.Web.ApiKeys.KeyEnvironment.Staging).Key;

    /// <summary>The same key id and secret under the other environment's prefix, with a correct checksum.</summary>
    public static string InEnvironment(string key, string prefix) => WithChecksum(prefix + key[KeyIdStart..ChecksumStart]);
}
