using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WebConsole.Domain.Catalog;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Deployments;
using WebConsole.Inference.Hosting;
using WebConsole.Inference.Models;
using WebConsole.Infrastructure.Catalog;
using WebConsole.Infrastructure.Connectors.ElasticRemote;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Models;

namespace WebConsole.Infrastructure.Endpoints;

/// <summary>Typed settings of the <c>elastic</c> service.</summary>
public sealed record ElasticEndpointSettings : EndpointSettings
{
    /// <summary>
    /// The managed model: a catalog id (served by the backend the operator gave it), or a built-in or store model of this
    /// installation served on the embedded host. Usage records carry it, so prices set for a catalog id apply.
    /// </summary>
    public required string ModelId { get; init; }

    /// <inheritdoc />
    public override JsonObject ToServiceSettings() => new() { ["model_id"] = ModelId };
}

/// <summary>
/// The <c>elastic</c> service: the managed inference service that WebConsole itself is. Tenants name a model: a catalog
/// id, which runs on the backend the operator assigned it (an embedded model, or an upstream service with the operator's
/// credentials, which tenants never see), or a built-in or store model id. Models on the embedded host run on one
/// deployment per model shared by every organization (1 thread, adaptive allocations 0..32), so a tenant's endpoint costs
/// nothing while idle. A catalog model past its end-of-life date answers 410 on create and on every request.
/// <para>
/// With <c>url</c> (and <c>inference_id</c> and the secret <c>api_key</c>) an endpoint is served by another WebConsole (or
/// Elasticsearch) installation instead: every call goes to that installation's <c>/_inference</c> with its key, through the
/// outbound core (address guard, throttle, retries, timeouts). It is an ordinary client call there: admitted, limited and
/// billed on that key, whichever installation makes it (pointing one at this same installation bypasses nothing; it is one
/// more call, billed again). The operator may give a catalog model such an upstream as its backend.
/// </para>
/// Thread-safe.
/// </summary>
public sealed class ElasticInferenceService(
    EmbeddedInferenceHost host,
    ModelRegistry models,
    BuiltInModels builtIns,
    ModelProvisioner provisioner,
    IOptions<BatchingOptions> batching,
    ManagedCatalog catalog,
    CatalogBackendSecrets backendSecrets,
    IServiceProvider serviceProvider) : IInferenceService
{
    /// <summary>The service name.</summary>
    public const string ServiceName = "elastic";

    /// <summary>The organization the connections of upstream backends are made in: the installation's own, not a tenant's.</summary>
    public static readonly Guid BackendOrganizationId = new("00000000-0000-4000-8000-0000000ca7a1");

    // Parsed upstream settings per catalog model and task type, valid while the backend is the same assignment.
    private readonly ConcurrentDictionary<(string CatalogId, TaskType TaskType), ParsedUpstream> _upstreams = new();
    private IInferenceServiceRegistry? _registry;
    private ProviderHttpClients? _clients;

    /// <inheritdoc />
    public string Name => ServiceName;

    /// <inheritdoc />
    public IReadOnlyList<TaskType> SupportedTaskTypes { get; } = TaskTypes.All;

    /// <inheritdoc />
    public IReadOnlySet<string> SecretFields { get; } = new HashSet<string>([RemoteElasticSettings.ApiKeyKey], StringComparer.Ordinal);

    /// <inheritdoc />
    public ServiceConfiguration Configuration { get; } = new(
        ServiceName,
        "Elastic",
        TaskTypes.All,
        [
            KeyValuePair.Create("model_id", new ServiceSettingField(
                "Model ID", "The managed model to use: a catalog id (served by the backend the operator assigned it), or a built-in or imported model of this installation. Required unless [url] names another installation.",
                Required: false, Sensitive: false, Updatable: false, SettingFieldType.Text, null, TaskTypes.All)),
            KeyValuePair.Create(RemoteElasticSettings.UrlKey, new ServiceSettingField(
                "URL", "The base URL of another WebConsole (or Elasticsearch) installation that serves this endpoint, e.g. https://inference.example.com. With it, [inference_id] and [api_key] are required and [model_id] is not allowed; without it, the model runs here.",
                Required: false, Sensitive: false, Updatable: false, SettingFieldType.Text, null, TaskTypes.All)),
            KeyValuePair.Create(RemoteElasticSettings.InferenceIdKey, new ServiceSettingField(
                "Upstream Inference ID", "With [url]: the id of the endpoint on the other installation, of the same task type, that answers this endpoint's requests.",
                Required: false, Sensitive: false, Updatable: false, SettingFieldType.Text, null, TaskTypes.All)),
            KeyValuePair.Create(RemoteElasticSettings.ApiKeyKey, new ServiceSettingField(
                "API Key", "With [url]: an encoded API key of the other installation, sent as Authorization: ApiKey. The other installation admits, limits and bills every call on this key.",
                Required: false, Sensitive: true, Updatable: true, SettingFieldType.Text, null, TaskTypes.All)),
            RateLimitSetting.Field(TaskTypes.All, "With [url] only; unthrottled by default (the other installation enforces its own limits on the key)."),
        ]);

    // The registry holds this service, so taking it in the constructor would be a dependency cycle: it is resolved on first use.
    private IInferenceServiceRegistry Registry => _registry ??= serviceProvider.GetRequiredService<IInferenceServiceRegistry>();

    private ProviderHttpClients Clients => _clients ??= serviceProvider.GetRequiredService<ProviderHttpClients>();

    /// <summary>The shared deployment of a managed model.</summary>
    public static string DeploymentIdOf(string modelId) => $"{ServiceName}/{modelId}";

    /// <summary>
    /// The task type of an embedded model (built-in, or in the model store), or null when the installation has no such
    /// model or cannot read it.
    /// </summary>
    public static TaskType? EmbeddedTaskType(BuiltInModels builtIns, ModelRegistry models, string modelId)
    {
        ArgumentNullException.ThrowIfNull(builtIns);
        ArgumentNullException.ThrowIfNull(models);
        if (builtIns.Find(modelId) is { } builtIn)
        {
            return builtIn.TaskType;
        }

        try
        {
            return models.TryGet(modelId, out var folder) ? ModelInspector.Inspect(folder).TaskType : null;
        }
        catch (Inference.Abstractions.ModelUnavailableException)
        {
            return null;
        }
    }

    /// <summary>Whether a model of <paramref name="modelTask"/> can serve an endpoint of <paramref name="endpointTask"/> (completion runs on chat models).</summary>
    public static bool Serves(TaskType modelTask, TaskType endpointTask) =>
        modelTask == endpointTask || (modelTask is TaskType.ChatCompletion && endpointTask is TaskType.Completion);

    /// <summary>
    /// The connection an upstream backend's client is made for: the installation's own endpoint of the catalog model, the
    /// same for every tenant (so an outbound throttle or a deployment is per backend), and a new one when the backend is
    /// assigned again. It carries no secrets; the client gets them in its parsed settings.
    /// </summary>
    public static InferenceEndpoint BackendEndpoint(CatalogBackend backend, TaskType taskType)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{backend.CatalogModelId}\n{backend.UpdatedAt.UtcTicks}"));
        return InferenceEndpoint.Create(
            new Guid(hash.AsSpan(0, 16)), BackendOrganizationId, InferenceId.Parse(BackendConnectionId(backend.CatalogModelId)), taskType, backend.UpstreamService!,
            backend.UpstreamServiceSettings ?? "{}", null, backend.UpstreamTaskSettings, null, backend.UpdatedAt);
    }

    /// <summary>The inference id of a catalog model's upstream connection, e.g. <c>catalog.openai-gpt-4.1</c>.</summary>
    public static string BackendConnectionId(string catalogModelId)
    {
        ArgumentNullException.ThrowIfNull(catalogModelId);
        var name = $"catalog.{catalogModelId.TrimStart('.')}";
        return InferenceId.TryParse(name, out _)
            ? name
            : $"catalog-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(catalogModelId)))[..16]}";
    }

    /// <inheritdoc />
    public bool SupportsStreaming(TaskType taskType) => taskType is TaskType.Completion or TaskType.ChatCompletion;

    /// <inheritdoc />
    public EndpointSettings Parse(TaskType taskType, JsonObject serviceSettings, JsonObject? taskSettings)
    {
        ArgumentNullException.ThrowIfNull(serviceSettings);
        if (serviceSettings.ContainsKey(RemoteElasticSettings.UrlKey))
        {
            return RemoteElasticSettings.Parse(taskType, serviceSettings, taskSettings, ServiceName);
        }

        // Named without the value: an API key given by mistake must not come back in the error.
        foreach (var remoteOnly in new[] { RemoteElasticSettings.InferenceIdKey, RemoteElasticSettings.ApiKeyKey, RateLimitSetting.Key })
        {
            if (serviceSettings.ContainsKey(remoteOnly))
            {
                throw InferenceApiException.BadRequest(
                    $"[service_settings] [{remoteOnly}] is only allowed together with [url], which names another installation that serves the endpoint");
            }
        }

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
        if (settings is RemoteElasticSettings)
        {
            return;
        }

        var typed = (ElasticEndpointSettings)settings;
        if (catalog.Find(typed.ModelId) is { } entry)
        {
            catalog.EnsureServing(entry.Model);
            if (!Serves(entry.Model.TaskType, typed.TaskType))
            {
                throw InferenceApiException.BadRequest($"Model [{typed.ModelId}] does not support task type [{typed.TaskType.ToWireName()}]");
            }

            if (entry.Backend is { Kind: CatalogBackendKind.Upstream } backend && Registry.Find(backend.UpstreamService!) is { } upstream
                && !upstream.SupportedTaskTypes.Contains(typed.TaskType))
            {
                throw InferenceApiException.BadRequest(
                    $"Catalog model [{typed.ModelId}] is served by the [{upstream.Name}] service, which does not support task type [{typed.TaskType.ToWireName()}]");
            }

            Route(entry, typed.TaskType, creating: true);
            return;
        }

        var modelTask = EmbeddedTaskType(builtIns, models, typed.ModelId)
            ?? throw InferenceApiException.BadRequest($"Model [{typed.ModelId}] is not available from the [{ServiceName}] service on this installation");
        if (!Serves(modelTask, typed.TaskType))
        {
            throw InferenceApiException.BadRequest($"Model [{typed.ModelId}] does not support task type [{typed.TaskType.ToWireName()}]");
        }
    }

    /// <inheritdoc />
    public async Task<EndpointSettings> CompleteNewAsync(string inferenceId, EndpointSettings settings, CancellationToken cancellationToken)
    {
        if (settings is not RemoteElasticSettings remote)
        {
            return settings;
        }

        // The other installation's own view of its endpoint (a read, not billed): the address, the key, the endpoint and
        // its task type are checked before anything is stored.
        using var http = Clients.Create(RemoteCallOptions($"probe:{ServiceName}:{inferenceId}", inferenceId, remote));
        try
        {
            await new RemoteWebConsoleClient(inferenceId, remote, http).ProbeAsync(cancellationToken);
            return remote;
        }
        catch (InferenceApiException ex)
        {
            throw new InferenceApiException(400, InferenceApiException.StatusExceptionType,
                $"Could not complete inference endpoint creation as validation call to service threw an exception. {ex.Reason}", ex);
        }
    }

    /// <inheritdoc />
    public async Task PrepareAsync(EndpointSettings settings, CancellationToken cancellationToken)
    {
        if (settings is RemoteElasticSettings)
        {
            return;
        }

        var typed = (ElasticEndpointSettings)settings;

        // The one place every request of the service passes (create and every surface, through the endpoint resolver)
        // before anything runs: a model past its EOL date starts no deployment and calls no provider.
        var entry = await catalog.FindAsync(typed.ModelId, cancellationToken);
        switch (entry is null ? new EmbeddedRoute(typed.ModelId) : Route(entry, typed.TaskType, creating: false))
        {
            case EmbeddedRoute embedded:
                await provisioner.EnsureAsync(embedded.ModelId, cancellationToken);
                break;
            case UpstreamRoute upstream:
                await upstream.Service.PrepareAsync(upstream.Settings, cancellationToken);
                break;
        }
    }

    /// <inheritdoc />
    public IInferenceClient CreateClient(InferenceEndpoint endpoint, EndpointSettings settings)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (settings is RemoteElasticSettings remote)
        {
            var inferenceId = endpoint.InferenceId.Value;
            var client = new RemoteWebConsoleClient(inferenceId, remote, Clients.Create(RemoteCallOptions($"{endpoint.OrganizationId:N}/{inferenceId}", inferenceId, remote)));
            return remote.TaskType switch
            {
                TaskType.TextEmbedding => new InferenceClient { TextEmbedding = client },
                TaskType.SparseEmbedding => new InferenceClient { SparseEmbedding = client },
                TaskType.Rerank => new InferenceClient { Rerank = client },
                TaskType.Completion => new InferenceClient { Completion = client },
                _ => new InferenceClient { ChatCompletion = client },
            };
        }

        var typed = (ElasticEndpointSettings)settings;
        var entry = catalog.Find(typed.ModelId);
        var route = entry is null ? new EmbeddedRoute(typed.ModelId) : Route(entry, typed.TaskType, creating: false);
        if (route is UpstreamRoute upstream)
        {
            return upstream.Service.CreateClient(BackendEndpoint(upstream.Backend, typed.TaskType), upstream.Settings);
        }

        var modelId = ((EmbeddedRoute)route).ModelId;
        return ElasticsearchInferenceService.CreateEmbeddedClient(host, typed.TaskType, new DeploymentSettings
        {
            DeploymentId = DeploymentIdOf(modelId),
            ModelId = modelId,
            ThreadsPerAllocation = 1,
            Allocations = AllocationSettings.Adaptive(0, 32),
            Batching = batching.Value,
        });
    }

    /// <summary>
    /// Parses an upstream backend's settings with its service, as they are stored (the secrets restored); throws the
    /// service's <see cref="InferenceApiException"/> when they are invalid. For the operator's validation and the request path.
    /// </summary>
    public (IInferenceService Service, EndpointSettings Settings) ParseUpstream(CatalogBackend backend, TaskType taskType)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var service = Registry.Find(backend.UpstreamService ?? string.Empty)
            ?? throw new InferenceApiException(503, InferenceApiException.StatusExceptionType,
                $"Service [{backend.UpstreamService}] is not available on this installation");
        var serviceSettings = backendSecrets.Merge(backend.UpstreamServiceSettings, backend.UpstreamSecretSettings);
        return (service, service.Parse(taskType, serviceSettings, EndpointJson.ParseObject(backend.UpstreamTaskSettings)));
    }

    // What serves a catalog model: 410 past its EOL date; its backend; a catalog row that is itself a model of this
    // installation (the built-in models, the demo chat model) runs on that model until the operator assigns another.
    private BackendRoute Route(CatalogEntry entry, TaskType taskType, bool creating)
    {
        catalog.EnsureServing(entry.Model);
        var backend = entry.Backend;
        if (backend is null)
        {
            if (EmbeddedTaskType(builtIns, models, entry.Model.Id) is not null)
            {
                return new EmbeddedRoute(entry.Model.Id);
            }

            var reason = $"Catalog model [{entry.Model.Id}] has no backend on this installation; an operator must assign one";
            throw creating ? InferenceApiException.BadRequest(reason) : new InferenceApiException(503, InferenceApiException.StatusExceptionType, reason);
        }

        if (backend.Kind == CatalogBackendKind.Embedded)
        {
            return new EmbeddedRoute(backend.EmbeddedModelId!);
        }

        var key = (entry.Model.Id, taskType);
        if (_upstreams.TryGetValue(key, out var cached) && cached.Version == backend.UpdatedAt && cached.Service == Registry.Find(backend.UpstreamService!))
        {
            return new UpstreamRoute(backend, cached.Service, cached.Settings);
        }

        IInferenceService service;
        EndpointSettings settings;
        try
        {
            (service, settings) = ParseUpstream(backend, taskType);
        }
        catch (Exception ex) when (ex is InferenceApiException or Domain.DomainValidationException or System.Text.Json.JsonException
            or CryptographicException)
        {
            // The operator's settings are not shown to tenants, not even in an error: the reason stays in the server's log.
            throw new InferenceApiException(503, InferenceApiException.StatusExceptionType,
                $"The backend of catalog model [{entry.Model.Id}] cannot serve task type [{taskType.ToWireName()}]; an operator must check it", ex);
        }

        _upstreams[key] = new ParsedUpstream(backend.UpdatedAt, service, settings);
        return new UpstreamRoute(backend, service, settings);
    }

    private ProviderCallOptions RemoteCallOptions(string throttleKey, string inferenceId, RemoteElasticSettings settings) =>
        new(ServiceName, throttleKey, settings.RequestsPerMinute, Clients.Options.AttemptTimeout) { InferenceId = inferenceId };

    private abstract record BackendRoute;

    private sealed record EmbeddedRoute(string ModelId) : BackendRoute;

    private sealed record UpstreamRoute(CatalogBackend Backend, IInferenceService Service, EndpointSettings Settings) : BackendRoute;

    private sealed record ParsedUpstream(DateTimeOffset Version, IInferenceService Service, EndpointSettings Settings);
}
