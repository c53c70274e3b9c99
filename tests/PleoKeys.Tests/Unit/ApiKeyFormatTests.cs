using System.Text;
using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Tests.Unit;

public sealed class ApiKeyFormatTests
{
    private static string NewKey(KeyEnvironment environment = KeyEnvironment.Staging) => ApiKeyFormat.Generate(environment).Key;

    [Theory]
    [InlineData(KeyEnvironment.Staging, "pleo_test_")]
    [InlineData(KeyEnvironment.Production, "pleo_live_")]
    public void Generate_StartsWithTheEnvironmentsPrefix(KeyEnvironment environment, string prefix)
    {
        var key = ApiKeyFormat.Generate(environment);

        Assert.StartsWith(prefix, key.Key, StringComparison.Ordinal);
        Assert.Equal(environment, key.Environment);
    }

    [Fact]
    public void Generate_HasTheDocumentedLayout()
    {
        var key = NewKey();

        Assert.Equal(61, key.Length);
        Assert.Matches("^pleo_test_[0-9A-Za-z]{12}_[0-9A-Za-z]{32}[0-9A-Za-z]{6}$", key);
    }

    [Fact]
    public void Generate_EmbedsItsPublicKeyId()
    {
        var key = ApiKeyFormat.Generate(KeyEnvironment.Staging);

        Assert.Equal(TestKeys.KeyIdOf(key.Key), key.KeyId);
        Assert.Equal(key.Key[^4..], key.Last4);
    }

    [Fact]
    public void Generate_EndsWithTheCrc32OfTheRestInBase62()
    {
        var key = NewKey();

        Assert.Equal(TestKeys.Checksum(key[..TestKeys.ChecksumStart]), key[TestKeys.ChecksumStart..]);
    }

    [Fact]
    public void Generate_SecretsAreRandomAndCarryAtLeast128Bits()
    {
        var keys = Enumerable.Range(0, 2000).Select(_ => ApiKeyFormat.Generate(KeyEnvironment.Staging)).ToList();

        Assert.True(TestKeys.SecretLength * Math.Log2(62) >= 128);
        Assert.Equal(keys.Count, keys.Select(k => TestKeys.SecretOf(k.Key)).Distinct().Count());
        Assert.Equal(keys.Count, keys.Select(k => k.KeyId).Distinct().Count());
        // Every base62 character turns up in the secrets: no narrowed alphabet, no fixed positions.
        var used = keys.SelectMany(k => TestKeys.SecretOf(k.Key)).ToHashSet();
        Assert.Equal(TestKeys.Base62.Length, used.Count);
        for (var position = 0; position < TestKeys.SecretLength; position++)
        {
            Assert.True(keys.Select(k => TestKeys.SecretOf(k.Key)[position]).Distinct().Count() > 40, $"secret position {position} barely varies");
        }
    }

    [Fact]
    public void Generate_IsSafeInAHeaderAndAUrlAndSelectedWholeByADoubleClick()
    {
        var key = NewKey(KeyEnvironment.Production);

        Assert.Equal(key, Uri.EscapeDataString(key));
        // Word characters only: a double-click selects from the first character to the last.
        Assert.Matches(@"^[A-Za-z0-9_]+$", key);
    }

    [Fact]
    public void Generate_FitsInBCryptsInputLimit()
    {
        Assert.True(Encoding.UTF8.GetByteCount(NewKey(KeyEnvironment.Production)) <= 72);
    }

    [Theory]
    [InlineData(KeyEnvironment.Staging)]
    [InlineData(KeyEnvironment.Production)]
    public void TryParse_GeneratedKey_IsAcceptedWithItsParts(KeyEnvironment environment)
    {
        var generated = ApiKeyFormat.Generate(environment);

        var error = ApiKeyFormat.TryParse(generated.Key, out var parsed);

        Assert.Equal(KeyFormatError.None, error);
        Assert.Equal(generated.Key, parsed!.Key);
        Assert.Equal(environment, parsed.Environment);
        Assert.Equal(generated.KeyId, parsed.KeyId);
    }

