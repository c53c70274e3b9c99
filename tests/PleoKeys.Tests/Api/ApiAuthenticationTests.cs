using System.Net;
using System.Text;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;
using PleoKeys.Web.Data;

namespace PleoKeys.Tests.Api;

/// <summary>Who gets in: HTTP Basic with the key as user name (or Bearer), and a 401 that says why not.</summary>
public sealed class ApiAuthenticationTests : IClassFixture<PleoKeysFactory>
{
    private const string Me = "/v1/installations/me";
    private const string InvalidKeyDetail = "This API key is not valid. Check that it was copied whole, or create a new key under Settings → API Keys.";

    private readonly PleoKeysFactory _factory;

    public ApiAuthenticationTests(PleoKeysFactory factory) => _factory = factory;

    private async Task<string> NewKeyAsync(string name = "Auth test", string[]? scopes = null)
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);
        return await admin.CreateKeyAsync(name, scopes: scopes ?? [Scopes.VendorsRead]);
    }

    [Fact]
    public async Task NoCredentials_Returns401WithBasicChallengeAndProblemDetails()
    {
        var response = await _factory.NewClient().GetAsync(Me);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("Basic", challenge.Scheme);
        Assert.StartsWith("realm=\"Pleo API\"", challenge.Parameter, StringComparison.Ordinal);
        var problem = await response.ReadProblemAsync();
        Assert.Equal(401, problem.Status);
        Assert.Contains("curl -u 'KEY:'", problem.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("text/html")]
    [InlineData("application/xml")]
    [InlineData("text/html,application/xhtml+xml,application/xml;q=0.9")]
    public async Task NoCredentials_WhateverTheAcceptHeader_Returns401ProblemJson(string accept)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, Me);
        request.Headers.TryAddWithoutValidation("Accept", accept);

        var response = await _factory.NewClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(401, (await response.ReadProblemAsync()).Status);
    }

    [Fact]
    public async Task BadKey_WithHtmlAccept_Returns401ProblemJson()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, Me);
        request.Headers.TryAddWithoutValidation("Accept", "text/html");
        request.Headers.Authorization = Clients.Basic(TestKeys.Unknown());

        var response = await _factory.NewClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(InvalidKeyDetail, (await response.ReadProblemAsync()).Detail);
    }

    [Fact]
    public async Task ValidKey_AsBasicUserName_Returns200WithInstallation()
    {
        var key = await NewKeyAsync();

        var response = await _factory.NewClient().ApiSendAsync(HttpMethod.Get, Me, key).ExpectAsync(HttpStatusCode.OK);

        var json = await response.ReadJsonAsync();
        Assert.Equal($"urn:pleo:company:{DemoData.NordicCoffeeApSId}", json.GetProperty("resource").GetString());
        Assert.Equal("ACTIVATED", json.GetProperty("status").GetString());
        Assert.Equal([Scopes.VendorsRead], json.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ValidKey_AsBearer_Returns200()
    {
        var key = await NewKeyAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, Me);
        request.Headers.Authorization = ApiCalls.Bearer(key);

        await _factory.NewClient().SendAsync(request).ExpectAsync(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("api_key")]
    [InlineData("key")]
    [InlineData("access_token")]
    [InlineData("apiKey")]
    public async Task KeyInQueryString_IsNeverAccepted(string parameter)
    {
        var key = await NewKeyAsync();

        var response = await _factory.NewClient().GetAsync($"{Me}?{parameter}={key}");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ValidKey_ResponseCarriesTheKeysExpiry()
    {
        var key = await NewKeyAsync();
        var row = await _factory.KeyRowAsync(key);

        var response = await _factory.NewClient().ApiSendAsync(HttpMethod.Get, Me, key).ExpectAsync(HttpStatusCode.OK);

        var expected = row.ExpiresAtUtc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(expected, response.Header("Pleo-Api-Key-Expires"));
        // The end of the chosen day in Copenhagen, 30 days after the demo's start: midnight CET is 23:00 UTC.
        Assert.Equal("2026-12-26T23:00:00Z", expected);
    }

    [Fact]
    public async Task ValidKeyWithoutScope_403StillCarriesExpiry()
    {
        var key = await NewKeyAsync();

        var response = await _factory.NewClient().ApiSendAsync(HttpMethod.Get, "/v1/accounts", key).ExpectAsync(HttpStatusCode.Forbidden);

        Assert.NotNull(response.Header("Pleo-Api-Key-Expires"));
    }

    [Fact]
    public async Task InvalidKey_ResponseHasNoExpiryHeader()
    {
        var response = await _factory.NewClient().ApiSendAsync(HttpMethod.Get, Me, TestKeys.Unknown()).ExpectAsync(HttpStatusCode.Unauthorized);

        Assert.Null(response.Header("Pleo-Api-Key-Expires"));
    }

    [Theory]
    [InlineData("not-a-key")]
    [InlineData("pleo_test_")]
    [InlineData("sk_live_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU")]
    [InlineData("pleo_test_0123456789ab-0123456789abcdefghijklmnopqrstuvABCDEF")]
    public async Task MalformedKey_Returns401SayingItIsNotAPleoKey(string presented)
    {
        var response = await _factory.NewClient().ApiSendAsync(HttpMethod.Get, Me, presented);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var problem = await response.ReadProblemAsync();
        Assert.StartsWith("The credentials are not a Pleo API key.", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadChecksum_Returns401SayingThereIsATypo()
    {
        var key = await NewKeyAsync();

        var response = await _factory.NewClient().ApiSendAsync(HttpMethod.Get, Me, TestKeys.WithBadChecksum(key));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("This API key has a typo: its checksum does not match. Copy the whole key again.", (await response.ReadProblemAsync()).Detail);
    }

    [Fact]
    public async Task UnknownKeyIdAndWrongSecret_GetTheSameAnswer()
    {
        var key = await NewKeyAsync();
        var client = _factory.NewClient();

        var unknown = await client.ApiSendAsync(HttpMethod.Get, Me, TestKeys.Unknown()).ExpectAsync(HttpStatusCode.Unauthorized);
        var wrong = await client.ApiSendAsync(HttpMethod.Get, Me, TestKeys.WithWrongSecret(key)).ExpectAsync(HttpStatusCode.Unauthorized);

        var a = await unknown.ReadProblemAsync();
        var b = await wrong.ReadProblemAsync();
        Assert.Equal(a, b with { Errors = a.Errors });
        Assert.Equal(InvalidKeyDetail, a.Detail);
        Assert.Equal(unknown.Headers.WwwAuthenticate.ToString(), wrong.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task EveryCharacterOfTheKey_Matters()
    {
        var key = await NewKeyAsync();
        var client = _factory.NewClient();
        await client.ApiSendAsync(HttpMethod.Get, Me, key).ExpectAsync(HttpStatusCode.OK);

        var accepted = new List<int>();
        for (var i = 0; i < key.Length; i++)
        {
            // Before the checksum the checksum is fixed up too, so the secret itself is what is tested, not only the CRC.
            foreach (var fix in new[] { false, true })
            {
                var response = await client.ApiSendAsync(HttpMethod.Get, Me, TestKeys.ChangeAt(key, i, fix));
                if (response.StatusCode != HttpStatusCode.Unauthorized)
                {
                    accepted.Add(i);
                }
            }
        }

        Assert.Empty(accepted);
        Assert.Equal(HttpStatusCode.OK, (await client.ApiSendAsync(HttpMethod.Get, Me, key)).StatusCode);
    }

    [Fact]
    public async Task ExtraCharacters_AroundTheKey_AreRefused()
    {
        var key = await NewKeyAsync();
        var client = _factory.NewClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.ApiSendAsync(HttpMethod.Get, Me, key + "A")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.ApiSendAsync(HttpMethod.Get, Me, "A" + key)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.ApiSendAsync(HttpMethod.Get, Me, key[..^1])).StatusCode);
    }

    public static TheoryData<string, string> MalformedHeaders()
    {
        static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
        var key = ApiKeyFormat.Generate(KeyEnvironment.Staging).Key;
        return new TheoryData<string, string>
        {
            { "wrong scheme", "Digest username=\"x\"" },
            { "wrong scheme with key", "Token " + key },
            { "ApiKey scheme", "ApiKey " + key },
            { "scheme only", "Basic" },
            { "bearer only", "Bearer" },
            { "blank parameter", "Basic    " },
            { "bad base64", "Basic !!!not*base64!!!" },
            { "truncated base64", "Basic " + B64(key + ":")[..^3] },
            { "no colon", "Basic " + B64(key) },
            { "empty user", "Basic " + B64(":" + key) },
            { "empty user and password", "Basic " + B64(":") },
            { "not UTF-8", "Basic " + Convert.ToBase64String([0xff, 0xfe, 0x3a]) },
            { "control characters", "Basic " + B64("\u0001\u0002:") },
            { "two credentials", "Basic " + B64(key + ":") + ", Basic " + B64(key + ":") },
            { "huge header", "Basic " + new string('A', 100 * 1024) },
            { "huge bearer", "Bearer " + new string('A', 100 * 1024) },
            { "huge user", "Basic " + B64(new string('k', 70 * 1024) + ":") },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedHeaders))]
    public async Task MalformedAuthorizationHeader_Answers401NeverServerError(string what, string header)
    {
        var response = await _factory.NewClient().SendRawAsync(HttpMethod.Get, Me, header);

        Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.BadRequest,
            $"{what}: answered {(int)response.StatusCode}");
        var problem = await response.ReadProblemAsync();
        Assert.False(string.IsNullOrWhiteSpace(problem.Detail));
    }

    [Fact]
    public async Task TwoAuthorizationHeaders_Answers401()
    {
        var key = await NewKeyAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, Me);
        request.Headers.TryAddWithoutValidation("Authorization", Clients.Basic(key).ToString());
        request.Headers.TryAddWithoutValidation("Authorization", Clients.Basic(key).ToString());

        var response = await _factory.NewClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task SignedInBrowserCookie_DoesNotOpenTheApi()
    {
        var admin = await _factory.SignedInClientAsync(DemoData.Admin);

        var response = await admin.GetAsync(Me);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
