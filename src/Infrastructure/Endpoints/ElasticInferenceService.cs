using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Deployments;
using WebConsole.Inference.Hosting;
using WebConsole.Inference.Models;
using WebConsole.Infrastructure.Models;

namespace WebConsole.Infrastructure.Endpoints;

/// <summary>Typed settings of the <c>elastic</c> service.</summary>
public sealed record ElasticEndpointSettings : EndpointSettings
{
    /// <summary>The managed model: a built-in or store model served on the embedded host.</summary>
    public required string ModelId { get; init; }

    /// <inheritdoc />
    public override JsonObject ToServiceSettings() => new() { ["model_id"] = ModelId };
}

/// <summary>
/// The <c>elastic</c> service: the managed inference service that WebConsole itself is. Tenants name a model; the
/// installation runs it. Models backed by the embedded host (the built-in models, the demo chat model, imported models)
/// run on one deployment per model shared by every organization (1 thread, adaptive allocations 0..32), so a tenant's
/// endpoint costs nothing while idle. Thread-safe.
/// </summary>
public sealed class ElasticInferenceService(
    EmbeddedInferenceHost host, ModelRegistry models, BuiltInModels builtIns, ModelProvisioner provisioner, IOptions<BatchingOptions> batching) : IInferenceService
{
    /// <summary>The service name.</summary>
    public const string ServiceName = "elastic";

    /// <inheritdoc />
    public string Name => ServiceName;

    /// <inheritdoc />
    public IReadOnlyList<TaskType> SupportedTaskTypes { get; } = TaskTypes.All;

    /// <inheritdoc />
    public IReadOnlySet<string> SecretFields { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <inheritdoc />
    public ServiceConfiguration Configuration { get; } = new(
        ServiceName,
        "Elastic",
        TaskTypes.All,
        [
            KeyValuePair.Create("model_id", new ServiceSettingField(
                "Model ID", "The managed model to use (a built-in or imported model of this installation).",
                Required: true, Sensitive: false, Updatable: false, SettingFieldType.Text, null, TaskTypes.All)),
        ]);

    /// <summary>The shared deployment of a managed model.</summary>
    public static string DeploymentIdOf(string modelId) => $"{ServiceName}/{modelId}";

    /// <inheritdoc />
    public bool SupportsStreaming(TaskType taskType) => taskType is TaskType.Completion or TaskType.ChatCompletion;

    /// <inheritdoc />
    public EndpointSettings Parse(TaskType taskType, JsonObject serviceSettings, JsonObject? taskSettings)
    {
        ArgumentNullException.ThrowIfNull(serviceSettings);
        var map = new JsonSettings(serviceSettings, "service_settings");
        var modelId = map.RequiredString("model_id");
        map.ThrowIfNotEmpty(ServiceName);
        return new ElasticEndpointSettings
        {
            TaskType = taskType,
            TaskSettings = ElasticsearchInferenceService.ParseTaskSettings(taskType, taskSettings, ServiceName),
            ModelId = modelId,
        };
    }

    /// <inheritdoc />
    public void ValidateNew(EndpointSettings settings)
    {
        var typed = (ElasticEndpointSettings)settings;
        var modelTask = builtIns.Find(typed.ModelId)?.TaskType ?? StoreTaskType(typed.ModelId)
            ?? throw InferenceApiException.BadRequest($"Model [{typed.ModelId}] is not available from the [{ServiceName}] service on this installation");
        var fits = modelTask == typed.TaskType || (modelTask is TaskType.ChatCompletion && typed.TaskType is TaskType.Completion);
        if (!fits)
        {
            throw InferenceApiException.BadRequest($"Model [{typed.ModelId}] does not support task type [{typed.TaskType.ToWireName()}]");
        }
    }

    /// <inheritdoc />
    public Task PrepareAsync(EndpointSettings settings, CancellationToken cancellationToken) =>
        provisioner.EnsureAsync(((ElasticEndpointSettings)settings).ModelId, cancellationToken);

    /// <inheritdoc />
    public IInferenceClient CreateClient(InferenceEndpoint endpoint, EndpointSettings settings)
    {
        var typed = (ElasticEndpointSettings)settings;
        return ElasticsearchInferenceService.CreateEmbeddedClient(host, typed.TaskType, new DeploymentSettings
        {
            DeploymentId = DeploymentIdOf(typed.ModelId),
            ModelId = typed.ModelId,
            ThreadsPerAllocation = 1,
            Allocations = AllocationSettings.Adaptive(0, 32),
            Batching = batching.Value,
        });
    }

    private TaskType? StoreTaskType(string modelId)
    {
        try
        {
            return models.TryGet(modelId, out var folder) ? ModelInspector.Inspect(folder).TaskType : null;
        }
        catch (Inference.Abstractions.ModelUnavailableException)
        {
            return null;
        }
    }
}
