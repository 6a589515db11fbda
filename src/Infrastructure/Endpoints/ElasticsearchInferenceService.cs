using System.Numerics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Deployments;
using WebConsole.Inference.Hosting;
using WebConsole.Inference.Models;
using WebConsole.Infrastructure.Models;

namespace WebConsole.Infrastructure.Endpoints;

/// <summary>Typed settings of the <c>elasticsearch</c> service.</summary>
public sealed record ElasticsearchEndpointSettings : EndpointSettings
{
    /// <summary>The model id as given (an alias included).</summary>
    public required string ModelId { get; init; }

    /// <summary>A fixed number of allocations; null when adaptive.</summary>
    public int? NumAllocations { get; init; }

    /// <summary>Threads per allocation: a power of 2, at most 32.</summary>
    public required int NumThreads { get; init; }

    /// <summary>Adaptive allocations as given; null when absent.</summary>
    public AdaptiveAllocations? Adaptive { get; init; }

    /// <summary>An explicit deployment to share; null means the endpoint's own.</summary>
    public string? DeploymentId { get; init; }

    /// <summary>The registry id behind <see cref="ModelId"/> (the <c>_linux-x86_64</c> aliases resolved).</summary>
    public string CanonicalModelId => ElasticsearchInferenceService.Canonical(ModelId);

    /// <summary>The host's allocation settings.</summary>
    public AllocationSettings Allocations => Adaptive is { Enabled: true } adaptive
        ? AllocationSettings.Adaptive(adaptive.MinNumberOfAllocations ?? 0, adaptive.MaxNumberOfAllocations ?? 32)
        : AllocationSettings.Fixed(NumAllocations ?? Adaptive?.MinNumberOfAllocations ?? 1);

    /// <inheritdoc />
    public override JsonObject ToServiceSettings()
    {
        var json = new JsonObject();
        if (NumAllocations is { } allocations)
        {
            json["num_allocations"] = allocations;
        }

        json["num_threads"] = NumThreads;
        json["model_id"] = ModelId;
        if (Adaptive is { } adaptive)
        {
            var a = new JsonObject { ["enabled"] = adaptive.Enabled };
            if (adaptive.MinNumberOfAllocations is { } min)
            {
                a["min_number_of_allocations"] = min;
            }

            if (adaptive.MaxNumberOfAllocations is { } max)
            {
                a["max_number_of_allocations"] = max;
            }

            json["adaptive_allocations"] = a;
        }

        if (DeploymentId is { } deployment)
        {
            json["deployment_id"] = deployment;
        }

        return json;
    }
}

/// <summary><c>adaptive_allocations</c>.</summary>
/// <param name="Enabled">Whether allocations follow the load.</param>
/// <param name="MinNumberOfAllocations">The floor (0 by default).</param>
/// <param name="MaxNumberOfAllocations">The ceiling.</param>
public sealed record AdaptiveAllocations(bool Enabled, int? MinNumberOfAllocations, int? MaxNumberOfAllocations);

