using System.Text;

namespace PleoKeys.Web.Auth;

/// <summary>
/// Reads the API key out of an Authorization header, the one parser for both ways Pleo's API takes it: HTTP
/// Basic with the key as the user name and an empty password (<c>curl -u 'KEY:'</c>, RFC 7617), or
/// <c>Bearer KEY</c> (RFC 6750). Never from a query string.
/// </summary>
public static class ApiKeyCredentials
{
    private const int MaxHeaderLength = 1024;

    /// <summary>
    /// What clients put around a key by accident: a space pasted before it (<c>curl -u " $KEY:"</c>), a tab, or
    /// the CR/LF that ends a line of a file or an environment variable. Only these, and only around the key.
    /// </summary>
    private static readonly char[] SurroundingWhitespace = [' ', '\t', '\r', '\n'];

    /// <summary>
    /// The key in the header, without the whitespace around it; false with the reason when the header is
    /// malformed or whitespace sits inside the key. The reason says where, never what the credentials hold:
    /// the framework logs it.
    /// </summary>
    public static bool TryRead(string header, out string key, out string why)
    {
        key = "";
        if (ReadRaw(header, out why) is not { } raw)
        {
            return false;
        }

        var trimmed = raw.Trim(SurroundingWhitespace);
        if (trimmed.Length == 0)
        {
            why = "The credentials hold only whitespace where the API key belongs. Send the key as the user name (curl -u 'KEY:') or as 'Authorization: Bearer KEY'.";
            return false;
        }

        for (var i = 0; i < trimmed.Length; i++)
        {
            if (char.IsWhiteSpace(trimmed[i]))
            {
                why = $"The API key has {WhitespaceName(trimmed[i])} inside it, after its first {i} characters (of {trimmed.Length}). " +
                    "A key is one line without spaces; copy it again whole.";
                return false;
            }
        }

        key = trimmed;
        return true;
    }

    private static string? ReadRaw(string header, out string why)
    {
        why = "";
        if (header.Length > MaxHeaderLength)
        {
            why = "The Authorization header is too long to hold an API key.";
            return null;
        }

        // RFC 9110 §11.4: credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ].
        var text = header.AsSpan();
        var space = text.IndexOf(' ');
        var scheme = space > 0 ? text[..space] : [];
        var parameter = space > 0 ? text[(space + 1)..].Trim(' ') : [];
        if (scheme.IsEmpty || parameter.IsEmpty)
        {
            why = "The Authorization header is malformed. Send 'Authorization: Basic base64(KEY:)' or 'Authorization: Bearer KEY'.";
            return null;
        }

        if (scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return parameter.ToString();
        }

        if (!scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            why = $"The '{Truncate(scheme.ToString())}' scheme is not supported. Use HTTP Basic with the key as the user name and an empty password (curl -u 'KEY:'), or Bearer.";
            return null;
        }

        // The header is at most MaxHeaderLength characters, so its decoded bytes fit on the stack.
        Span<byte> bytes = stackalloc byte[MaxHeaderLength];
        if (!Convert.TryFromBase64Chars(parameter, bytes, out var length))
        {
            why = "The Basic credentials are not valid base64. Send base64(KEY:), as curl -u 'KEY:' does.";
            return null;
        }

        var decoded = bytes[..length];
        var colon = decoded.IndexOf((byte)':');
        if (colon < 0)
        {
            why = "The Basic credentials have no colon. Send the key as the user name followed by a colon and an empty password: base64(KEY:).";
            return null;
        }

        if (colon == 0)
        {
            why = "The Basic credentials have an empty user name. The API key goes in the user name; the password stays empty.";
            return null;
        }

        // RFC 7617 §2.1: the user name is UTF-8; an invalid sequence becomes U+FFFD and fails the key's format.
        return Encoding.UTF8.GetString(decoded[..colon]);
    }

    private static string WhitespaceName(char c) => c switch
    {
        ' ' => "a space",
        '\t' => "a tab",
        '\r' or '\n' => "a line break",
        _ => $"a whitespace character (U+{(int)c:X4})",
    };

    private static string Truncate(string s) => s.Length <= 20 ? s : s[..20] + "…";
}
