using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Deployments;
using WebConsole.Inference.Hosting;
using WebConsole.Inference.Models;
using WebConsole.Inference.ModelStore;
using WebConsole.Infrastructure.Models;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Web.Security;

namespace WebConsole.Web.Apis.Inference;

/// <summary>
/// Elasticsearch's endpoint management routes: create, get, <c>_update</c> and delete of inference endpoints (both path
/// forms), <c>_services</c>, and the trained-model statistics of the caller's deployments. Handlers throw
/// <see cref="InferenceApiException"/>; the group filter writes the envelope.
/// </summary>
internal static class InferenceEndpointsApi
{
    public static IEndpointRouteBuilder MapInferenceEndpointsApi(this IEndpointRouteBuilder endpoints)
    {
        var inference = endpoints.MapGroup("/_inference").AddEndpointFilter(InferenceErrors.FilterAsync).ExcludeFromDescription();

        inference.MapPut("/{inference_id}", (HttpContext http, string inference_id, InferenceEndpointService service, CancellationToken ct) =>
            CreateAsync(http, null, inference_id, service, ct)).RequireAuthorization(Policies.ManageInference);
        inference.MapPut("/{task_type}/{inference_id}", (HttpContext http, string task_type, string inference_id, InferenceEndpointService service, CancellationToken ct) =>
            CreateAsync(http, task_type, inference_id, service, ct)).RequireAuthorization(Policies.ManageInference);

        inference.MapGet("/", (HttpContext http, InferenceEndpointService service, CancellationToken ct) =>
            GetAsync(http, null, null, service, ct)).RequireAuthorization(Policies.MonitorInference);
        inference.MapGet("/{inference_id}", (HttpContext http, string inference_id, InferenceEndpointService service, CancellationToken ct) =>
            GetAsync(http, null, inference_id, service, ct)).RequireAuthorization(Policies.MonitorInference);
        inference.MapGet("/{task_type}/{inference_id}", (HttpContext http, string task_type, string inference_id, InferenceEndpointService service, CancellationToken ct) =>
            GetAsync(http, task_type, inference_id, service, ct)).RequireAuthorization(Policies.MonitorInference);

        inference.MapPut("/{inference_id}/_update", (HttpContext http, string inference_id, InferenceEndpointService service, CancellationToken ct) =>
            UpdateAsync(http, null, inference_id, service, ct)).RequireAuthorization(Policies.ManageInference);
        inference.MapPut("/{task_type}/{inference_id}/_update", (HttpContext http, string task_type, string inference_id, InferenceEndpointService service, CancellationToken ct) =>
            UpdateAsync(http, task_type, inference_id, service, ct)).RequireAuthorization(Policies.ManageInference);

        inference.MapDelete("/{inference_id}", (HttpContext http, string inference_id, InferenceEndpointService service, CancellationToken ct) =>
            DeleteAsync(http, null, inference_id, service, ct)).RequireAuthorization(Policies.ManageInference);
        inference.MapDelete("/{task_type}/{inference_id}", (HttpContext http, string task_type, string inference_id, InferenceEndpointService service, CancellationToken ct) =>
            DeleteAsync(http, task_type, inference_id, service, ct)).RequireAuthorization(Policies.ManageInference);

        inference.MapGet("/_services", (IInferenceServiceRegistry services) => Services(services, null)).RequireAuthorization(Policies.MonitorInference);
        inference.MapGet("/_services/{task_type}", (IInferenceServiceRegistry services, string task_type) => Services(services, task_type))
            .RequireAuthorization(Policies.MonitorInference);

        var ml = endpoints.MapGroup("/_ml/trained_models").AddEndpointFilter(InferenceErrors.FilterAsync).ExcludeFromDescription();
        ml.MapGet("/_stats", (HttpContext http, EmbeddedInferenceHost host, ModelRegistry models, ModelStore store) => Stats(http, host, models, store, null))
            .RequireAuthorization(Policies.MonitorInference);
        ml.MapGet("/{model_id}/_stats", (HttpContext http, EmbeddedInferenceHost host, ModelRegistry models, ModelStore store, string model_id) =>
                Stats(http, host, models, store, model_id))
            .RequireAuthorization(Policies.MonitorInference);
        return endpoints;
    }

