using System.Globalization;
using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Infrastructure.Connectors.JinaAi;

/// <summary>
/// <c>jinaai</c>: text_embedding (<c>/v1/embeddings</c>) and rerank (<c>/v1/rerank</c>) on Jina AI's API. Settings as
/// Elasticsearch names them: <c>api_key</c>, <c>model_id</c>, <c>similarity</c>, <c>dimensions</c> (sent when the
/// tenant sets it), <c>max_input_tokens</c>, <c>embedding_type</c> (<c>float</c>, <c>bit</c>/<c>binary</c>),
/// <c>rate_limit</c> (2,000 a minute by default); task settings <c>input_type</c> and <c>late_chunking</c>
/// (text_embedding), <c>top_n</c> and <c>return_documents</c> (rerank). Thread-safe.
/// </summary>
public sealed class JinaAiInferenceService(ProviderHttpClients clients) : IInferenceService
{
    /// <summary>The service name.</summary>
    public const string ServiceName = "jinaai";

    /// <summary>Jina AI's API.</summary>
    public static readonly Uri DefaultBaseUrl = new("https://api.jina.ai");

    /// <summary>Elasticsearch's default rate.</summary>
    public const int DefaultRequestsPerMinute = 2_000;

    private static readonly string[] EmbeddingTypes = ["binary", "bit", "float"];

    /// <inheritdoc />
    public string Name => ServiceName;

    /// <inheritdoc />
    public IReadOnlyList<TaskType> SupportedTaskTypes { get; } = [TaskType.TextEmbedding, TaskType.Rerank];

    /// <inheritdoc />
    public ServiceConfiguration Configuration { get; } = BuildConfiguration();

    /// <inheritdoc />
    public IReadOnlySet<string> SecretFields { get; } = new HashSet<string>(["api_key"], StringComparer.Ordinal);

    /// <inheritdoc />
    public bool SupportsStreaming(TaskType taskType) => false;

    /// <inheritdoc />
    public EndpointSettings Parse(TaskType taskType, JsonObject serviceSettings, JsonObject? taskSettings)
    {
        ArgumentNullException.ThrowIfNull(serviceSettings);
        ConnectorSettings.RequireTaskType(Name, SupportedTaskTypes, taskType);
        var map = new JsonSettings(serviceSettings, "service_settings");
        var model = map.RequiredString("model_id");
        var apiKey = map.RequiredString("api_key");
        string? similarity = null, embeddingType = null;
        int? dimensions = null;
        var setByUser = false;
        if (taskType == TaskType.TextEmbedding)
        {
            similarity = ConnectorSettings.Similarity(map);
            dimensions = ConnectorSettings.PositiveInt(map, "dimensions");
            setByUser = map.OptionalBool("dimensions_set_by_user") ?? dimensions is not null;
            embeddingType = ConnectorSettings.OneOf(map, "embedding_type", EmbeddingTypes, "service_settings") ?? "float";
        }

        var maxInputTokens = ConnectorSettings.PositiveInt(map, "max_input_tokens");
        var rate = RateLimitSetting.Read(map, DefaultRequestsPerMinute, Name);
        map.ThrowIfNotEmpty(Name);

        var tasks = new JsonSettings(taskSettings, "task_settings");
        var parsed = new JsonObject();
        if (taskType == TaskType.TextEmbedding)
        {
            ConnectorSettings.AddIfPresent(parsed, "input_type", ConnectorSettings.OneOf(tasks, "input_type", ConnectorSettings.InputTypes, "task_settings"));
            ConnectorSettings.AddIfPresent(parsed, "late_chunking", tasks.OptionalBool("late_chunking"));
        }
        else
        {
            ConnectorSettings.AddIfPresent(parsed, "top_n", ConnectorSettings.PositiveInt(tasks, "top_n", "task_settings"));
            ConnectorSettings.AddIfPresent(parsed, "return_documents", tasks.OptionalBool("return_documents"));
        }

        tasks.ThrowIfNotEmpty(Name);
        return new JinaAiSettings
        {
            TaskType = taskType,
            TaskSettings = parsed,
            ModelId = model,
            ApiKey = apiKey,
            Similarity = similarity,
            Dimensions = dimensions,
            DimensionsSetByUser = setByUser && dimensions is not null,
            MaxInputTokens = maxInputTokens,
            EmbeddingType = embeddingType,
            RequestsPerMinute = rate,
        };
    }

