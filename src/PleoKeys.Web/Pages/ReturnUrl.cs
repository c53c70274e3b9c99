using System.Text;

namespace PleoKeys.Web.Pages;

/// <summary>
/// The one place a caller-given return URL becomes a redirect target (sign-in, company switch). A local URL
/// comes back percent-encoded so it is always a valid <c>Location</c> header (the framework refuses non-ASCII
/// and control characters there, with a 500); anything else becomes the start page, so a redirect never
/// fails and never leaves the site.
/// </summary>
public static class ReturnUrl
{
    public const string Start = "/";

    /// <summary>Longer return URLs are not ours (the app's own paths are short); they go to the start page.</summary>
    public const int MaxLength = 2048;

    // RFC 3986 section 2: unreserved and reserved characters, plus '%' for escapes already present. Everything
    // else (non-ASCII, space, '"', '<', '>', '\', '^', '`', '{', '|', '}') is percent-encoded as UTF-8.
    private static readonly System.Buffers.SearchValues<char> Verbatim = System.Buffers.SearchValues.Create(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%");

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// <paramref name="url"/> percent-encoded when it is a path on this site (starts with one '/', not
    /// <c>//</c> or <c>/\</c>, no control characters, at most <see cref="MaxLength"/> characters once encoded);
    /// otherwise <see cref="Start"/>. The same rule as the framework's <c>IUrlHelper.IsLocalUrl</c>, minus
    /// <c>~/</c>, plus the encoding.
    /// </summary>
    public static string LocalOrStart(string? url)
    {
        if (string.IsNullOrEmpty(url) || url.Length > MaxLength || url[0] != '/'
            || url.Length > 1 && url[1] is '/' or '\\'
            || url.AsSpan().ContainsAnyInRange('\u0000', '\u001F') || url.Contains('\u007F'))
        {
            return Start;
        }

        if (!url.AsSpan().ContainsAnyExcept(Verbatim))
        {
            return url;
        }

        var encoded = new StringBuilder(url.Length + 16);
        Span<byte> bytes = stackalloc byte[4];
        for (var i = 0; i < url.Length; i++)
        {
            var c = url[i];
            if (Verbatim.Contains(c))
            {
                encoded.Append(c);
                continue;
            }

            var length = char.IsHighSurrogate(c) && i + 1 < url.Length && char.IsLowSurrogate(url[i + 1]) ? 2 : 1;
            int written;
            try
            {
                written = StrictUtf8.GetBytes(url.AsSpan(i, length), bytes);
            }
            catch (EncoderFallbackException)
            {
                // A lone surrogate has no UTF-8 form; such a URL was never one of ours.
                return Start;
            }

            foreach (var b in bytes[..written])
            {
                encoded.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }

            i += length - 1;
        }

        return encoded.Length > MaxLength ? Start : encoded.ToString();
    }
}
