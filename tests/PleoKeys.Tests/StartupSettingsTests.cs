using Microsoft.Extensions.Options;
using PleoKeys.Tests.Infrastructure;

namespace PleoKeys.Tests;

/// <summary>
/// A bad setting stops the app at start (ValidateOnStart), with a message naming the setting as it is configured,
/// instead of failing on the first request that reads it, or never. The Email section has its own cases
/// (EmailOptionsTests), PleoKeys:PublicBaseUrl too (PublicBaseUrlValidationTests).
/// </summary>
public sealed class StartupSettingsTests
{
    private sealed class MisconfiguredFactory(string setting, string value) : PleoKeysFactory
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { [setting] = value };
    }

    [Theory]
    [InlineData("PleoKeys:BCryptWorkFactor", "3", "PleoKeys:BCryptWorkFactor must be between 4 and 31")]
    [InlineData("PleoKeys:BCryptWorkFactor", "32", "PleoKeys:BCryptWorkFactor must be between 4 and 31")]
    [InlineData("PleoKeys:Environment", "7", "PleoKeys:Environment must be Staging or Production")]
    [InlineData("PleoKeys:RequestsPerMinute", "0", "PleoKeys:RequestsPerMinute must be at least 1")]
    [InlineData("PleoKeys:FailedAuthPerMinutePerClient", "0", "PleoKeys:FailedAuthPerMinutePerClient must be at least 1")]
    [InlineData("PleoKeys:FailedAuthPerMinutePerKey", "-1", "PleoKeys:FailedAuthPerMinutePerKey must be at least 1")]
    [InlineData("PleoKeys:ThrottledResponseDelay", "-00:00:01", "PleoKeys:ThrottledResponseDelay must be between 00:00:00 and 00:01:00")]
    [InlineData("PleoKeys:ThrottledResponseDelay", "00:05:00", "PleoKeys:ThrottledResponseDelay must be between 00:00:00 and 00:01:00")]
    [InlineData("PleoKeys:SignInAttemptsPerMinutePerClient", "0", "PleoKeys:SignInAttemptsPerMinutePerClient must be at least 1")]
    [InlineData("PleoKeys:KeyCreationsPerMinutePerUser", "0", "PleoKeys:KeyCreationsPerMinutePerUser must be at least 1")]
    [InlineData("PleoKeys:MaxActiveKeysPerCompany", "0", "PleoKeys:MaxActiveKeysPerCompany must be at least 1")]
    [InlineData("Database:KeyChangePollInterval", "00:00:00", "Database:KeyChangePollInterval must be between 00:00:00.001 and 01:00:00")]
    [InlineData("Database:Provider", "7", "Database:Provider must be Sqlite or Postgres")]
    public void Start_WithASettingOutOfRange_FailsNamingTheSetting(string setting, string value, string message)
    {
        using var factory = new MisconfiguredFactory(setting, value);

        var error = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PleoKeys:BCryptWorkFactor", "eleven")]
    [InlineData("PleoKeys:ThrottledResponseDelay", "a second")]
    [InlineData("Database:Provider", "Oracle")]
    public void Start_WithASettingThatDoesNotParse_FailsNamingTheSetting(string setting, string value)
    {
        using var factory = new MisconfiguredFactory(setting, value);

        // The configuration binder's own message: "Failed to convert configuration value at '<setting>' …".
        var error = Assert.ThrowsAny<InvalidOperationException>(() => factory.CreateClient());

        Assert.Contains($"'{setting}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_WithAnEmptySecretsPath_FailsNamingTheSetting()
    {
        using var factory = new MisconfiguredFactory("PleoKeys:SecretsPath", " ");

        var error = Assert.ThrowsAny<InvalidOperationException>(() => factory.CreateClient());

        Assert.Contains("PleoKeys:SecretsPath must name a folder", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_WithAKnownProxyThatIsNotAnAddress_FailsNamingTheSetting()
    {
        using var factory = new MisconfiguredFactory("ForwardedHeaders:KnownProxies:0", "proxy.internal");

        var error = Assert.ThrowsAny<InvalidOperationException>(() => factory.CreateClient());

        Assert.Contains("ForwardedHeaders:KnownProxies:0 must be an IP address", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_WithTheSettingsInRange_Starts()
    {
        using var factory = new MisconfiguredFactory("PleoKeys:BCryptWorkFactor", "4");

        using var client = factory.CreateClient();

        Assert.NotNull(client);
    }
}
