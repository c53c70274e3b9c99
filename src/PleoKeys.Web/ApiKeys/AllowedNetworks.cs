using System.Net;
using System.Net.Sockets;

namespace PleoKeys.Web.ApiKeys;

/// <summary>
/// A key's IP allowlist: up to <see cref="MaxEntries"/> IPv4/IPv6 addresses or CIDR ranges (OpenAI and Cloudflare
/// restrict keys the same way). Parsed with <see cref="IPNetwork"/>; a lone address is a /32 or /128 range. An
/// IPv4-mapped IPv6 client address (<c>::ffff:10.1.2.3</c>, what a dual-stack socket reports) matches IPv4 ranges.
/// </summary>
public static class AllowedNetworks
{
    public const int MaxEntries = 50;

    private static readonly char[] Separators = [' ', '\t', '\r', '\n', ',', ';'];

    /// <summary>
    /// Reads what a user typed: entries separated by line breaks, spaces or commas. Returns the ranges in canonical
    /// form, or null with one message per bad entry (each naming the entry, so the form can say what to fix).
    /// </summary>
    public static IReadOnlyList<IPNetwork>? Parse(string? text, out IReadOnlyList<string> problems)
    {
        var errors = new List<string>();
        var networks = new List<IPNetwork>();
        var entries = (text ?? "").Split(Separators, StringSplitOptions.RemoveEmptyEntries);
        if (entries.Length > MaxEntries)
        {
            errors.Add($"At most {MaxEntries} addresses or ranges; this list has {entries.Length}.");
        }

        foreach (var entry in entries.Take(MaxEntries + 1))
        {
            var shown = entry.Length > 45 ? entry[..45] + "…" : entry;
            if (TryParseEntry(entry, out var network, out var why))
            {
                if (!networks.Contains(network))
                {
                    networks.Add(network);
                }
            }
            else
            {
                errors.Add($"“{shown}” {why}");
            }
        }

        problems = errors;
        return errors.Count == 0 ? networks : null;
    }

    private static bool TryParseEntry(string entry, out IPNetwork network, out string why)
    {
        why = "";
        var slash = entry.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            if (!IPAddress.TryParse(entry, out var address) || entry.Contains('%', StringComparison.Ordinal))
            {
                network = default;
                why = "is not an IPv4 or IPv6 address or a CIDR range such as 203.0.113.0/24.";
                return false;
            }

            address = Normalize(address);
            network = new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        // Bits set after the prefix (10.0.0.1/8) are refused (IPNetwork would clear them silently): what was meant is unclear.
        var typed = IPAddress.TryParse(entry[..slash], out var written) ? written : null;
        if (IPNetwork.TryParse(entry, out network) && typed is not null && typed.Equals(Mask(typed, network.PrefixLength)))
        {
            if (network.BaseAddress.IsIPv4MappedToIPv6)
            {
                network = new IPNetwork(network.BaseAddress.MapToIPv4(), Math.Max(0, network.PrefixLength - 96));
            }

            return true;
        }

        // IPNetwork refuses a base address with bits set after the prefix (10.0.0.1/8); say which range was meant.
        if (IPAddress.TryParse(entry[..slash], out var start) && int.TryParse(entry[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var prefix)
            && prefix <= (start.AddressFamily == AddressFamily.InterNetwork ? 32 : 128))
        {
            var meant = Mask(start, prefix);
            why = $"has bits set after its /{prefix} prefix; did you mean {meant}/{prefix}?";
        }
        else
        {
            why = "is not an IPv4 or IPv6 address or a CIDR range such as 203.0.113.0/24.";
        }

        return false;
    }

    /// <summary>The stored form: canonical ranges, space-separated.</summary>
    public static string Join(IEnumerable<IPNetwork> networks) => string.Join(' ', networks.Select(n => n.ToString()));

    /// <summary>Reads the stored form back (entries that no longer parse are dropped: they were written by <see cref="Join"/>).</summary>
    public static IPNetwork[] Split(string? stored) =>
        [.. (stored ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => IPNetwork.TryParse(s, out var n) ? n : (IPNetwork?)null).OfType<IPNetwork>()];

    /// <summary>True when the list is empty (no restriction) or holds the address.</summary>
    public static bool Allows(IPNetwork[] networks, IPAddress? address)
    {
        if (networks.Length == 0)
        {
            return true;
        }

        if (address is null)
        {
            return false;
        }

        address = Normalize(address);
        foreach (var network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>An IPv4-mapped IPv6 address as the IPv4 address it carries; any other address as it is.</summary>
    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static IPAddress Mask(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }

        return new IPAddress(bytes);
    }
}
