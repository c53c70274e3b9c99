using System.Net;
using System.Net.Sockets;

namespace PleoKeys.Web.Auth;

/// <summary>
/// The partition a per-address limit counts a client in (failed API authentications, sign-in attempts, exposed-key
/// reports). An IPv4 address is itself, also when it arrives IPv4-mapped (<c>::ffff:198.51.100.9</c>); an IPv6
/// address counts as its /64, the smallest block a site is given (RFC 6177), since one host can use any
/// address within it.
/// </summary>
public static class ClientPartition
{
    public static string Of(IPAddress? address)
    {
        if (address is null)
        {
            return "-";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }
}