    /// <summary>Calls Jina AI once on create: the key is checked, and a text_embedding endpoint learns its dimensions.</summary>
    public Task<EndpointSettings> CompleteNewAsync(string inferenceId, EndpointSettings settings, CancellationToken cancellationToken)
    {
        var typed = (JinaAiSettings)settings;
        return ConnectorSettings.ProbeAsync<EndpointSettings>(async () =>
        {
            using var http = clients.Create(ConnectorSettings.CallOptions(clients, Name, $"probe:{Name}:{inferenceId}", inferenceId, typed.RequestsPerMinute));
            var client = CreateWireClient(inferenceId, typed, http);
            if (typed.TaskType == TaskType.Rerank)
            {
                await client.RerankAsync(ConnectorSettings.ProbeQuery, [ConnectorSettings.ProbeInput], null, cancellationToken).ConfigureAwait(false);
                return typed;
            }

            var probe = await client.GenerateAsync([ConnectorSettings.ProbeInput], null, cancellationToken).ConfigureAwait(false);
            var size = probe.Embeddings[0].Vector.Length * (typed.IsBits ? 8 : 1);
            if (size == 0)
            {
                throw client.Call.Malformed("the probe's embedding is empty");
            }

            if (typed.DimensionsSetByUser && typed.Dimensions != size)
            {
                throw ConnectorSettings.DimensionsMismatch(size, typed.Dimensions!.Value, inferenceId);
            }

            return typed with { Dimensions = size, Similarity = typed.Similarity ?? "dot_product" };
        });
    }

    /// <inheritdoc />
    public IInferenceClient CreateClient(InferenceEndpoint endpoint, EndpointSettings settings)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var typed = (JinaAiSettings)settings;
        var inferenceId = endpoint.InferenceId.Value;
        var http = clients.Create(ConnectorSettings.CallOptions(clients, Name, $"{endpoint.OrganizationId:N}/{inferenceId}", inferenceId, typed.RequestsPerMinute));
        var client = CreateWireClient(inferenceId, typed, http);
        return typed.TaskType == TaskType.Rerank ? new InferenceClient { Rerank = client } : new InferenceClient { TextEmbedding = client };
    }

    internal JinaAiClient CreateWireClient(string inferenceId, JinaAiSettings settings, HttpClient http) =>
        new(settings, ConnectorSettings.BaseUrl(clients, Name, DefaultBaseUrl),
            new ProviderJsonCall(http, inferenceId, [settings.ApiKey], [KeyValuePair.Create("Authorization", $"Bearer {settings.ApiKey}")]));

    private static ServiceConfiguration BuildConfiguration()
    {
        TaskType[] all = [TaskType.TextEmbedding, TaskType.Rerank];
        TaskType[] embeddings = [TaskType.TextEmbedding];
        KeyValuePair<string, ServiceSettingField> Field(string key, string label, string description, bool required, bool sensitive, SettingFieldType type, JsonNode? defaultValue, TaskType[] taskTypes) =>
            KeyValuePair.Create(key, new ServiceSettingField(label, description, required, sensitive, sensitive, type, defaultValue, taskTypes));
        return new ServiceConfiguration(ServiceName, "Jina AI", all,
        [
            Field("api_key", "API Key", "The Jina AI API key; kept encrypted and never shown again.", true, true, SettingFieldType.Text, null, all),
            Field("model_id", "Model ID", "The name of the Jina AI model to use.", true, false, SettingFieldType.Text, null, all),
            Field("embedding_type", "Embedding Type", "The type of embeddings to return: float (the default), or bit/binary (packed bits).", false, false, SettingFieldType.Text, "float", embeddings),
            Field("dimensions", "Dimensions", "The number of dimensions the embeddings should have; found with a probe call when not set.", false, false, SettingFieldType.Number, null, embeddings),
            Field("similarity", "Similarity", "The similarity measure: cosine, dot_product (the default) or l2_norm.", false, false, SettingFieldType.Text, "dot_product", embeddings),
            Field("max_input_tokens", "Maximum Input Tokens", "Allows you to specify the maximum number of tokens per input.", false, false, SettingFieldType.Number, null, all),
            RateLimitSetting.Field(all, string.Create(CultureInfo.InvariantCulture, $"Default: {DefaultRequestsPerMinute}.")),
        ]);
    }
}

/// <summary>Typed settings of a <c>jinaai</c> endpoint.</summary>
public sealed record JinaAiSettings : EndpointSettings
{
    /// <summary>The Jina AI model.</summary>
    public required string ModelId { get; init; }

    /// <summary>The API key (secret).</summary>
    public required string ApiKey { get; init; }

    /// <summary>The vector similarity.</summary>
    public string? Similarity { get; init; }

    /// <summary>The embedding size: the tenant's, or what the probe found.</summary>
    public int? Dimensions { get; init; }

    /// <summary>Whether the tenant set <see cref="Dimensions"/> (then requests ask for that size).</summary>
    public bool DimensionsSetByUser { get; init; }

    /// <summary>The model's input limit, as the tenant states it.</summary>
    public int? MaxInputTokens { get; init; }

    /// <summary>text_embedding: <c>float</c>, or <c>bit</c>/<c>binary</c>.</summary>
    public string? EmbeddingType { get; init; }

    /// <summary>The outbound rate.</summary>
    public required int RequestsPerMinute { get; init; }

