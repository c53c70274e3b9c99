using PleoKeys.Tests.Infrastructure;
using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Tests.Unit;

public sealed class KeySecretHasherTests
{
    private readonly BCryptKeySecretHasher _hasher = new(4);

    [Fact]
    public void Hash_IsABCryptHashWithTheConfiguredWorkFactor()
    {
        var key = ApiKeyFormat.Generate(KeyEnvironment.Staging).Key;

        var hash = _hasher.Hash(key);

        Assert.Matches(@"^\$2[abxy]\$04\$[./A-Za-z0-9]{53}$", hash);
        Assert.DoesNotContain(TestKeys.SecretOf(key), hash, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_TheSameKey_Succeeds()
    {
        var key = ApiKeyFormat.Generate(KeyEnvironment.Staging).Key;

        Assert.True(_hasher.Verify(key, _hasher.Hash(key)));
    }

    [Fact]
    public void Verify_AnyCharacterChanged_Fails()
    {
        // BCrypt ignores input past 72 bytes; the key must be short enough that its last characters count.
        var key = ApiKeyFormat.Generate(KeyEnvironment.Production).Key;
        var hash = _hasher.Hash(key);

        var accepted = Enumerable.Range(0, key.Length).Where(i => _hasher.Verify(TestKeys.ChangeAt(key, i), hash)).ToList();

        Assert.Empty(accepted);
    }

    [Fact]
    public void Hash_SameKeyTwice_IsSaltedDifferently()
    {
        var key = ApiKeyFormat.Generate(KeyEnvironment.Staging).Key;

        Assert.NotEqual(_hasher.Hash(key), _hasher.Hash(key));
    }
}
