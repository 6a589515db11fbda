using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;

namespace WebConsole.Infrastructure.Endpoints;

/// <summary>
/// One inference service (<c>elasticsearch</c>, later <c>elastic</c>, <c>openai</c>, ...): its configuration schema, the
/// parser of its settings into typed, validated <see cref="EndpointSettings"/>, and the factory of clients. Services are
/// registered in DI as <see cref="IInferenceService"/>; a new one appears in <c>_services</c> by being registered.
/// Implementations are singletons and thread-safe.
/// </summary>
public interface IInferenceService
{
    /// <summary>The wire name, e.g. <c>elasticsearch</c>.</summary>
    string Name { get; }

    /// <summary>The task types the service can serve.</summary>
    IReadOnlyList<TaskType> SupportedTaskTypes { get; }

    /// <summary>The configuration schema that <c>GET /_inference/_services</c> returns and the portal's form is built from.</summary>
    ServiceConfiguration Configuration { get; }

    /// <summary>Names of secret service settings (kept encrypted, never echoed), e.g. <c>api_key</c>.</summary>
    IReadOnlySet<string> SecretFields { get; }

    /// <summary>Whether <c>_stream</c> is allowed for the task type.</summary>
    bool SupportsStreaming(TaskType taskType);

    /// <summary>
    /// Parses and validates settings (secrets included) for a task type; throws <see cref="InferenceApiException"/> with the
    /// contract's messages (unknown keys by name, missing required settings, invalid values, unsupported task type).
    /// </summary>
    EndpointSettings Parse(TaskType taskType, JsonObject serviceSettings, JsonObject? taskSettings);

    /// <summary>
    /// Checks what only a new endpoint must satisfy (the model exists, suits the task type); throws
    /// <see cref="InferenceApiException"/>. Stored endpoints are not re-checked, so a model removed later answers 503.
    /// </summary>
    void ValidateNew(EndpointSettings settings)
    {
    }

    /// <summary>
    /// Checks what only the provider can tell about a new endpoint (e.g. that its credentials work); throws
    /// <see cref="InferenceApiException"/>, and then nothing is stored.
    /// </summary>
    Task ValidateNewAsync(EndpointSettings settings, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// The settings a new endpoint is stored with: <paramref name="settings"/> checked with the provider and completed with
    /// what it told (e.g. the dimensions of a text_embedding model, found with one probe call as Elasticsearch does).
    /// Runs after <see cref="ValidateNew"/>; the default runs <see cref="ValidateNewAsync"/> and keeps the settings.
    /// </summary>
    async Task<EndpointSettings> CompleteNewAsync(string inferenceId, EndpointSettings settings, CancellationToken cancellationToken)
    {
        await ValidateNewAsync(settings, cancellationToken).ConfigureAwait(false);
        return settings;
    }

    /// <summary>
    /// Readies what the endpoint runs on before a client is created: e.g. downloads or builds its model on first use.
    /// Cancelling ends the wait (the request's timeout), not shared work such as a download, which goes on.
    /// </summary>
    /// <exception cref="Models.ModelNotReadyException">The wait ended before the model was ready (the contract's 408).</exception>
    Task PrepareAsync(EndpointSettings settings, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Applies changed settings of a stored endpoint to what runs (e.g. allocations of its deployment).</summary>
    void OnUpdated(InferenceEndpoint endpoint, EndpointSettings settings)
    {
    }

    /// <summary>
    /// The deployment of the embedded host the endpoint runs on, when it owns one that ends with it (shared deployments
    /// of the managed service and external services answer null).
    /// </summary>
    string? OwnDeploymentOf(InferenceEndpoint endpoint, EndpointSettings settings) => null;

    /// <summary>Stops a deployment no endpoint uses any more (its allocations are freed).</summary>
    Task StopDeploymentAsync(string deploymentId) => Task.CompletedTask;

    /// <summary>The client that serves <paramref name="endpoint"/> with its parsed <paramref name="settings"/>.</summary>
    IInferenceClient CreateClient(InferenceEndpoint endpoint, EndpointSettings settings);
}

/// <summary>
/// Typed, validated settings of one endpoint, produced by <see cref="IInferenceService.Parse"/>. Services derive their own
/// records; the base carries what every caller needs.
/// </summary>
public abstract record EndpointSettings
{
    /// <summary>The endpoint's task type.</summary>
    public required TaskType TaskType { get; init; }

    /// <summary>The task settings (validated; an empty object when none).</summary>
    public JsonObject TaskSettings { get; init; } = [];

    /// <summary>The canonical service settings to store (secrets included; the caller splits them off).</summary>
    public abstract JsonObject ToServiceSettings();
}

/// <summary>The clients of one endpoint: the property of its task type is set, the others are null.</summary>
public interface IInferenceClient
{
    /// <summary>text_embedding.</summary>
    IDenseEmbeddingGenerator? TextEmbedding { get; }

    /// <summary>sparse_embedding.</summary>
    ISparseEmbeddingGenerator? SparseEmbedding { get; }

    /// <summary>rerank.</summary>
    IReranker? Rerank { get; }

    /// <summary>completion.</summary>
    ITextCompletionClient? Completion { get; }

    /// <summary>chat_completion.</summary>
    IChatClient? ChatCompletion { get; }
}

/// <summary>A plain <see cref="IInferenceClient"/>.</summary>
public sealed record InferenceClient : IInferenceClient
{
    /// <inheritdoc />
    public IDenseEmbeddingGenerator? TextEmbedding { get; init; }

    /// <inheritdoc />
    public ISparseEmbeddingGenerator? SparseEmbedding { get; init; }

    /// <inheritdoc />
    public IReranker? Rerank { get; init; }

    /// <inheritdoc />
    public ITextCompletionClient? Completion { get; init; }

    /// <inheritdoc />
    public IChatClient? ChatCompletion { get; init; }
}

/// <summary>The registered services by name.</summary>
public interface IInferenceServiceRegistry
{
    /// <summary>Every registered service, sorted by name.</summary>
    IReadOnlyList<IInferenceService> All { get; }

    /// <summary>The service of that name, or null.</summary>
    IInferenceService? Find(string name);
}

/// <summary>The registry over the DI-registered <see cref="IInferenceService"/>s.</summary>
public sealed class InferenceServiceRegistry(IEnumerable<IInferenceService> services) : IInferenceServiceRegistry
{
    private readonly Dictionary<string, IInferenceService> _byName = services.ToDictionary(s => s.Name, StringComparer.Ordinal);

    /// <inheritdoc />
    public IReadOnlyList<IInferenceService> All => [.. _byName.Values.OrderBy(s => s.Name, StringComparer.Ordinal)];

    /// <inheritdoc />
    public IInferenceService? Find(string name) => _byName.GetValueOrDefault(name);
}
