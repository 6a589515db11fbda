using System.Net;

namespace WebConsole.Infrastructure.Connectors.Outbound;

/// <summary>Operator settings of the outbound connectors (section <c>Connectors</c>).</summary>
public sealed class ConnectorOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Connectors";

    /// <summary>
    /// Hosts (matched by name, case-insensitive) and addresses or CIDR blocks (<c>127.0.0.1</c>, <c>10.0.0.0/8</c>) that
    /// connectors may reach although they are loopback, link-local or private. Empty: only public addresses.
    /// A single comma-separated string is accepted too.
    /// </summary>
    public List<string> AllowedOutboundAddresses { get; init; } = [];

    /// <summary>Retries after the first attempt on 429, 5xx and transient network errors.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>The first retry's delay; each next one doubles it (with jitter) unless the provider sends Retry-After.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest wait before a retry; a Retry-After beyond it ends retrying and the provider's error is returned.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Bounds each attempt of a provider call: until the whole answer is read, or between two reads of a stream. The
    /// request's own timeout (its <c>timeout</c> parameter) bounds the call as a whole.
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Operator overrides of a service's default base URL by service name (e.g. <c>Connectors:BaseUrls:mistral</c>),
    /// for a gateway in front of the provider or a test server. Tenants' own <c>url</c> settings, where a service has
    /// one, still win.
    /// </summary>
    public Dictionary<string, Uri> BaseUrls { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Operator overrides of the Azure OpenAI connector.</summary>
    public AzureOpenAiConnectorOptions AzureOpenAi { get; init; } = new();

    /// <summary>Parses <see cref="AllowedOutboundAddresses"/>; throws <see cref="FormatException"/> naming a bad entry.</summary>
    public OutboundAllowList ParseAllowList() => OutboundAllowList.Parse(
        AllowedOutboundAddresses.SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));
}

/// <summary>Operator overrides of the <c>azureopenai</c> connector.</summary>
public sealed class AzureOpenAiConnectorOptions
{
    /// <summary>
    /// Replaces <c>https://{resource_name}.openai.azure.com</c> (e.g. a gateway in front of Azure, or a test server); the
    /// path <c>/openai/deployments/{deployment_id}/...</c> is appended as usual.
    /// </summary>
    public Uri? BaseUrl { get; set; }
}

/// <summary>The parsed allow-list of private outbound destinations.</summary>
public sealed class OutboundAllowList
{
    private readonly HashSet<string> _hosts;
    private readonly List<IPNetwork> _networks;

    private OutboundAllowList(HashSet<string> hosts, List<IPNetwork> networks)
    {
        _hosts = hosts;
        _networks = networks;
    }

    /// <summary>Allows nothing beyond public addresses.</summary>
    public static OutboundAllowList Empty { get; } = new([], []);

    /// <summary>Parses entries: an IP address, a CIDR block, or a host name.</summary>
    /// <exception cref="FormatException">An entry is neither.</exception>
    public static OutboundAllowList Parse(IEnumerable<string> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var hosts = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var networks = new List<IPNetwork>();
        foreach (var entry in entries.Select(e => e.Trim()).Where(e => e.Length > 0))
        {
            if (IPAddress.TryParse(entry, out var address))
            {
                var single = OutboundAddressGuard.Normalize(address);
                networks.Add(new IPNetwork(single, single.GetAddressBytes().Length * 8));
            }
            else if (entry.Contains('/', StringComparison.Ordinal))
            {
                networks.Add(IPNetwork.TryParse(entry, out var network)
                    ? network
                    : throw new FormatException($"[{ConnectorOptions.SectionName}:AllowedOutboundAddresses] entry [{entry}] is not a valid CIDR block"));
            }
            else if (Uri.CheckHostName(entry) == UriHostNameType.Dns)
            {
                hosts.Add(entry.TrimEnd('.'));
            }
            else
            {
                throw new FormatException($"[{ConnectorOptions.SectionName}:AllowedOutboundAddresses] entry [{entry}] is neither an address, a CIDR block nor a host name");
            }
        }

        return new OutboundAllowList(hosts, networks);
    }

    /// <summary>Whether the host name itself is allowed (then every address it resolves to is).</summary>
    public bool AllowsHost(string host) => _hosts.Contains(host.TrimEnd('.'));

    /// <summary>Whether the address lies in an allowed block.</summary>
    public bool AllowsAddress(IPAddress address)
    {
        var normalized = OutboundAddressGuard.Normalize(address);
        return _networks.Any(n => n.Contains(normalized));
    }
}
