using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WebConsole.Domain.Endpoints;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Unit.Connectors;

/// <summary>The outbound core as the connector unit tests use it: loopback allowed, short retries and timeouts.</summary>
internal static class ConnectorTestClients
{
    public static ProviderHttpClients Create(string service, string baseUrl) => new(
        Options.Create(new ConnectorOptions
        {
            AllowedOutboundAddresses = ["127.0.0.1"],
            RetryBaseDelay = TimeSpan.FromMilliseconds(20),
            AttemptTimeout = TimeSpan.FromSeconds(10), // a cold first call on a busy 2-core machine can take over a second
            BaseUrls = { [service] = new Uri(baseUrl) },
        }),
        TimeProvider.System,
        NullLogger<ProviderHttpClients>.Instance);

    public static IInferenceClient Client(IInferenceService service, EndpointSettings settings, string inferenceId = "my-endpoint")
    {
        var endpoint = InferenceEndpoint.Create(Guid.NewGuid(), Guid.NewGuid(), InferenceId.Parse(inferenceId), settings.TaskType, service.Name,
            "{}", null, null, null, DateTimeOffset.UtcNow);
        return service.CreateClient(endpoint, settings);
    }
}
