using System.Globalization;
using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Infrastructure.Connectors.Cohere;

/// <summary>
/// <c>cohere</c>: text_embedding (<c>/v2/embed</c>), rerank (<c>/v2/rerank</c>) and completion (<c>/v2/chat</c>, streamed
/// as Cohere's server-sent events) on Cohere's V2 API, as Elasticsearch creates new Cohere endpoints. Settings as
/// Elasticsearch names them: <c>api_key</c>, <c>model_id</c> (or the older <c>model</c>), <c>url</c> (a base URL in place of
/// Cohere's), <c>similarity</c>,
/// <c>dimensions</c>, <c>max_input_tokens</c>, <c>embedding_type</c>, <c>rate_limit</c> (10,000 a minute by default);
/// task settings <c>input_type</c> and <c>truncate</c> (text_embedding), <c>top_n</c>, <c>return_documents</c> and
/// <c>max_chunks_per_doc</c> (rerank). Elasticsearch gives Cohere no chat_completion. Thread-safe.
/// </summary>
public sealed class CohereInferenceService(ProviderHttpClients clients) : IInferenceService
{
    /// <summary>The service name.</summary>
    public const string ServiceName = "cohere";

    /// <summary>Cohere's API.</summary>
    public static readonly Uri DefaultBaseUrl = new("https://api.cohere.ai");

    /// <summary>Elasticsearch's default rate (Cohere's production key limit).</summary>
    public const int DefaultRequestsPerMinute = 10_000;

    private static readonly string[] EmbeddingTypes = ["binary", "bit", "byte", "float", "int8"];
    private static readonly string[] Truncations = ["end", "none", "start"];

    /// <inheritdoc />
    public string Name => ServiceName;

    /// <inheritdoc />
    public IReadOnlyList<TaskType> SupportedTaskTypes { get; } = [TaskType.TextEmbedding, TaskType.Rerank, TaskType.Completion];

    /// <inheritdoc />
    public ServiceConfiguration Configuration { get; } = BuildConfiguration();

    /// <inheritdoc />
    public IReadOnlySet<string> SecretFields { get; } = new HashSet<string>(["api_key"], StringComparer.Ordinal);

    /// <inheritdoc />
    public bool SupportsStreaming(TaskType taskType) => taskType == TaskType.Completion;

    /// <inheritdoc />
    public EndpointSettings Parse(TaskType taskType, JsonObject serviceSettings, JsonObject? taskSettings)
    {
        ArgumentNullException.ThrowIfNull(serviceSettings);
        ConnectorSettings.RequireTaskType(Name, SupportedTaskTypes, taskType);
        var map = new JsonSettings(serviceSettings, "service_settings");
        var modelId = map.OptionalString("model_id");
        var oldModel = map.OptionalString("model");
        var apiKey = map.RequiredString("api_key");
        var url = ConnectorSettings.Url(map);
        var similarity = ConnectorSettings.Similarity(map);
        var dimensions = ConnectorSettings.PositiveInt(map, "dimensions");
        var maxInputTokens = ConnectorSettings.PositiveInt(map, "max_input_tokens");
        var embeddingType = taskType == TaskType.TextEmbedding
            ? ConnectorSettings.OneOf(map, "embedding_type", EmbeddingTypes, "service_settings") ?? "float"
            : null;
        var rate = RateLimitSetting.Read(map, DefaultRequestsPerMinute, Name);
        map.ThrowIfNotEmpty(Name);
        var model = modelId ?? oldModel
            ?? throw InferenceApiException.BadRequest("Validation Failed: 1: The [service_settings.model_id] field is required for the Cohere V2 API.;");

        var tasks = new JsonSettings(taskSettings, "task_settings");
        var parsed = new JsonObject();
        switch (taskType)
        {
            case TaskType.TextEmbedding:
                ConnectorSettings.AddIfPresent(parsed, "input_type", ConnectorSettings.OneOf(tasks, "input_type", ConnectorSettings.InputTypes, "task_settings"));
                ConnectorSettings.AddIfPresent(parsed, "truncate", ConnectorSettings.OneOf(tasks, "truncate", Truncations, "task_settings")?.ToUpperInvariant());
                break;
            case TaskType.Rerank:
                ConnectorSettings.AddIfPresent(parsed, "top_n", ConnectorSettings.PositiveInt(tasks, "top_n", "task_settings"));
                ConnectorSettings.AddIfPresent(parsed, "return_documents", tasks.OptionalBool("return_documents"));
                ConnectorSettings.AddIfPresent(parsed, "max_chunks_per_doc", ConnectorSettings.PositiveInt(tasks, "max_chunks_per_doc", "task_settings"));
                break;
        }

        tasks.ThrowIfNotEmpty(Name);
        return new CohereSettings
        {
            TaskType = taskType,
            TaskSettings = parsed,
            ModelId = model,
            ApiKey = apiKey,
            Url = url,
            Similarity = similarity,
            Dimensions = dimensions,
            MaxInputTokens = maxInputTokens,
            EmbeddingType = embeddingType,
            RequestsPerMinute = rate,
        };
    }

