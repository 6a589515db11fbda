using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using WebConsole.Domain.Chunking;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Models;
using WebConsole.Infrastructure.Audit;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.Secrets;

namespace WebConsole.Infrastructure.Endpoints;

/// <summary>
/// Create, get, update and delete of the caller's inference endpoints with Elasticsearch's rules and messages. Every
/// action sees only the caller's organization (and a key's allow-list); changes are audited in the same unit of work.
/// Scoped.
/// </summary>
public sealed class InferenceEndpointService(
    WebConsoleDbContext db,
    IInferenceServiceRegistry services,
    ServiceSettingsSecrets secrets,
    ReservedEndpoints reserved,
    ModelRegistry models,
    IEnumerable<IEndpointReferenceSource> referenceSources,
    IAuditLog audit,
    TimeProvider time)
{
    private const string ResourceType = "inference_endpoint";

    /// <summary>
    /// Creates an endpoint from a create body; <paramref name="pathTaskType"/> is the path's task type (null for the
    /// one-segment form). Returns the stored configuration without secrets.
    /// </summary>
    public async Task<JsonObject> CreateAsync(CallerIdentity caller, string inferenceId, string? pathTaskType, JsonObject body, CancellationToken cancellationToken) =>
        (await CreateAsync(caller, inferenceId, pathTaskType, body, Timeout.InfiniteTimeSpan, cancellationToken)).Endpoint;

    /// <summary>
    /// Creates an endpoint and readies what it runs on (its model downloaded or built, as Elasticsearch deploys the model
    /// of a new endpoint), waiting at most <paramref name="deployTimeout"/>. A failed download or build creates nothing;
    /// one that outlasts the wait creates the endpoint and says in <see cref="EndpointCreation.Pending"/> that it goes on.
    /// </summary>
    public async Task<EndpointCreation> CreateAsync(
        CallerIdentity caller, string inferenceId, string? pathTaskType, JsonObject body, TimeSpan deployTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(body);
        TaskType? urlTaskType = pathTaskType is null ? null : ParseTaskType(pathTaskType);
        var id = InferenceId.Parse(inferenceId);
        if (id.IsReserved)
        {
            throw InferenceApiException.BadRequest(
                $"[{inferenceId}] is a reserved inference ID. Cannot create a new inference endpoint with a reserved ID.");
        }

        var config = body.DeepClone().AsObject();
        var taskType = ResolveTaskType(urlTaskType, Take(config, "task_type"));
        var serviceNode = Take(config, "service");
        if (serviceNode is null || serviceNode.GetValueKind() != JsonValueKind.String || string.IsNullOrWhiteSpace(serviceNode.GetValue<string>()))
        {
            throw InferenceApiException.BadRequest("Inference endpoint configuration is missing the [service] setting");
        }

        var serviceName = serviceNode.GetValue<string>();
        var service = services.Find(serviceName) ?? throw InferenceApiException.BadRequest($"Unknown service [{serviceName}]");
        var serviceSettings = TakeObject(config, "service_settings") ?? [];
        var taskSettings = TakeObject(config, "task_settings");
        var chunkingJson = TakeObject(config, "chunking_settings");
        new JsonSettings(config, "config").ThrowIfNotEmpty(service.Name);

        if (!service.SupportedTaskTypes.Contains(taskType))
        {
            throw InferenceApiException.BadRequest($"The [{service.Name}] service does not support task type [{taskType.ToWireName()}]");
        }

        var settings = service.Parse(taskType, serviceSettings, taskSettings);
        var chunking = ParseChunking(taskType, chunkingJson);

        if (models.ListIds().Contains(inferenceId, StringComparer.OrdinalIgnoreCase)
            || Models.BuiltInModels.Ids.Contains(ElasticsearchInferenceService.Canonical(inferenceId)))
        {
            throw InferenceApiException.BadRequest(
                $"Inference endpoint IDs must be unique. Requested inference endpoint ID [{inferenceId}] matches existing trained model ID(s) but must not.");
        }

        await reserved.EnsureAsync(db, caller.OrganizationId, cancellationToken);
        if (await db.InferenceEndpoints.AnyAsync(e => e.OrganizationId == caller.OrganizationId && e.InferenceId == id, cancellationToken))
        {
            throw AlreadyExists(inferenceId);
        }

        service.ValidateNew(settings);
        settings = await service.CompleteNewAsync(inferenceId, settings, cancellationToken);
        string? pending = null;
        using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            wait.CancelAfter(deployTimeout);
            try
            {
                await service.PrepareAsync(settings, wait.Token);
            }
            catch (Models.ModelNotReadyException notReady) when (!cancellationToken.IsCancellationRequested)
            {
                pending = notReady.Message;
            }
        }

        var split = secrets.Split(settings.ToServiceSettings().ToJsonString(), [.. service.SecretFields]);
        var endpoint = InferenceEndpoint.Create(
            Guid.NewGuid(), caller.OrganizationId, id, taskType, service.Name, split.ServiceSettings, split.SecretSettings,
            settings.TaskSettings.ToJsonString(), chunking, time.GetUtcNow());
        if (pending is null)
        {
            // The model is there: deploy it now, as Elasticsearch does (its initial allocations start loading), so the
            // first request does not pay the cold start; a model that cannot load fails the creation, which stores nothing.
            service.CreateClient(endpoint, settings);
        }

        db.InferenceEndpoints.Add(endpoint);
        audit.Append(db, caller.OrganizationId, caller, "inference_endpoint.create", ResourceType, inferenceId,
            $"task_type={taskType.ToWireName()} service={service.Name}");
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex)
        {
            throw new InferenceApiException(400, "resource_already_exists_exception", $"Inference endpoint [{inferenceId}] already exists", ex);
        }

        return new EndpointCreation(EndpointJson.ToJson(endpoint), pending);
    }

    /// <summary>
    /// <c>{"endpoints":[...]}</c> sorted by id: all of them when <paramref name="inferenceId"/> is null, empty, <c>_all</c>
    /// or <c>*</c> (restricted to <paramref name="pathTaskType"/> when given), else the one (404 when missing).
    /// </summary>
    public async Task<JsonObject> GetAsync(CallerIdentity caller, string? pathTaskType, string? inferenceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        TaskType? taskType = pathTaskType is null ? null : ParseTaskType(pathTaskType);
        await reserved.EnsureAsync(db, caller.OrganizationId, cancellationToken);
        IEnumerable<InferenceEndpoint> found;
        if (string.IsNullOrEmpty(inferenceId) || inferenceId is "_all" or "*")
        {
            var all = await db.InferenceEndpoints.Where(e => e.OrganizationId == caller.OrganizationId).ToListAsync(cancellationToken);
            found = all.Where(e => (taskType is null || e.TaskType == taskType) && caller.MayUse(e.InferenceId.Value));
        }
        else
        {
            var endpoint = await EndpointResolver.FindAsync(db, reserved, caller, inferenceId, cancellationToken)
                ?? throw InferenceApiException.EndpointNotFound(inferenceId);
            if (taskType is { } requested && requested != endpoint.TaskType)
            {
                throw InferenceApiException.TaskTypeMismatch(requested.ToWireName(), endpoint.TaskType.ToWireName());
            }

            found = [endpoint];
        }

        return new JsonObject
        {
            ["endpoints"] = new JsonArray([.. found.OrderBy(e => e.InferenceId.Value, StringComparer.Ordinal).Select(e => (JsonNode)EndpointJson.ToJson(e))]),
        };
    }

    /// <summary>
    /// Updates task settings, chunking settings and the service settings the service marks updatable; anything else is a
    /// 400 naming the field. Returns the stored configuration without secrets.
    /// </summary>
    public async Task<JsonObject> UpdateAsync(CallerIdentity caller, string inferenceId, string? pathTaskType, JsonObject body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(body);
        TaskType? urlTaskType = pathTaskType is null ? null : ParseTaskType(pathTaskType);
        var endpoint = await EndpointResolver.FindAsync(db, reserved, caller, inferenceId, cancellationToken)
            ?? throw InferenceApiException.EndpointNotFound(inferenceId);
        var config = body.DeepClone().AsObject();
        var bodyTaskType = Take(config, "task_type");
        TaskType? requested = bodyTaskType is null ? urlTaskType : ParseTaskType(Describe(bodyTaskType));
        if ((requested is { } r && r != endpoint.TaskType) || (urlTaskType is { } u && u != endpoint.TaskType))
        {
            throw InferenceApiException.BadRequest("Task type must match the task type of the existing endpoint");
        }

        if (endpoint.IsReserved)
        {
            throw InferenceApiException.BadRequest(
                $"[{inferenceId}] is a reserved inference endpoint. Cannot update a reserved inference endpoint.");
        }

        var service = services.Find(endpoint.Service)
            ?? throw InferenceApiException.BadRequest($"Unknown service [{endpoint.Service}]");
        var serviceUpdate = TakeObject(config, "service_settings");
        var taskUpdate = TakeObject(config, "task_settings");
        var chunkingJson = TakeObject(config, "chunking_settings");
        if (Take(config, "service") is { } serviceNode && Describe(serviceNode) != endpoint.Service)
        {
            throw InferenceApiException.BadRequest("[service] cannot be updated");
        }

        new JsonSettings(config, "config").ThrowIfNotEmpty(service.Name);

        var merged = JsonNode.Parse(secrets.Merge(endpoint.ServiceSettings, endpoint.SecretSettings))!.AsObject();
        if (serviceUpdate is not null)
        {
            var updatable = service.Configuration.Fields.Where(f => f.Value.Updatable).Select(f => f.Key).ToHashSet(StringComparer.Ordinal);
            updatable.UnionWith(service.SecretFields);
            foreach (var (key, value) in serviceUpdate)
            {
                if (!updatable.Contains(key))
                {
                    throw InferenceApiException.BadRequest(
                        $"[service_settings] field [{key}] cannot be updated; updatable settings: [{string.Join(", ", updatable.Order(StringComparer.Ordinal))}]");
                }

                merged[key] = value?.DeepClone();
            }

            // A fixed count replaces adaptive allocations and the other way round, as a deployment has one or the other.
            if (serviceUpdate.ContainsKey("num_allocations") && !serviceUpdate.ContainsKey("adaptive_allocations"))
            {
                merged.Remove("adaptive_allocations");
            }
            else if (serviceUpdate["adaptive_allocations"] is JsonObject { } a && a["enabled"]?.GetValueKind() == JsonValueKind.True
                && !serviceUpdate.ContainsKey("num_allocations"))
            {
                merged.Remove("num_allocations");
            }
        }

        var taskSettings = EndpointJson.ParseObject(endpoint.TaskSettings);
        foreach (var (key, value) in taskUpdate ?? [])
        {
            taskSettings[key] = value?.DeepClone();
        }

        var settings = service.Parse(endpoint.TaskType, merged, taskSettings);
        var now = time.GetUtcNow();
        var split = secrets.Split(settings.ToServiceSettings().ToJsonString(), [.. service.SecretFields]);
        endpoint.UpdateServiceSettings(split.ServiceSettings, now);
        if (serviceUpdate is not null && serviceUpdate.Any(p => service.SecretFields.Contains(p.Key)))
        {
            endpoint.UpdateSecretSettings(split.SecretSettings, now);
        }

        endpoint.UpdateTaskSettings(settings.TaskSettings.ToJsonString(), now);
        if (chunkingJson is not null)
        {
            endpoint.UpdateChunkingSettings(ParseChunking(endpoint.TaskType, chunkingJson) ?? ChunkingSettings.Default, now);
        }

        audit.Append(db, caller.OrganizationId, caller, "inference_endpoint.update", ResourceType, inferenceId,
            $"fields={string.Join(",", (serviceUpdate?.Select(p => p.Key) ?? []).Concat(taskUpdate is null ? [] : ["task_settings"]).Concat(chunkingJson is null ? [] : ["chunking_settings"]))}");
        await db.SaveChangesAsync(cancellationToken);
        service.OnUpdated(endpoint, settings);
        return EndpointJson.ToJson(endpoint);
    }

    /// <summary>
    /// Deletes an endpoint. References (API-key allow-lists, ...) block it with 409 unless <paramref name="force"/>;
    /// <paramref name="dryRun"/> only reports them. Reserved endpoints cannot be deleted.
    /// </summary>
    public async Task<JsonObject> DeleteAsync(CallerIdentity caller, string inferenceId, string? pathTaskType, bool dryRun, bool force, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        TaskType? taskType = pathTaskType is null ? null : ParseTaskType(pathTaskType);
        var endpoint = await EndpointResolver.FindAsync(db, reserved, caller, inferenceId, cancellationToken)
            ?? throw InferenceApiException.EndpointNotFound(inferenceId);
        if (taskType is { } requested && requested != endpoint.TaskType)
        {
            throw InferenceApiException.TaskTypeMismatch(requested.ToWireName(), endpoint.TaskType.ToWireName());
        }

        if (endpoint.IsReserved)
        {
            throw InferenceApiException.BadRequest(
                $"[{inferenceId}] is a reserved inference endpoint. Cannot delete a reserved inference endpoint.");
        }

        var references = new List<EndpointReference>();
        foreach (var source in referenceSources)
        {
            references.AddRange(await source.FindReferencesAsync(caller.OrganizationId, inferenceId, cancellationToken));
        }

        var message = references.Count == 0 ? null : ReferencedMessage(inferenceId, references);
        if (dryRun)
        {
            var result = Acknowledged(false, references);
            if (message is not null)
            {
                result["error_message"] = message;
            }

            return result;
        }

        if (message is not null && !force)
        {
            throw new InferenceApiException(409, InferenceApiException.StatusExceptionType, message);
        }

        db.InferenceEndpoints.Remove(endpoint);
        audit.Append(db, caller.OrganizationId, caller, "inference_endpoint.delete", ResourceType, inferenceId,
            force && references.Count > 0 ? $"force=true references={references.Count}" : null);
        await db.SaveChangesAsync(cancellationToken);
        await StopUnusedDeploymentAsync(endpoint);
        return Acknowledged(true, force ? references : []);
    }

    // A deleted endpoint's own deployment is stopped (its allocations freed) unless another endpoint of the organization
    // still runs on it through deployment_id.
    private async Task StopUnusedDeploymentAsync(InferenceEndpoint deleted)
    {
        if (services.Find(deleted.Service) is not { } service || Settings(service, deleted) is not { } settings
            || service.OwnDeploymentOf(deleted, settings) is not { } deploymentId)
        {
            return;
        }

        var others = await db.InferenceEndpoints
            .Where(e => e.OrganizationId == deleted.OrganizationId && e.Service == deleted.Service && e.Id != deleted.Id)
            .ToListAsync(CancellationToken.None);
        if (!others.Any(other => Settings(service, other) is { } otherSettings && service.OwnDeploymentOf(other, otherSettings) == deploymentId))
        {
            await service.StopDeploymentAsync(deploymentId);
        }
    }

    private EndpointSettings? Settings(IInferenceService service, InferenceEndpoint endpoint)
    {
        try
        {
            var serviceSettings = JsonNode.Parse(secrets.Merge(endpoint.ServiceSettings, endpoint.SecretSettings))!.AsObject();
            return service.Parse(endpoint.TaskType, serviceSettings, EndpointJson.ParseObject(endpoint.TaskSettings));
        }
        catch (Exception ex) when (ex is InferenceApiException or JsonException or Domain.DomainValidationException)
        {
            return null;
        }
    }

    private static JsonObject Acknowledged(bool acknowledged, IReadOnlyList<EndpointReference> references)
    {
        var result = new JsonObject
        {
            ["acknowledged"] = acknowledged,
            ["pipelines"] = Names(references, "pipelines"),
            ["indexes"] = Names(references, "indexes"),
        };
        foreach (var kind in references.Select(r => r.Kind).Where(k => k is not ("pipelines" or "indexes")).Distinct(StringComparer.Ordinal))
        {
            result[kind] = Names(references, kind);
        }

        return result;
    }

    private static JsonArray Names(IEnumerable<EndpointReference> references, string kind) =>
        new([.. references.Where(r => r.Kind == kind).Select(r => (JsonNode)r.Name)]);

    private static string ReferencedMessage(string inferenceId, IReadOnlyList<EndpointReference> references)
    {
        var kinds = references.GroupBy(r => r.Kind, StringComparer.Ordinal)
            .Select(g => $"{g.Key}: [{string.Join(", ", g.Select(r => r.Name))}]");
        var nouns = string.Join(" or ", references.Select(r => r.Kind).Distinct(StringComparer.Ordinal));
        return $"Inference endpoint {inferenceId} is referenced by {string.Join(" and ", kinds)}. Ensure that no {nouns} are using this inference endpoint, or use force to ignore this warning and delete the inference endpoint.";
    }

    private static InferenceApiException AlreadyExists(string inferenceId) =>
        new(400, "resource_already_exists_exception", $"Inference endpoint [{inferenceId}] already exists");

    private static TaskType ParseTaskType(string value) =>
        TaskTypes.TryParse(value, out var taskType) ? taskType : throw InferenceApiException.UnknownTaskType(value);

    private static TaskType ResolveTaskType(TaskType? urlTaskType, JsonNode? bodyTaskType)
    {
        if (bodyTaskType is null)
        {
            return urlTaskType ?? throw InferenceApiException.BadRequest("model is missing required setting [task_type]");
        }

        var parsed = ParseTaskType(Describe(bodyTaskType));
        if (urlTaskType is { } url && url != parsed)
        {
            throw InferenceApiException.BadRequest(
                $"Cannot resolve conflicting task_type parameter in the request URL [{url.ToWireName()}] and the request body [{parsed.ToWireName()}]");
        }

        return parsed;
    }

    private static ChunkingSettings? ParseChunking(TaskType taskType, JsonObject? json)
    {
        if (json is null)
        {
            return null;
        }

        if (!taskType.SupportsChunking())
        {
            throw InferenceApiException.BadRequest($"[chunking_settings] are not supported for task type [{taskType.ToWireName()}]");
        }

        return EndpointJson.ChunkingFromJson(json);
    }

    private static JsonNode? Take(JsonObject config, string key) => config.Remove(key, out var node) ? node : null;

    private static JsonObject? TakeObject(JsonObject config, string key) => Take(config, key) switch
    {
        null => null,
        JsonObject map => map,
        var other => throw InferenceApiException.BadRequest($"[{key}] must be an object, found [{other.ToJsonString()}]"),
    };

    private static string Describe(JsonNode node) => JsonSettings.Describe(node);
}

/// <summary>A created endpoint.</summary>
/// <param name="Endpoint">Its stored configuration, without secrets.</param>
/// <param name="Pending">When its model is still downloading, building or starting: what is going on; else null.</param>
public sealed record EndpointCreation(JsonObject Endpoint, string? Pending);
