using System.Net;
using PleoKeys.Web.ApiKeys;

namespace PleoKeys.Tests.Unit;

/// <summary>The IP allowlist's parsing and matching, without the app.</summary>
public sealed class AllowedNetworksTests
{
    [Theory]
    [InlineData("10.0.0.0/8", "10.255.0.1", true)]
    [InlineData("10.0.0.0/8", "11.0.0.0", false)]
    [InlineData("203.0.113.7", "203.0.113.7", true)]
    [InlineData("203.0.113.7", "203.0.113.8", false)]
    [InlineData("10.0.0.0/8", "::ffff:10.0.0.1", true)]
    [InlineData("::ffff:10.0.0.0/104", "10.0.0.1", true)]
    [InlineData("2001:db8::/32", "2001:db8:ffff::1", true)]
    [InlineData("2001:db8::/32", "2001:db9::", false)]
    [InlineData("0.0.0.0/0", "198.51.100.1", true)]
    [InlineData("0.0.0.0/0", "2001:db8::1", false)]
    public void Allows_MatchesAddressesInsideTheRanges(string list, string address, bool allowed)
    {
        var networks = AllowedNetworks.Parse(list, out var problems);

        Assert.Empty(problems);
        Assert.Equal(allowed, AllowedNetworks.Allows([.. networks!], IPAddress.Parse(address)));
    }

    [Fact]
    public void EmptyList_AllowsEveryAddress_AndStoresAsEmpty()
    {
        var networks = AllowedNetworks.Parse("  \n ", out _);

        Assert.Equal("", AllowedNetworks.Join(networks!));
        Assert.True(AllowedNetworks.Allows([], IPAddress.Parse("192.0.2.1")));
    }

    [Fact]
    public void StoredForm_IsCanonical_AndReadsBack()
    {
        var networks = AllowedNetworks.Parse("10.0.0.0/8, 2001:DB8:0::/32;203.0.113.7 10.0.0.0/8", out _);
        var stored = AllowedNetworks.Join(networks!);

        Assert.Equal("10.0.0.0/8 2001:db8::/32 203.0.113.7/32", stored);
        Assert.Equal(stored, AllowedNetworks.Join(AllowedNetworks.Split(stored)));
    }

    [Theory]
    [InlineData("10.0.0.1/8", "“10.0.0.1/8” has bits set after its /8 prefix; did you mean 10.0.0.0/8?")]
    [InlineData("10.0.0.0/33", "“10.0.0.0/33” is not an IPv4 or IPv6 address")]
    [InlineData("example.com", "“example.com” is not an IPv4 or IPv6 address")]
    [InlineData("fe80::1%eth0", "“fe80::1%eth0” is not an IPv4 or IPv6 address")]
    public void BadEntries_AreNamedInTheirMessage(string entry, string message)
    {
        Assert.Null(AllowedNetworks.Parse("192.0.2.0/24\n" + entry, out var problems));
        Assert.StartsWith(message, Assert.Single(problems), StringComparison.Ordinal);
    }
}