    /// <summary>
    /// Calls Cohere once, as Elasticsearch does on create: the key is checked, and a text_embedding endpoint learns its
    /// dimensions (bits for <c>bit</c> embeddings) and gets <c>dot_product</c> similarity unless one was given.
    /// </summary>
    public Task<EndpointSettings> CompleteNewAsync(string inferenceId, EndpointSettings settings, CancellationToken cancellationToken)
    {
        var typed = (CohereSettings)settings;
        return ConnectorSettings.ProbeAsync<EndpointSettings>(async () =>
        {
            using var http = clients.Create(ConnectorSettings.CallOptions(clients, Name, $"probe:{Name}:{inferenceId}", inferenceId, typed.RequestsPerMinute));
            var client = CreateWireClient(inferenceId, typed, http);
            switch (typed.TaskType)
            {
                case TaskType.TextEmbedding:
                    var probe = await client.GenerateAsync([ConnectorSettings.ProbeInput], null, cancellationToken).ConfigureAwait(false);
                    var size = probe.Embeddings[0].Vector.Length * (typed.IsBits ? 8 : 1);
                    if (size == 0)
                    {
                        throw client.Call.Malformed("the probe's embedding is empty");
                    }

                    if (typed.Dimensions is { } stated && stated != size)
                    {
                        throw ConnectorSettings.DimensionsMismatch(size, stated, inferenceId);
                    }

                    return typed with { Dimensions = size, Similarity = typed.Similarity ?? "dot_product" };
                case TaskType.Rerank:
                    await client.RerankAsync(ConnectorSettings.ProbeQuery, [ConnectorSettings.ProbeInput], null, cancellationToken).ConfigureAwait(false);
                    return typed;
                default:
                    await client.CompleteAsync(ConnectorSettings.ProbeInput, null, cancellationToken).ConfigureAwait(false);
                    return typed;
            }
        });
    }

