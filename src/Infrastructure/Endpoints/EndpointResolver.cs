using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using WebConsole.Domain.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.Secrets;

namespace WebConsole.Infrastructure.Endpoints;

/// <summary>
/// Loads the caller's endpoint, restores its secrets, parses its settings and asks its service for a client. Another
/// organization's endpoint and one outside the key's allow-list are "not found", indistinguishable from a missing one.
/// </summary>
public sealed class EndpointResolver(
    WebConsoleDbContext db,
    IInferenceServiceRegistry services,
    ServiceSettingsSecrets secrets,
    ReservedEndpoints reserved) : IEndpointResolver
{
    /// <inheritdoc />
    public async Task<ResolvedEndpoint> ResolveAsync(CallerIdentity caller, string inferenceId, TaskType? requestedTaskType, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var endpoint = await FindAsync(db, reserved, caller, inferenceId, cancellationToken)
            ?? throw InferenceApiException.EndpointNotFound(inferenceId);
        if (requestedTaskType is { } requested && requested != endpoint.TaskType)
        {
            throw InferenceApiException.TaskTypeMismatch(requested.ToWireName(), endpoint.TaskType.ToWireName());
        }

        var service = services.Find(endpoint.Service)
            ?? throw new InferenceApiException(503, InferenceApiException.StatusExceptionType, $"Service [{endpoint.Service}] is not available on this installation");
        var serviceSettings = JsonNode.Parse(secrets.Merge(endpoint.ServiceSettings, endpoint.SecretSettings))!.AsObject();
        var settings = service.Parse(endpoint.TaskType, serviceSettings, EndpointJson.ParseObject(endpoint.TaskSettings));
        await service.PrepareAsync(settings, cancellationToken);
        return new ResolvedEndpoint(endpoint, settings, service, service.CreateClient(endpoint, settings));
    }

    /// <summary>The caller's endpoint by id (allow-list applied), or null.</summary>
    internal static async Task<InferenceEndpoint?> FindAsync(
        WebConsoleDbContext db, ReservedEndpoints reserved, CallerIdentity caller, string inferenceId, CancellationToken cancellationToken)
    {
        if (!InferenceId.TryParse(inferenceId, out var id) || !caller.MayUse(inferenceId))
        {
            return null;
        }

        await reserved.EnsureAsync(db, caller.OrganizationId, cancellationToken);
        return await db.InferenceEndpoints
            .FirstOrDefaultAsync(e => e.OrganizationId == caller.OrganizationId && e.InferenceId == id, cancellationToken);
    }
}
