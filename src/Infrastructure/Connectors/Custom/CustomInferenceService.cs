using System.Globalization;
using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Infrastructure.Connectors.Custom;

/// <summary>
/// The <c>custom</c> service (Elasticsearch's custom inference service): any provider with a JSON-over-HTTP API, described
/// by a url, headers, query parameters and a request template, with secret parameters kept encrypted and JSONPath
/// parsers for the answers. Serves text_embedding, sparse_embedding, rerank and completion; it does not stream (405).
/// Singleton, thread-safe.
/// </summary>
public sealed class CustomInferenceService(ProviderHttpClients clients) : IInferenceService
{
    /// <summary>The service name.</summary>
    public const string ServiceName = "custom";

    private const string ProbeInput = "how big";

    private static readonly TaskType[] Tasks = [TaskType.TextEmbedding, TaskType.SparseEmbedding, TaskType.Rerank, TaskType.Completion];
    private static readonly TaskType[] TextEmbeddingOnly = [TaskType.TextEmbedding];

    /// <inheritdoc />
    public string Name => ServiceName;

    /// <inheritdoc />
    public IReadOnlyList<TaskType> SupportedTaskTypes => Tasks;

    /// <inheritdoc />
    public IReadOnlySet<string> SecretFields { get; } = new HashSet<string>(StringComparer.Ordinal) { CustomEndpointSettings.SecretParametersKey };

    /// <inheritdoc />
    public ServiceConfiguration Configuration { get; } = new(
        ServiceName,
        "Custom",
        Tasks,
        [
            Field("url", "URL", "The provider's URL the requests are POSTed to; may use ${placeholders} of secret and task parameters.",
                required: true, SettingFieldType.Text),
            Field("headers", "Headers", "HTTP headers by name, e.g. {\"Authorization\": \"Bearer ${api_key}\"}; Content-Type defaults to application/json.",
                required: false, SettingFieldType.Map),
            Field("query_parameters", "Query parameters", "A list of [key, value] pairs appended to the URL, e.g. [[\"api-version\", \"2024-01\"]].",
                required: false, SettingFieldType.List),
            Field("request", "Request", "The request body template, e.g. {\"input\": ${input}, \"model\": ${model}}; ${input}, ${input_type}, ${query}, ${top_n} and ${return_documents} render as JSON.",
                required: true, SettingFieldType.Text),
            Field("response", "Response", "{\"json_parser\": {...}}: JSONPath to the results, e.g. {\"text_embeddings\": \"$.data[*].embedding\"}; sparse: token_path, weight_path; rerank: relevance_score, reranked_index, document_text; completion: completion_result.",
                required: true, SettingFieldType.Map),
            KeyValuePair.Create(CustomEndpointSettings.SecretParametersKey, new ServiceSettingField(
                "Secret parameters", "Secret values by name (e.g. api_key), usable as ${name} in the templates; kept encrypted and never shown.",
                Required: false, Sensitive: true, Updatable: true, SettingFieldType.Map, null, Tasks)),
            Field("input_type", "Input type", "{\"translation\": {\"ingest\": \"...\", \"search\": \"...\"}, \"default\": \"...\"}: the provider's words that ${input_type} renders.",
                required: false, SettingFieldType.Map),
            KeyValuePair.Create("batch_size", new ServiceSettingField(
                "Batch size", "Most inputs sent to the provider in one request.",
                Required: false, Sensitive: false, Updatable: false, SettingFieldType.Number, (JsonNode)CustomEndpointSettings.DefaultBatchSize, Tasks)),
            RateLimitSetting.Field(Tasks, $"Default: {CustomEndpointSettings.DefaultRequestsPerMinute}."),
            KeyValuePair.Create("similarity", new ServiceSettingField(
                "Similarity", "cosine, dot_product or l2_norm.",
                Required: false, Sensitive: false, Updatable: false, SettingFieldType.Text, null, TextEmbeddingOnly)),
            KeyValuePair.Create("dimensions", new ServiceSettingField(
                "Dimensions", "The embedding size; discovered with one call when the endpoint is created.",
                Required: false, Sensitive: false, Updatable: false, SettingFieldType.Number, null, TextEmbeddingOnly)),
            KeyValuePair.Create("max_input_tokens", new ServiceSettingField(
                "Maximum input tokens", "The most tokens an input may have.",
                Required: false, Sensitive: false, Updatable: false, SettingFieldType.Number, null, TextEmbeddingOnly)),
        ]);

    /// <inheritdoc />
    public bool SupportsStreaming(TaskType taskType) => false;