    /// <inheritdoc />
    public IInferenceClient CreateClient(InferenceEndpoint endpoint, EndpointSettings settings)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var typed = (CohereSettings)settings;
        var inferenceId = endpoint.InferenceId.Value;
        var http = clients.Create(ConnectorSettings.CallOptions(clients, Name, $"{endpoint.OrganizationId:N}/{inferenceId}", inferenceId, typed.RequestsPerMinute));
        var client = CreateWireClient(inferenceId, typed, http);
        return typed.TaskType switch
        {
            TaskType.TextEmbedding => new InferenceClient { TextEmbedding = client },
            TaskType.Rerank => new InferenceClient { Rerank = client },
            _ => new InferenceClient { Completion = client },
        };
    }

    internal CohereClient CreateWireClient(string inferenceId, CohereSettings settings, HttpClient http) =>
        new(settings, settings.Url is { } url ? new Uri(url) : ConnectorSettings.BaseUrl(clients, Name, DefaultBaseUrl),
            new ProviderJsonCall(http, inferenceId, [settings.ApiKey], [KeyValuePair.Create("Authorization", $"Bearer {settings.ApiKey}")]));

    private static ServiceConfiguration BuildConfiguration()
    {
        TaskType[] all = [TaskType.TextEmbedding, TaskType.Rerank, TaskType.Completion];
        TaskType[] embeddings = [TaskType.TextEmbedding];
        KeyValuePair<string, ServiceSettingField> Field(string key, string label, string description, bool required, bool sensitive, bool updatable, SettingFieldType type, JsonNode? defaultValue, TaskType[] taskTypes) =>
            KeyValuePair.Create(key, new ServiceSettingField(label, description, required, sensitive, updatable, type, defaultValue, taskTypes));
        return new ServiceConfiguration(ServiceName, "Cohere", all,
        [
            Field("api_key", "API Key", "The Cohere API key; kept encrypted and never shown again.", true, true, true, SettingFieldType.Text, null, all),
            Field("model_id", "Model ID", "The name of the Cohere model to use (required by Cohere's V2 API).", true, false, false, SettingFieldType.Text, null, all),
            Field("url", "URL", "The base URL to send requests to instead of Cohere's API (e.g. a gateway).", false, false, false, SettingFieldType.Text, DefaultBaseUrl.ToString(), all),
            Field("embedding_type", "Embedding Type", "The type of embeddings to return: float (the default), byte or int8 (signed bytes), bit or binary (packed bits).",
                false, false, false, SettingFieldType.Text, "float", embeddings),
            Field("dimensions", "Dimensions", "The number of dimensions of the embeddings; found with a probe call when the endpoint is created.",
                false, false, false, SettingFieldType.Number, null, embeddings),
            Field("similarity", "Similarity", "The similarity measure: cosine, dot_product (the default) or l2_norm.", false, false, false, SettingFieldType.Text, "dot_product", embeddings),
            Field("max_input_tokens", "Maximum Input Tokens", "Allows you to specify the maximum number of tokens per input.", false, false, false, SettingFieldType.Number, null, all),
            RateLimitSetting.Field(all, string.Create(CultureInfo.InvariantCulture, $"Default: {DefaultRequestsPerMinute}.")),
        ]);
    }
}

/// <summary>Typed settings of a <c>cohere</c> endpoint.</summary>
public sealed record CohereSettings : EndpointSettings
{
    /// <summary>The Cohere model.</summary>
    public required string ModelId { get; init; }

    /// <summary>The API key (secret).</summary>
    public required string ApiKey { get; init; }

    /// <summary>
    /// The tenant's <c>url</c>: a base URL that replaces Cohere's (and the operator's) as in Elasticsearch, or a full request
    /// URL ending in the task's path. The outbound address guard applies to it.
    /// </summary>
    public string? Url { get; init; }

    /// <summary>The vector similarity.</summary>
    public string? Similarity { get; init; }

    /// <summary>The embedding size: the tenant's, or what the probe found.</summary>
    public int? Dimensions { get; init; }

    /// <summary>The model's input limit, as the tenant states it.</summary>
    public int? MaxInputTokens { get; init; }

    /// <summary>text_embedding: <c>float</c>, <c>byte</c>/<c>int8</c> or <c>bit</c>/<c>binary</c>.</summary>
    public string? EmbeddingType { get; init; }

    /// <summary>The outbound rate.</summary>
    public required int RequestsPerMinute { get; init; }

    /// <summary>Cohere's <c>embedding_types</c> value of <see cref="EmbeddingType"/>.</summary>
    public string WireEmbeddingType => EmbeddingType switch
    {
        "byte" or "int8" => "int8",
        "bit" or "binary" => "binary",
        _ => "float",
    };

    /// <summary>Whether embeddings come as packed bits (eight dimensions a value).</summary>
    public bool IsBits => WireEmbeddingType == "binary";

    /// <inheritdoc />
    public override JsonObject ToServiceSettings()
    {
        var json = new JsonObject { ["model_id"] = ModelId };
        ConnectorSettings.AddIfPresent(json, "url", Url);
        ConnectorSettings.AddIfPresent(json, "similarity", Similarity);
        ConnectorSettings.AddIfPresent(json, "dimensions", Dimensions);
        ConnectorSettings.AddIfPresent(json, "max_input_tokens", MaxInputTokens);
        ConnectorSettings.AddIfPresent(json, "embedding_type", EmbeddingType);
        json[RateLimitSetting.Key] = RateLimitSetting.ToJson(RequestsPerMinute);
        json["api_key"] = ApiKey;
        return json;
    }
}