    private static CallerIdentity Caller(HttpContext http) =>
        http.User.GetCaller() ?? throw new InferenceApiException(401, "security_exception", ApiKeyAuthenticationHandler.UnableToAuthenticate);

    private static async Task<IResult> CreateAsync(HttpContext http, string? taskType, string inferenceId, InferenceEndpointService service, CancellationToken ct)
    {
        var caller = Caller(http);
        var body = await InferenceErrors.ReadObjectAsync(http.Request, ct);
        var timeout = InferenceRunner.ReadTimeout(http.Request, TaskType.TextEmbedding);
        var created = await service.CreateAsync(caller, inferenceId, taskType, body, timeout, ct);
        if (created.Pending is { } pending)
        {
            // Elasticsearch's way of saying "done, but mind this" (RFC 7234 warn-code 299); the endpoint serves once its
            // model is ready, and GET /_ml/trained_models/{model}/_stats follows the download.
            http.Response.Headers.Warning = $"299 WebConsole \"{pending.Replace("\"", "'", StringComparison.Ordinal)}\"";
        }

        return TypedResults.Json(created.Endpoint);
    }

    private static async Task<IResult> GetAsync(HttpContext http, string? taskType, string? inferenceId, InferenceEndpointService service, CancellationToken ct) =>
        TypedResults.Json(await service.GetAsync(Caller(http), taskType, inferenceId, ct));

    private static async Task<IResult> UpdateAsync(HttpContext http, string? taskType, string inferenceId, InferenceEndpointService service, CancellationToken ct)
    {
        var caller = Caller(http);
        var body = await InferenceErrors.ReadObjectAsync(http.Request, ct);
        return TypedResults.Json(await service.UpdateAsync(caller, inferenceId, taskType, body, ct));
    }

    private static async Task<IResult> DeleteAsync(HttpContext http, string? taskType, string inferenceId, InferenceEndpointService service, CancellationToken ct)
    {
        var caller = Caller(http);
        var dryRun = Flag(http, "dry_run");
        var force = Flag(http, "force");
        return TypedResults.Json(await service.DeleteAsync(caller, inferenceId, taskType, dryRun, force, ct));
    }

    private static JsonHttpResult<JsonArray> Services(IInferenceServiceRegistry services, string? taskType)
    {
        TaskType? only = null;
        if (taskType is not null)
        {
            only = TaskTypes.TryParse(taskType, out var parsed) ? parsed : throw InferenceApiException.UnknownTaskType(taskType);
        }

        var list = services.All
            .Where(s => only is null || s.SupportedTaskTypes.Contains(only.Value))
            .Select(s => (JsonNode)s.Configuration.ToJson(only));
        return TypedResults.Json(new JsonArray([.. list]));
    }

    // Deployments are shared by the host: an organization sees its own (prefixed with its id, shown without the prefix)
    // and the shared deployments of reserved endpoints (no prefix), never another organization's.
    private static JsonHttpResult<JsonObject> Stats(HttpContext http, EmbeddedInferenceHost host, ModelRegistry models, ModelStore store, string? modelId)
    {
        var caller = Caller(http);
        var prefix = ElasticsearchInferenceService.OrganizationPrefix(caller.OrganizationId);
        var deployments = host.Deployments.GetSnapshots()
            .Select(s => s.DeploymentId.StartsWith(prefix, StringComparison.Ordinal) ? (Snapshot: s, Id: s.DeploymentId[prefix.Length..])
                : s.DeploymentId.Contains(':', StringComparison.Ordinal) ? (Snapshot: s, Id: (string?)null)
                : (Snapshot: s, Id: s.DeploymentId))
            .Where(d => d.Id is not null)
            .ToList();
        var modelIds = new SortedSet<string>(models.ListIds(), StringComparer.Ordinal);
        modelIds.UnionWith(BuiltInModels.Ids);
        modelIds.UnionWith(deployments.Select(d => d.Snapshot.ModelId));
        modelIds.UnionWith(store.Statuses.Select(s => s.ModelId));
        if (modelId is not null and not ("_all" or "*"))
        {
            var canonical = ElasticsearchInferenceService.Canonical(modelId);
            if (!modelIds.Contains(canonical))
            {
                throw new InferenceApiException(404, "resource_not_found_exception", $"No known trained model with model_id [{modelId}]");
            }

            modelIds = new SortedSet<string>([canonical], StringComparer.Ordinal);
        }

        var stats = new JsonArray();
        foreach (var id in modelIds)
        {
            var download = Download(store, id);
            var own = deployments.Where(d => string.Equals(d.Snapshot.ModelId, id, StringComparison.OrdinalIgnoreCase)).ToList();
            if (own.Count == 0)
            {
                stats.Add(new JsonObject { ["model_id"] = id, ["model_download"] = download });
                continue;
            }

            foreach (var (snapshot, deploymentId) in own)
            {
                stats.Add(new JsonObject
                {
                    ["model_id"] = id,
                    ["deployment_stats"] = DeploymentStats(snapshot, deploymentId!),
                    ["model_download"] = download.DeepClone(),
                });
            }
        }

        return TypedResults.Json(new JsonObject { ["count"] = stats.Count, ["trained_model_stats"] = stats });
    }

    private static JsonObject DeploymentStats(DeploymentSnapshot snapshot, string deploymentId) => new()
    {
        ["deployment_id"] = deploymentId,
        ["model_id"] = snapshot.ModelId,
        ["state"] = snapshot.State.ToContractName(),
        ["allocation_status"] = new JsonObject
        {
            ["allocation_count"] = snapshot.AllocationCount,
            ["target_allocation_count"] = snapshot.TargetAllocationCount,
            ["state"] = snapshot.AllocationState.ToContractName(),
        },
        ["number_of_allocations"] = snapshot.NumberOfAllocations,
        ["threads_per_allocation"] = snapshot.ThreadsPerAllocation,
        ["inference_count"] = snapshot.InferenceCount,
        ["average_inference_time_ms"] = snapshot.AverageInferenceTimeMs,
        ["queue_size"] = snapshot.QueueSize,
        ["reason"] = snapshot.FailureReason,
        // Beyond Elasticsearch's shape: allocations that crashed (and were replaced) since the deployment started.
        ["allocation_failure_count"] = snapshot.AllocationFailures,
        ["last_allocation_failure"] = snapshot.LastAllocationFailure,
    };

    // CONTRACT.md's model_download: state, bytes so far and in all, and why it failed.
    private static JsonObject Download(ModelStore store, string modelId)
    {
        var status = store.GetStatus(modelId);
        var download = new JsonObject
        {
            ["state"] = status.State.ToString().ToLowerInvariant(),
            ["downloaded_bytes"] = status.DownloadedBytes,
            ["total_bytes"] = status.TotalBytes ?? status.DownloadedBytes,
        };
        if (status.Percent is { } percent && status.State is not ModelDownloadState.Downloaded)
        {
            download["percent"] = Math.Round(percent, 1);
        }

        if (status.State is ModelDownloadState.Downloading or ModelDownloadState.Building)
        {
            download["bytes_per_second"] = Math.Round(status.BytesPerSecond);
            if (status.EstimatedRemaining is { } eta)
            {
                download["eta_seconds"] = Math.Ceiling(eta.TotalSeconds);
            }
        }

        if (status.Reason is { } reason)
        {
            download["reason"] = reason;
        }

        return download;
    }

    private static bool Flag(HttpContext http, string name)
    {
        var value = http.Request.Query[name].ToString();
        return value switch
        {
            "" => http.Request.Query.ContainsKey(name),
            "true" => true,
            "false" => false,
            _ => throw InferenceApiException.BadRequest($"Failed to parse value [{value}] as only [true] or [false] are allowed."),
        };
    }
}