    [Fact]
    public void TryParse_KeyBuiltByHandFromTheReadme_IsAccepted()
    {
        var key = TestKeys.WithChecksum("pleo_live_0aB3xY9kLm2Q_Zr8mN4pQ7sT1vW3yB6dF9hJ2kL5nP8rU");

        Assert.Equal(KeyFormatError.None, ApiKeyFormat.TryParse(key, out var parsed));
        Assert.Equal(KeyEnvironment.Production, parsed!.Environment);
        Assert.Equal("0aB3xY9kLm2Q", parsed.KeyId);
    }

    [Fact]
    public void TryParse_AnySingleCharacterChanged_IsRejectedWithoutTheDatabase()
    {
        var key = NewKey();
        var accepted = new List<string>();
        for (var position = 0; position < key.Length; position++)
        {
            foreach (var replacement in TestKeys.Base62 + "_")
            {
                if (replacement == key[position])
                {
                    continue;
                }

                var variant = key[..position] + replacement + key[(position + 1)..];
                if (ApiKeyFormat.TryParse(variant, out _) == KeyFormatError.None)
                {
                    accepted.Add($"position {position} -> '{replacement}'");
                }
            }
        }

        Assert.Empty(accepted);
    }

    [Fact]
    public void TryParse_TwoNeighbouringCharactersSwapped_IsRejected()
    {
        var key = NewKey();
        for (var position = 0; position < key.Length - 1; position++)
        {
            if (key[position] == key[position + 1])
            {
                continue;
            }

            var variant = key[..position] + key[position + 1] + key[position] + key[(position + 2)..];
            Assert.True(ApiKeyFormat.TryParse(variant, out _) != KeyFormatError.None, $"swap at {position} accepted");
        }
    }

    [Fact]
    public void TryParse_ChangedSecretCharacter_IsReportedAsABadChecksum()
    {
        var key = NewKey();
        var variant = key[..30] + (key[30] == 'a' ? 'b' : 'a') + key[31..];

        Assert.Equal(KeyFormatError.BadChecksum, ApiKeyFormat.TryParse(variant, out var parsed));
        Assert.Null(parsed);
    }

    public static TheoryData<string> NotKeys()
    {
        // A fixed well-formed key, so the theory's cases are the same at discovery and at run time.
        var key = TestKeys.WithChecksum("pleo_test_0aB3xY9kLm2Q_Zr8mN4pQ7sT1vW3yB6dF9hJ2kL5nP8rU");
        return new TheoryData<string>
        {
            "",
            "pleo_test_",
            key[..^1],
            key + "a",
            "sk_live_" + key[8..],
            TestKeys.WithChecksum("pleo_prod_" + key[10..55]),
            TestKeys.WithChecksum("Pleo_test_" + key[10..55]),
            TestKeys.WithChecksum(key[..30] + "-" + key[31..55]),
            TestKeys.WithChecksum(key[..30] + "+" + key[31..55]),
            TestKeys.WithChecksum(key[..30] + " " + key[31..55]),
            TestKeys.WithChecksum(key[..22] + "a" + key[23..55]),
            key[..30] + "é" + key[31..],
            " " + key[..^1],
        };
    }

    [Theory]
    [MemberData(nameof(NotKeys))]
    public void TryParse_NotAKey_IsMalformed(string candidate)
    {
        Assert.Equal(KeyFormatError.Malformed, ApiKeyFormat.TryParse(candidate, out var parsed));
        Assert.Null(parsed);
    }

    [Fact]
    public void Fingerprint_IsThePrefixTheKeyIdAndTheLastFourCharacters()
    {
        Assert.Equal("pleo_live_0aB3xY9kLm2Q_…Qw4z", ApiKeyFormat.Fingerprint(KeyEnvironment.Production, "0aB3xY9kLm2Q", "Qw4z"));
        Assert.Equal("pleo_test_0aB3xY9kLm2Q_…Qw4z", ApiKeyFormat.Fingerprint(KeyEnvironment.Staging, "0aB3xY9kLm2Q", "Qw4z"));
    }

    [Fact]
    public void ParsedKey_ToString_ShowsTheFingerprintAndNotTheSecret()
    {
        var key = ApiKeyFormat.Generate(KeyEnvironment.Staging);

        var shown = key.ToString();

        Assert.Equal("pleo_test_" + key.KeyId + "_…" + key.Key[^4..], shown);
        Assert.DoesNotContain(TestKeys.SecretOf(key.Key), shown, StringComparison.Ordinal);
    }
}
