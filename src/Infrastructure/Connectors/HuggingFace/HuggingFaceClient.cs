using System.Text.Json.Nodes;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Connectors.OpenAi;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Infrastructure.Connectors.HuggingFace;

/// <summary>
/// Calls one Hugging Face Inference Endpoint in its wire formats (see <see cref="HuggingFaceInferenceService"/>); chat goes
/// through the OpenAI-compatible client. Errors follow Elasticsearch's Hugging Face rules: 429, 502 and 503 (a model
/// still loading) are rate limits, other 5xx server errors. Thread-safe.
/// </summary>
internal sealed class HuggingFaceClient : IDenseEmbeddingGenerator, ISparseEmbeddingGenerator, IReranker
{
    private readonly string _inferenceId;
    private readonly HuggingFaceSettings _settings;
    private readonly HttpClient _http;
    private readonly Uri _uri;
    private readonly KeyValuePair<string, string>[] _headers;
    private readonly string[] _secrets;

    public HuggingFaceClient(string inferenceId, HuggingFaceSettings settings, HttpClient http)
    {
        _inferenceId = inferenceId;
        _settings = settings;
        _http = http;
        _uri = new Uri(settings.Url);
        _headers = [KeyValuePair.Create("Authorization", $"Bearer {settings.ApiKey}")];
        _secrets = [settings.ApiKey];
        Chat = new OpenAiWireClient(new OpenAiTarget
        {
            Service = HuggingFaceInferenceService.ServiceName,
            InferenceId = inferenceId,
            ChatUri = _uri,
            Model = settings.ModelId,
            Headers = _headers,
            ApiKey = settings.ApiKey,
            UsesMaxCompletionTokens = false,
            RequestsStreamUsage = true,
            Secrets = _secrets,
        }, http);
    }

    /// <summary>completion and chat_completion: the endpoint's OpenAI-compatible chat.</summary>
    internal IOpenAiChatBackend Chat { get; }

    /// <inheritdoc />
    public async Task<DenseEmbeddingResult> GenerateAsync(IReadOnlyList<string> inputs, EmbeddingOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var answer = await PostAsync(new JsonObject { ["inputs"] = Strings(inputs) }, cancellationToken).ConfigureAwait(false);
        var list = answer switch
        {
            JsonArray array => array,
            JsonObject { } wrapped when wrapped["embeddings"] is JsonArray inner => inner,
            _ => throw ProviderJson.Malformed(_inferenceId, "expected an array of embeddings or an object with [embeddings]"),
        };
        if (list.Count != inputs.Count || list.Any(e => e is not JsonArray))
        {
            throw ProviderJson.Malformed(_inferenceId, $"expected {inputs.Count} embeddings, got {list.Count}");
        }

        var embeddings = list.Select(e => new DenseEmbedding(
            [.. e!.AsArray().Select(v => ProviderJson.Float(v) ?? throw ProviderJson.Malformed(_inferenceId, "an embedding holds a value that is not a number"))],
            IsTruncated: false)).ToList();
        return new DenseEmbeddingResult(embeddings, new UsageDetails(inputs.Sum(OpenAiTarget.EstimateTokens), 0));
    }

    /// <inheritdoc />
    async Task<SparseEmbeddingResult> ISparseEmbeddingGenerator.GenerateAsync(IReadOnlyList<string> inputs, EmbeddingOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var answer = await PostAsync(new JsonObject { ["inputs"] = Strings(inputs) }, cancellationToken).ConfigureAwait(false);
        if (answer is not JsonArray list || list.Count != inputs.Count || list.Any(e => e is not JsonObject))
        {
            throw ProviderJson.Malformed(_inferenceId, $"expected {inputs.Count} objects of token weights");
        }

        var embeddings = list.Select(e => new SparseEmbedding(
            [.. e!.AsObject()
                .Select(p => KeyValuePair.Create(p.Key, ProviderJson.Float(p.Value) ?? throw ProviderJson.Malformed(_inferenceId, $"the weight of token [{p.Key}] is not a number")))
                .Where(p => p.Value > 0)
                .OrderByDescending(p => p.Value)],
            IsTruncated: false)).ToList();
        return new SparseEmbeddingResult(embeddings, new UsageDetails(inputs.Sum(OpenAiTarget.EstimateTokens), 0));
    }

    /// <inheritdoc />
    public async Task<RerankResult> RerankAsync(string query, IReadOnlyList<string> documents, RerankOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(documents);
        var body = new JsonObject { ["query"] = query, ["texts"] = Strings(documents), ["return_text"] = false };
        if ((options?.TopN ?? _settings.TopN) is { } topN)
        {
            body["top_n"] = topN;
        }

        var answer = await PostAsync(body, cancellationToken).ConfigureAwait(false);
        if (answer is not JsonArray list)
        {
            throw ProviderJson.Malformed(_inferenceId, "expected an array of ranked documents");
        }

        var ranked = new List<RerankedDocument>(list.Count);
        foreach (var item in list)
        {
            var index = ProviderJson.Int(item?["index"]);
            var score = ProviderJson.Float(item?["score"] ?? item?["relevance_score"]);
            if (index is not { } i || i < 0 || i >= documents.Count || score is not { } s)
            {
                throw ProviderJson.Malformed(_inferenceId, "a ranked document lacks a valid [index] or [score]");
            }

            ranked.Add(new RerankedDocument(i, s));
        }

        var usage = new UsageDetails(OpenAiTarget.EstimateTokens(query) * documents.Count + documents.Sum(OpenAiTarget.EstimateTokens), 0);
        return new RerankResult([.. ranked.OrderByDescending(d => d.RelevanceScore).ThenBy(d => d.Index)], usage);
    }

    /// <summary>The error of a failed answer, by Elasticsearch's Hugging Face rules.</summary>
    internal static InferenceApiException Error(int status, string body, string inferenceId, IReadOnlyList<string> secrets)
    {
        var message = ProviderErrors.ExtractMessage(body);
        var prefix = status switch
        {
            429 or 502 or 503 => ProviderErrors.RateLimit,
            >= 500 => ProviderErrors.ServerError,
            413 => ProviderErrors.ContentTooLarge,
            401 => ProviderErrors.Authentication,
            >= 300 and < 400 => ProviderErrors.Redirection,
            _ => ProviderErrors.Unsuccessful,
        };
        return ProviderErrors.WithPrefix(prefix, status, inferenceId, message, secrets);
    }

    private async Task<JsonNode?> PostAsync(JsonObject body, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await ProviderJson.SendAsync(_http, HttpMethod.Post, _uri, body, _headers, stream: false,
                (failed, text) => Error((int)failed.StatusCode, text, _inferenceId, _secrets), cancellationToken).ConfigureAwait(false);
            return await ProviderJson.ReadAsync(response, _inferenceId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ProviderJson.Map(_inferenceId, _secrets, ex, streamStarted: false) is { } mapped)
        {
            throw mapped;
        }
    }

    private static JsonArray Strings(IReadOnlyList<string> values) => new([.. values.Select(v => (JsonNode)v)]);
}
