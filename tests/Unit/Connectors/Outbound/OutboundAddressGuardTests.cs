using System.Net;
using WebConsole.Infrastructure.Connectors.Outbound;

namespace WebConsole.Unit.Connectors.Outbound;

public sealed class OutboundAddressGuardTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.255.0.9")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.10")]
    [InlineData("100.64.0.1")]
    [InlineData("100.127.255.254")]
    [InlineData("169.254.169.254")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("255.255.255.255")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("fe80::1")]
    [InlineData("fd00::1")]
    [InlineData("fc00::abcd")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:10.0.0.1")]
    public void Loopback_link_local_private_and_reserved_addresses_are_not_public(string address) =>
        Assert.True(OutboundAddressGuard.IsNonPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("172.15.255.255")]
    [InlineData("100.128.0.1")]
    [InlineData("100.63.255.255")]
    [InlineData("192.169.0.1")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("::ffff:8.8.8.8")]
    public void Public_addresses_are_public(string address) =>
        Assert.False(OutboundAddressGuard.IsNonPublic(IPAddress.Parse(address)));

    [Fact]
    public void An_allowed_address_admits_exactly_that_address()
    {
        var guard = new OutboundAddressGuard(OutboundAllowList.Parse(["127.0.0.1"]));
        Assert.True(guard.Allows("127.0.0.1", IPAddress.Parse("127.0.0.1")));
        Assert.True(guard.Allows("127.0.0.1", IPAddress.Parse("::ffff:127.0.0.1")));
        Assert.False(guard.Allows("127.0.0.2", IPAddress.Parse("127.0.0.2")));
        Assert.False(guard.Allows("metadata", IPAddress.Parse("169.254.169.254")));
        Assert.True(guard.Allows("example.com", IPAddress.Parse("93.184.216.34")));
    }

    [Fact]
    public void A_cidr_block_admits_its_range_and_a_host_name_admits_whatever_it_resolves_to()
    {
        var guard = new OutboundAddressGuard(OutboundAllowList.Parse(["10.0.0.0/8", "fd00::/8", "gateway.internal"]));
        Assert.True(guard.Allows("x", IPAddress.Parse("10.200.3.4")));
        Assert.True(guard.Allows("x", IPAddress.Parse("11.0.0.1")));
        Assert.False(guard.Allows("x", IPAddress.Parse("192.168.0.1")));
        Assert.True(guard.Allows("x", IPAddress.Parse("fd12::1")));
        Assert.True(guard.Allows("gateway.internal", IPAddress.Parse("192.168.0.1")));
        Assert.True(guard.Allows("GATEWAY.internal.", IPAddress.Parse("192.168.0.1")));
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("not a host")]
    [InlineData("300.1.1.1/8")]
    public void A_malformed_entry_is_refused_naming_it(string entry)
    {
        var error = Assert.Throws<FormatException>(() => OutboundAllowList.Parse([entry]));
        Assert.Contains($"[{entry}]", error.Message, StringComparison.Ordinal);
        Assert.Contains("Connectors:AllowedOutboundAddresses", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Comma_separated_entries_are_split()
    {
        var options = new ConnectorOptions { AllowedOutboundAddresses = ["127.0.0.1, 10.0.0.0/8"] };
        var allowList = options.ParseAllowList();
        Assert.True(allowList.AllowsAddress(IPAddress.Parse("127.0.0.1")));
        Assert.True(allowList.AllowsAddress(IPAddress.Parse("10.9.9.9")));
    }

    [Fact]
    public async Task A_host_name_is_refused_when_it_resolves_to_a_loopback_address()
    {
        var guard = new OutboundAddressGuard(OutboundAllowList.Empty);
        var refused = await Assert.ThrowsAsync<OutboundAddressRefusedException>(() => guard.ResolveAsync("localhost", CancellationToken.None));
        Assert.Equal("localhost", refused.Host);
        Assert.True(IPAddress.IsLoopback(refused.Address));
        Assert.Contains("Connectors:AllowedOutboundAddresses", refused.Message, StringComparison.Ordinal);
    }
}
