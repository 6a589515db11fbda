using System.Net;
using System.Net.Sockets;

namespace WebConsole.Infrastructure.Connectors.Outbound;

/// <summary>
/// Keeps connectors off internal networks: a tenant's <c>url</c> must not reach loopback, link-local (cloud metadata),
/// private, CGNAT or otherwise non-public addresses unless the operator allows them. The check runs on the addresses a
/// connection actually uses (inside <see cref="SocketsHttpHandler.ConnectCallback"/>), so a DNS answer that changes
/// between a check and the connect (rebinding) cannot slip past it.
/// </summary>
public sealed class OutboundAddressGuard(OutboundAllowList allowList)
{
    private static readonly IPNetwork[] NonPublic =
    [
        IPNetwork.Parse("0.0.0.0/8"),         // "this network", 0.0.0.0
        IPNetwork.Parse("10.0.0.0/8"),        // RFC 1918
        IPNetwork.Parse("100.64.0.0/10"),     // carrier-grade NAT
        IPNetwork.Parse("127.0.0.0/8"),       // loopback
        IPNetwork.Parse("169.254.0.0/16"),    // link-local, cloud metadata 169.254.169.254
        IPNetwork.Parse("172.16.0.0/12"),     // RFC 1918
        IPNetwork.Parse("192.0.0.0/24"),      // IETF protocol assignments
        IPNetwork.Parse("192.168.0.0/16"),    // RFC 1918
        IPNetwork.Parse("198.18.0.0/15"),     // benchmarking
        IPNetwork.Parse("224.0.0.0/4"),       // multicast
        IPNetwork.Parse("240.0.0.0/4"),       // reserved, broadcast
        IPNetwork.Parse("::/128"),            // unspecified
        IPNetwork.Parse("::1/128"),           // loopback
        IPNetwork.Parse("64:ff9b:1::/48"),    // local-use NAT64
        IPNetwork.Parse("fc00::/7"),          // unique local
        IPNetwork.Parse("fe80::/10"),         // link-local
        IPNetwork.Parse("fec0::/10"),         // site-local (deprecated)
        IPNetwork.Parse("ff00::/8"),          // multicast
    ];

    /// <summary>The operator's allow-list.</summary>
    public OutboundAllowList AllowList { get; } = allowList;

    /// <summary>IPv4-mapped IPv6 addresses as IPv4 (so <c>::ffff:127.0.0.1</c> is loopback), others unchanged.</summary>
    public static IPAddress Normalize(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }

    /// <summary>Whether an address is outside the public internet (loopback, link-local, private, CGNAT, reserved).</summary>
    public static bool IsNonPublic(IPAddress address)
    {
        var normalized = Normalize(address);
        return NonPublic.Any(n => n.BaseAddress.AddressFamily == normalized.AddressFamily && n.Contains(normalized));
    }

    /// <summary>Whether a connection to <paramref name="address"/>, reached through <paramref name="host"/>, is allowed.</summary>
    public bool Allows(string host, IPAddress address) =>
        !IsNonPublic(address) || AllowList.AllowsHost(host) || AllowList.AllowsAddress(address);

    /// <summary>
    /// Resolves <paramref name="host"/> and returns the addresses a connection may use, refusing when the host resolves
    /// to any address that is not allowed (a host with one private address among public ones is refused too, since a
    /// resolver may hand out either).
    /// </summary>
    /// <exception cref="OutboundAddressRefusedException">A resolved address is not allowed.</exception>
    public async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        foreach (var address in addresses)
        {
            if (!Allows(host, address))
            {
                throw new OutboundAddressRefusedException(host, Normalize(address));
            }
        }

        return addresses;
    }

    /// <summary>The <see cref="SocketsHttpHandler.ConnectCallback"/> that connects only to allowed addresses.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var endPoint = context.DnsEndPoint;
        var addresses = await ResolveAsync(endPoint.Host, cancellationToken).ConfigureAwait(false);
        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, endPoint.Port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>A connector's destination resolved to an address the operator does not allow.</summary>
public sealed class OutboundAddressRefusedException(string host, IPAddress address)
    : IOException($"Connections to [{host}] are not allowed: it resolves to the non-public address [{address}]. An operator can allow it in [Connectors:AllowedOutboundAddresses].")
{
    /// <summary>The host as the URL names it.</summary>
    public string Host { get; } = host;

    /// <summary>The refused address.</summary>
    public IPAddress Address { get; } = address;
}