    /// <inheritdoc />
    public EndpointSettings Parse(TaskType taskType, JsonObject serviceSettings, JsonObject? taskSettings)
    {
        if (!Tasks.Contains(taskType))
        {
            throw InferenceApiException.BadRequest($"The [{ServiceName}] service does not support task type [{taskType.ToWireName()}]");
        }

        return CustomEndpointSettings.Parse(taskType, serviceSettings, taskSettings);
    }

    /// <summary>
    /// Calls the provider once, as Elasticsearch does when an endpoint is created (its probe: the input <c>how big</c>;
    /// for rerank the query <c>test query</c> with <c>top_n</c> 1 and <c>return_documents</c> true): the url, credentials,
    /// templates and parser are checked against the real provider, and a text_embedding endpoint learns its dimensions
    /// (given ones must match) and gets <c>dot_product</c> similarity unless one was given. A failing call is a 400 that
    /// keeps the provider's error; nothing is stored.
    /// </summary>
    public async Task<EndpointSettings> CompleteNewAsync(string inferenceId, EndpointSettings settings, CancellationToken cancellationToken)
    {
        var typed = (CustomEndpointSettings)settings;
        using var http = clients.Create(CallOptions($"probe:{inferenceId}", inferenceId, typed, clients.Options.AttemptTimeout));
        var client = new CustomInferenceClient(http, typed, inferenceId);
        try
        {
            switch (typed.TaskType)
            {
                case TaskType.TextEmbedding:
                    var probe = await client.TextEmbedding!.GenerateAsync([ProbeInput], new() { InputType = InputType.Ingest }, cancellationToken);
                    var size = ((TextEmbeddingResponseParser)typed.Response).DimensionsOf(probe.Embeddings[0].Vector.Length);
                    if (size == 0)
                    {
                        throw new InferenceApiException(502, InferenceApiException.StatusExceptionType, "the probe's embedding is empty");
                    }

                    if (typed.Dimensions is { } given && given != size)
                    {
                        throw InferenceApiException.BadRequest(string.Create(CultureInfo.InvariantCulture,
                            $"The retrieved embeddings size [{size}] does not match the size specified in the settings [{given}]. Please recreate the [{inferenceId}] configuration with the correct dimensions"));
                    }

                    return typed with { Dimensions = size, Similarity = typed.Similarity ?? "dot_product" };
                case TaskType.SparseEmbedding:
                    await client.SparseEmbedding!.GenerateAsync([ProbeInput], new() { InputType = InputType.Ingest }, cancellationToken);
                    return typed;
                case TaskType.Rerank:
                    await client.Rerank!.RerankAsync("test query", [ProbeInput], new RerankOptions { TopN = 1, ReturnDocuments = true }, cancellationToken);
                    return typed;
                default:
                    await client.Completion!.CompleteAsync(ProbeInput, null, cancellationToken);
                    return typed;
            }
        }
        catch (InferenceApiException ex) when (!ex.Reason.StartsWith("The retrieved embeddings size", StringComparison.Ordinal))
        {
            throw new InferenceApiException(400, InferenceApiException.StatusExceptionType,
                $"Could not complete inference endpoint creation as validation call to service threw an exception. {ex.Reason}", ex);
        }
    }

    /// <inheritdoc />
    public IInferenceClient CreateClient(InferenceEndpoint endpoint, EndpointSettings settings)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var typed = (CustomEndpointSettings)settings;
        return new CustomInferenceClient(clients.Create(CallOptions(endpoint.Id.ToString("N"), endpoint.InferenceId.Value, typed, clients.Options.AttemptTimeout)), typed, endpoint.InferenceId.Value);
    }

    /// <summary>
    /// How calls of an endpoint behave: throttled per endpoint at its <c>rate_limit</c>, each attempt bounded by the
    /// operator's attempt timeout, and the headers that carry a secret parameter kept out of logs.
    /// </summary>
    internal static ProviderCallOptions CallOptions(string endpointKey, string inferenceId, CustomEndpointSettings settings, TimeSpan attemptTimeout)
    {
        var secretHeaders = settings.Headers
            .Where(h => h.Value.Placeholders.Any(settings.SecretParameters.ContainsKey))
            .Select(h => h.Key)
            .ToList();
        return new ProviderCallOptions(ServiceName, $"{ServiceName}:{endpointKey}", settings.RequestsPerMinute, attemptTimeout)
        {
            InferenceId = inferenceId,
            SecretHeaders = secretHeaders,
        };
    }

    private static KeyValuePair<string, ServiceSettingField> Field(string key, string label, string description, bool required, SettingFieldType type) =>
        KeyValuePair.Create(key, new ServiceSettingField(label, description, required, Sensitive: false, Updatable: false, type, null, Tasks));
}