/// <summary>
/// The <c>elasticsearch</c> service: models on WebConsole's embedded host. Endpoints of an organization get deployments
/// of their own (the deployment id is prefixed with the organization), except reserved endpoints, whose identical
/// settings everywhere let all organizations share one deployment per model. Thread-safe.
/// </summary>
public sealed class ElasticsearchInferenceService(
    EmbeddedInferenceHost host, ModelRegistry models, BuiltInModels builtIns, ModelProvisioner provisioner, IOptions<BatchingOptions> batching) : IInferenceService
{
    /// <summary>The service name.</summary>
    public const string ServiceName = "elasticsearch";

    /// <summary>Most threads per allocation.</summary>
    public const int MaxThreads = 32;

    private const string LinuxSuffix = "_linux-x86_64";

    private static readonly TaskType[] EncoderTasks = [TaskType.TextEmbedding, TaskType.SparseEmbedding, TaskType.Rerank];

    /// <inheritdoc />
    public string Name => ServiceName;

    /// <inheritdoc />
    public IReadOnlyList<TaskType> SupportedTaskTypes { get; } = TaskTypes.All;

    /// <inheritdoc />
    public IReadOnlySet<string> SecretFields { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <inheritdoc />
    public ServiceConfiguration Configuration { get; } = new(
        ServiceName,
        "Elasticsearch",
        TaskTypes.All,
        [
            KeyValuePair.Create("model_id", new ServiceSettingField(
                "Model ID", "The id of the model to deploy (built-in, imported or in the model store).",
                Required: true, Sensitive: false, Updatable: false, SettingFieldType.Text, null, TaskTypes.All)),
            KeyValuePair.Create("num_allocations", new ServiceSettingField(
                "Number Allocations", "The total number of allocations this model is assigned (not with adaptive allocations).",
                Required: false, Sensitive: false, Updatable: true, SettingFieldType.Number, (JsonNode)1, TaskTypes.All)),
            KeyValuePair.Create("num_threads", new ServiceSettingField(
                "Number Threads", "Threads per allocation: a power of 2, at most 32.",
                Required: true, Sensitive: false, Updatable: false, SettingFieldType.Number, (JsonNode)1, TaskTypes.All)),
            KeyValuePair.Create("adaptive_allocations", new ServiceSettingField(
                "Adaptive Allocations", "{enabled, min_number_of_allocations, max_number_of_allocations}: allocations follow the load, down to the minimum after 15 minutes idle.",
                Required: false, Sensitive: false, Updatable: true, SettingFieldType.Map, null, TaskTypes.All)),
            KeyValuePair.Create("deployment_id", new ServiceSettingField(
                "Deployment ID", "Reuse an existing deployment of the same model instead of the endpoint's own.",
                Required: false, Sensitive: false, Updatable: false, SettingFieldType.Text, null, TaskTypes.All)),
        ]);

    /// <summary>The registry id of a model id (the <c>_linux-x86_64</c> aliases of built-in models resolved).</summary>
    public static string Canonical(string modelId) =>
        modelId.StartsWith('.') && modelId.EndsWith(LinuxSuffix, StringComparison.Ordinal) ? modelId[..^LinuxSuffix.Length] : modelId;

    /// <inheritdoc />
    public bool SupportsStreaming(TaskType taskType) => taskType is TaskType.Completion or TaskType.ChatCompletion;

    /// <inheritdoc />
    public EndpointSettings Parse(TaskType taskType, JsonObject serviceSettings, JsonObject? taskSettings)
    {
        ArgumentNullException.ThrowIfNull(serviceSettings);
        var map = new JsonSettings(serviceSettings, "service_settings");
        var modelId = map.RequiredString("model_id");
        var numAllocations = map.OptionalInt("num_allocations");
        var numThreads = map.OptionalInt("num_threads");
        AdaptiveAllocations? adaptive = null;
        if (map.OptionalObject("adaptive_allocations") is { } adaptiveMap)
        {
            adaptive = new AdaptiveAllocations(
                adaptiveMap.OptionalBool("enabled") ?? false,
                adaptiveMap.OptionalInt("min_number_of_allocations"),
                adaptiveMap.OptionalInt("max_number_of_allocations"));
            adaptiveMap.ThrowIfNotEmpty(ServiceName);
        }

        var deploymentId = map.OptionalString("deployment_id");
        map.ThrowIfNotEmpty(ServiceName);

        if (numThreads is null)
        {
            throw InferenceApiException.MissingSetting("num_threads");
        }

        if (numThreads < 1 || numThreads > MaxThreads || !BitOperations.IsPow2(numThreads.Value))
        {
            throw InferenceApiException.BadRequest($"[num_threads] must be a power of 2 less than or equal to {MaxThreads}");
        }

        if (numAllocations is < 1)
        {
            throw InferenceApiException.BadRequest($"[service_settings] Invalid value [{numAllocations}]. [num_allocations] must be a positive integer");
        }

        if (adaptive is { Enabled: true })
        {
            if (numAllocations is not null)
            {
                throw InferenceApiException.BadRequest("[num_allocations] cannot be set if adaptive allocations is enabled");
            }

            if (adaptive.MinNumberOfAllocations is < 0)
            {
                throw InferenceApiException.BadRequest("[min_number_of_allocations] must be a non-negative integer");
            }

            if (adaptive.MaxNumberOfAllocations is < 1)
            {
                throw InferenceApiException.BadRequest("[max_number_of_allocations] must be a positive integer");
            }

            if (adaptive.MaxNumberOfAllocations < (adaptive.MinNumberOfAllocations ?? 0))
            {
                throw InferenceApiException.BadRequest("[max_number_of_allocations] must be greater than or equal to [min_number_of_allocations]");
            }
        }
        else if (numAllocations is null)
        {
            throw InferenceApiException.BadRequest(
                "[service_settings] does not contain one of the required settings [num_allocations, adaptive_allocations]");
        }

        return new ElasticsearchEndpointSettings
        {
            TaskType = taskType,
            TaskSettings = ParseTaskSettings(taskType, taskSettings, ServiceName),
            ModelId = modelId,
            NumAllocations = numAllocations,
            NumThreads = numThreads.Value,
            Adaptive = adaptive,
            DeploymentId = deploymentId,
        };
    }

    /// <summary>
    /// The task settings of the embedded host's endpoints: rerank takes <c>return_documents</c>; anything else is an
    /// unknown setting of <paramref name="service"/>.
    /// </summary>
    internal static JsonObject ParseTaskSettings(TaskType taskType, JsonObject? taskSettings, string service)
    {
        var tasks = new JsonSettings(taskSettings, "task_settings");
        var parsed = new JsonObject();
        if (taskType == TaskType.Rerank && tasks.OptionalBool("return_documents") is { } returnDocuments)
        {
            parsed["return_documents"] = returnDocuments;
        }

        tasks.ThrowIfNotEmpty(service);
        return parsed;
    }

    /// <inheritdoc />
    public void ValidateNew(EndpointSettings settings)
    {
        var typed = (ElasticsearchEndpointSettings)settings;
        var modelId = typed.CanonicalModelId;
        if (builtIns.Find(modelId) is { } builtIn)
        {
            // Built-in models are downloaded or built on first use; only their task type can be checked now.
            var fits = builtIn.TaskType == typed.TaskType
                || (builtIn.TaskType is TaskType.ChatCompletion && typed.TaskType is TaskType.Completion);
            if (!fits)
            {
                throw InferenceApiException.BadRequest($"Model [{typed.ModelId}] does not support task type [{typed.TaskType.ToWireName()}]");
            }

            return;
        }

        ModelFolder? folder;
        try
        {
            folder = models.TryGet(modelId, out var found) ? found : null;
        }
        catch (Inference.Abstractions.ModelUnavailableException ex)
        {
            throw InferenceApiException.BadRequest($"Could not deploy model [{typed.ModelId}]: {ex.Message}");
        }

        if (folder is null)
        {
            throw InferenceApiException.BadRequest($"Could not deploy model [{typed.ModelId}] as the model cannot be found.");
        }

        var isDecoder = folder.Config.Architectures.Any(a => a.EndsWith("ForCausalLM", StringComparison.Ordinal));
        if (isDecoder != typed.TaskType is TaskType.Completion or TaskType.ChatCompletion)
        {
            throw InferenceApiException.BadRequest(
                $"Model [{typed.ModelId}] does not support task type [{typed.TaskType.ToWireName()}]");
        }
    }

    /// <inheritdoc />
    public Task PrepareAsync(EndpointSettings settings, CancellationToken cancellationToken) =>
        provisioner.EnsureAsync(((ElasticsearchEndpointSettings)settings).CanonicalModelId, cancellationToken);

    /// <inheritdoc />
    public string? OwnDeploymentOf(InferenceEndpoint endpoint, EndpointSettings settings) =>
        endpoint.IsReserved ? null : DeploymentIdOf(endpoint, (ElasticsearchEndpointSettings)settings);

    /// <inheritdoc />
    public Task StopDeploymentAsync(string deploymentId) => host.Deployments.RemoveAsync(deploymentId);

    /// <inheritdoc />
    public void OnUpdated(InferenceEndpoint endpoint, EndpointSettings settings)
    {
        var typed = (ElasticsearchEndpointSettings)settings;
        host.Deployments.UpdateAllocations(DeploymentIdOf(endpoint, typed), typed.Allocations);
    }

    /// <inheritdoc />
    public IInferenceClient CreateClient(InferenceEndpoint endpoint, EndpointSettings settings)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var typed = (ElasticsearchEndpointSettings)settings;
        var deployment = new DeploymentSettings
        {
            DeploymentId = DeploymentIdOf(endpoint, typed),
            ModelId = typed.CanonicalModelId,
            ThreadsPerAllocation = typed.NumThreads,
            Allocations = typed.Allocations,
            Batching = batching.Value,
        };
        return CreateEmbeddedClient(host, typed.TaskType, deployment);
    }

    /// <summary>The embedded host's client of a task type over a deployment.</summary>
    internal static IInferenceClient CreateEmbeddedClient(EmbeddedInferenceHost host, TaskType taskType, DeploymentSettings deployment) => taskType switch
    {
        TaskType.TextEmbedding => new InferenceClient { TextEmbedding = host.GetTextEmbedding(deployment) },
        TaskType.SparseEmbedding => new InferenceClient { SparseEmbedding = host.GetSparseEmbedding(deployment) },
        TaskType.Rerank => new InferenceClient { Rerank = host.GetReranker(deployment) },
        TaskType.Completion => new InferenceClient { Completion = host.GetGenerator(deployment) },
        _ => new InferenceClient { ChatCompletion = host.GetGenerator(deployment) },
    };

    /// <summary>
    /// The host's deployment id: reserved endpoints share one deployment per id across organizations; others are kept
    /// apart by an organization prefix, so two tenants' <c>my-e5</c> never collide.
    /// </summary>
    public static string DeploymentIdOf(InferenceEndpoint endpoint, ElasticsearchEndpointSettings settings)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(settings);
        var id = settings.DeploymentId ?? endpoint.InferenceId.Value;
        return endpoint.IsReserved ? id : $"{OrganizationPrefix(endpoint.OrganizationId)}{id}";
    }

    /// <summary>The prefix of an organization's deployment ids.</summary>
    public static string OrganizationPrefix(Guid organizationId) => $"{organizationId:N}:";
}