    /// <summary>Whether embeddings come as packed bits (eight dimensions a value).</summary>
    public bool IsBits => EmbeddingType is "bit" or "binary";

    /// <inheritdoc />
    public override JsonObject ToServiceSettings()
    {
        var json = new JsonObject { ["model_id"] = ModelId };
        ConnectorSettings.AddIfPresent(json, "similarity", Similarity);
        if (Dimensions is { } dimensions)
        {
            json["dimensions"] = dimensions;
            json["dimensions_set_by_user"] = DimensionsSetByUser;
        }

        ConnectorSettings.AddIfPresent(json, "max_input_tokens", MaxInputTokens);
        ConnectorSettings.AddIfPresent(json, "embedding_type", EmbeddingType);
        json[RateLimitSetting.Key] = RateLimitSetting.ToJson(RequestsPerMinute);
        json["api_key"] = ApiKey;
        return json;
    }
}

/// <summary>
/// Embeddings and rerank of one <c>jinaai</c> endpoint. Usage comes from Jina's <c>usage</c>, else is counted. Thread-safe.
/// </summary>
internal sealed class JinaAiClient(JinaAiSettings settings, Uri baseUrl, ProviderJsonCall call) : IDenseEmbeddingGenerator, IReranker
{
    /// <summary>The call helper.</summary>
    public ProviderJsonCall Call => call;

    /// <summary>Jina's <c>task</c> of an input type (the request's, else the task settings'); null when none is stated.</summary>
    public static string? TaskOf(InputType requested, string? taskSetting) =>
        (requested switch
        {
            InputType.Ingest => "ingest",
            InputType.Search => "search",
            InputType.Classification => "classification",
            InputType.Clustering => "clustering",
            _ => taskSetting,
        }) switch
        {
            "ingest" => "retrieval.passage",
            "search" => "retrieval.query",
            "classification" => "classification",
            "clustering" => "separation",
            _ => null,
        };

    /// <inheritdoc />
    public async Task<DenseEmbeddingResult> GenerateAsync(IReadOnlyList<string> inputs, EmbeddingOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var body = new JinaEmbeddingsRequest(
            settings.ModelId, inputs, settings.IsBits ? "binary" : "float",
            TaskOf(options?.InputType ?? InputType.Unspecified, settings.TaskSettings["input_type"]?.GetValue<string>()),
            settings.DimensionsSetByUser ? settings.Dimensions : null,
            settings.TaskSettings["late_chunking"]?.GetValue<bool>());
        var response = await call.PostAsync<JinaEmbeddingsRequest, JinaEmbeddingsResponse>(
            ConnectorSettings.Append(baseUrl, "/v1/embeddings"), body, JinaJson.Options, cancellationToken).ConfigureAwait(false);
        var data = response.Data ?? throw call.Malformed("no [data] in the embeddings response");
        if (data.Count != inputs.Count || data.Any(d => d.Embedding is null))
        {
            throw call.Malformed($"expected {inputs.Count} embeddings, got {data.Count(d => d.Embedding is not null)}");
        }

        var tokens = response.Usage?.PromptTokens ?? response.Usage?.TotalTokens ?? inputs.Sum(ConnectorSettings.EstimateTokens);
        return new DenseEmbeddingResult(
            [.. data.OrderBy(d => d.Index).Select(d => new DenseEmbedding(d.Embedding!, IsTruncated: false))], new UsageDetails(tokens, 0));
    }

    /// <inheritdoc />
    public async Task<RerankResult> RerankAsync(string query, IReadOnlyList<string> documents, RerankOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(documents);
        var topN = options?.TopN ?? settings.TaskSettings["top_n"]?.GetValue<int>();
        var returnDocuments = options?.ReturnDocuments ?? settings.TaskSettings["return_documents"]?.GetValue<bool>();
        var response = await call.PostAsync<JinaRerankRequest, JinaRerankResponse>(
            ConnectorSettings.Append(baseUrl, "/v1/rerank"), new JinaRerankRequest(settings.ModelId, query, documents, topN, returnDocuments),
            JinaJson.Options, cancellationToken).ConfigureAwait(false);
        var results = response.Results ?? throw call.Malformed("no [results] in the rerank response");
        if (results.Any(r => r.Index < 0 || r.Index >= documents.Count))
        {
            throw call.Malformed("a result's [index] is out of range");
        }

        var tokens = response.Usage?.TotalTokens ?? response.Usage?.PromptTokens
            ?? ConnectorSettings.EstimateTokens(query) * documents.Count + documents.Sum(ConnectorSettings.EstimateTokens);
        return new RerankResult(
            [.. results.Select(r => new RerankedDocument(r.Index, r.RelevanceScore)).OrderByDescending(d => d.RelevanceScore).ThenBy(d => d.Index)],
            new UsageDetails(tokens, 0));
    }
}
