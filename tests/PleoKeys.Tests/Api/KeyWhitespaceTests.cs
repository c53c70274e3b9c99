using System.Net;
using System.Text;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>
/// Keys as clients really send them (issue 12): whitespace pasted around a key, or the line ending of a file or
/// an environment variable, is ignored in both schemes; nothing else is loosened, and whitespace inside a key
/// gets a 401 that says where it is.
/// </summary>
public sealed class KeyWhitespaceTests(PleoKeysFactory factory) : IClassFixture<PleoKeysFactory>
{
    private const string Me = "/v1/installations/me";

    private string? _key;

    private async Task<string> KeyAsync()
    {
        var admin = await factory.SignedInClientAsync(DemoData.Admin);
        return _key ??= await admin.CreateKeyAsync("Whitespace test", scopes: [Scopes.VendorsRead]);
    }

    private static string Basic(string user) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":"));

    public static TheoryData<string, string> Surrounded => new()
    {
        // The measured cases: curl -u " $KEY:" and a key read from a file saved with Windows line endings.
        { "a space pasted before (Basic)", "Basic: {0}" },
        { "CRLF from a Windows file (Basic)", "Basic:{0}\r\n" },
        { "CR left by $(cat file) (Basic)", "Basic:{0}\r" },
        { "LF from an environment variable (Basic)", "Basic:{0}\n" },
        { "tabs and spaces around (Basic)", "Basic:\t {0} \t" },
        { "spaces around (Bearer)", "Bearer:  {0}  " },
        { "tabs around (Bearer)", "Bearer:\t{0}\t" },
    };

    private static string Header(string pattern, string key)
    {
        var (scheme, value) = (pattern[..pattern.IndexOf(':')], pattern[(pattern.IndexOf(':') + 1)..].Replace("{0}", key, StringComparison.Ordinal));
        return scheme == "Basic" ? Basic(value) : "Bearer " + value;
    }

    [Theory]
    [MemberData(nameof(Surrounded))]
    public async Task KeyWithWhitespaceAround_IsAccepted(string what, string pattern)
    {
        var key = await KeyAsync();

        var response = await factory.NewClient().SendRawAsync(HttpMethod.Get, Me, Header(pattern, key));

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    [Theory]
    [InlineData("Basic", ' ', "a space")]
    [InlineData("Basic", '\t', "a tab")]
    [InlineData("Basic", '\n', "a line break")]
    [InlineData("Bearer", ' ', "a space")]
    public async Task KeyWithWhitespaceInside_Returns401SayingWhere(string scheme, char whitespace, string named)
    {
        var key = await KeyAsync();
        var broken = key[..20] + whitespace + key[20..];

        var response = await factory.NewClient().SendRawAsync(HttpMethod.Get, Me, scheme == "Basic" ? Basic(broken) : "Bearer " + broken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var problem = await response.ReadProblemAsync();
        Assert.Contains($"{named} inside it, after its first 20 characters", problem.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(key[..20], problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\u00A0{0}")] // a no-break space is not what a terminal or a file adds
    [InlineData("{0}\u200B")]
    [InlineData("{0}x")]
    [InlineData("'{0}'")]
    public async Task AnythingElseAroundTheKey_IsStillRefused(string pattern)
    {
        var key = await KeyAsync();
        var sent = pattern.Replace("{0}", key, StringComparison.Ordinal);

        var basic = await factory.NewClient().SendRawAsync(HttpMethod.Get, Me, Basic(sent));

        Assert.Equal(HttpStatusCode.Unauthorized, basic.StatusCode);
    }
}
