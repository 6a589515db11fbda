using WebConsole.Domain.Endpoints;
using WebConsole.Infrastructure.Identity;

namespace WebConsole.Infrastructure.Endpoints;

/// <summary>An endpoint ready to serve: the row, its parsed settings, its service and its client.</summary>
/// <param name="Endpoint">The stored endpoint (the caller's organization).</param>
/// <param name="Settings">Its settings, parsed with secrets restored.</param>
/// <param name="Service">The service that serves it.</param>
/// <param name="Client">The client of its task type.</param>
public sealed record ResolvedEndpoint(InferenceEndpoint Endpoint, EndpointSettings Settings, IInferenceService Service, IInferenceClient Client);

/// <summary>Finds the endpoint a request names, for the caller. Scoped.</summary>
public interface IEndpointResolver
{
    /// <summary>
    /// The caller's endpoint <paramref name="inferenceId"/>. Throws <see cref="InferenceApiException"/>: 404
    /// <c>Inference endpoint not found [id]</c> when it does not exist, belongs to another organization or is not in the
    /// key's allow-list; 400 when <paramref name="requestedTaskType"/> differs from the endpoint's.
    /// </summary>
    Task<ResolvedEndpoint> ResolveAsync(CallerIdentity caller, string inferenceId, TaskType? requestedTaskType, CancellationToken cancellationToken);
}
