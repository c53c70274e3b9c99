using PleoKeys.Web.Pages;

namespace PleoKeys.Tests.Unit;

/// <summary>The one rule for caller-given return URLs: a safe local redirect target, or the start page.</summary>
public sealed class ReturnUrlTests
{
    [Theory]
    [InlineData("/%C3%A9", "/%C3%A9")]
    [InlineData("/é", "/%C3%A9")]
    [InlineData("/Settings/ApiKeys?q=Straße export#top", "/Settings/ApiKeys?q=Stra%C3%9Fe%20export#top")]
    [InlineData("/a\\b", "/a%5Cb")]
    [InlineData("/😀", "/%F0%9F%98%80")]
    [InlineData("/Settings", "/Settings")]
    public void Local_ComesBackEncoded(string url, string expected) => Assert.Equal(expected, ReturnUrl.LocalOrStart(url));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("//evil.example")]
    [InlineData("/\\evil.example")]
    [InlineData("\\\\evil.example")]
    [InlineData("http://evil.example/")]
    [InlineData("https:evil.example")]
    [InlineData("javascript:alert(1)")]
    [InlineData("~/Settings")]
    [InlineData(" /Settings")]
    [InlineData("/\t/evil.example")]
    [InlineData("/x\r\nSet-Cookie: a=b")]
    [InlineData("/x\u007F")]
    [InlineData("evil.example")]
    public void NotLocal_GoesToTheStartPage(string? url) => Assert.Equal(ReturnUrl.Start, ReturnUrl.LocalOrStart(url));

    [Fact]
    public void LoneSurrogate_GoesToTheStartPage() => Assert.Equal(ReturnUrl.Start, ReturnUrl.LocalOrStart("/a" + '\uD800'));

    [Fact]
    public void VeryLong_GoesToTheStartPage()
    {
        Assert.Equal(ReturnUrl.Start, ReturnUrl.LocalOrStart("/" + new string('a', ReturnUrl.MaxLength)));
        Assert.Equal(ReturnUrl.Start, ReturnUrl.LocalOrStart("/" + string.Concat(Enumerable.Repeat("é", ReturnUrl.MaxLength / 4))));
    }

    [Fact]
    public void GeneratedOddUrls_AlwaysGiveASafeLocalTarget()
    {
        foreach (var url in OddReturnUrls.Generated(5000))
        {
            var target = ReturnUrl.LocalOrStart(url);

            OddReturnUrls.AssertSafe(target);
            if (target != ReturnUrl.Start && !url.Contains('%', StringComparison.Ordinal))
            {
                // The browser lands where the caller asked, not somewhere else.
                Assert.Equal(url, Uri.UnescapeDataString(target));
            }
        }
    }
}

/// <summary>Generated odd return URLs and the promise every redirect target keeps, for these tests and the HTTP ones.</summary>
public static class OddReturnUrls
{
    /// <summary>What a browser could take as another site, or what cannot go into a Location header.</summary>
    public static void AssertSafe(string target)
    {
        Assert.StartsWith("/", target, StringComparison.Ordinal);
        Assert.False(target.Length > 1 && target[1] is '/' or '\\', $"'{target}' is protocol-relative");
        Assert.All(target, c => Assert.True(c is > ' ' and < '\u007F', $"'{target}' holds U+{(int)c:X4}"));
        Assert.True(target.Length <= ReturnUrl.MaxLength);
        Assert.True(Uri.TryCreate(target, UriKind.Relative, out _), $"'{target}' is not a relative URI");
    }

    /// <summary>Odd URLs made from the characters that break redirects, in every order a seeded generator finds.</summary>
    public static IEnumerable<string> Generated(int count, int seed = 12)
    {
        string[] pieces = ["/", "//", "\\", "/\\", "é", "😀", "\uD800", "%", "%2F", "%C3%A9", "\r", "\n", "\t", " ", "\0", "\u007F", "\u202E",
            "?", "#", "&", ":", "http:", "evil.example", "@", "~", "..", "Settings", "\"", "<", ">", "'"];
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var parts = Enumerable.Range(0, random.Next(1, 8)).Select(_ => pieces[random.Next(pieces.Length)]);
            yield return (random.Next(3) > 0 ? "/" : "") + string.Concat(parts);
        }
    }
}
