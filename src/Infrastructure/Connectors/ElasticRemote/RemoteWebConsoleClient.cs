using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Connectors.OpenAi;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Infrastructure.Connectors.ElasticRemote;

/// <summary>
/// Calls an endpoint of another WebConsole (or Elasticsearch) installation through its Inference API:
/// <c>POST {url}/_inference/{task_type}/{inference_id}</c> and, for completion and chat_completion,
/// <c>.../_stream</c> (its server-sent events: <c>{"completion":[{"delta"}]}</c> or OpenAI chat chunks, then
/// <c>[DONE]</c>; <c>event: error</c> carries an Elasticsearch error). The key goes as <c>Authorization: ApiKey ...</c>.
/// Usage is the upstream's where it tells it (WebConsole's <c>x-webconsole-*-tokens</c> headers, a chat's <c>usage</c>,
/// a stream's final usage chunk), else counted (about four characters a token). Upstream errors keep their status (a
/// 4xx; a 5xx becomes 400, as with every provider), their type, and their reason inside Elasticsearch's provider message.
/// Thread-safe.
/// </summary>
internal sealed class RemoteWebConsoleClient : IDenseEmbeddingGenerator, ISparseEmbeddingGenerator, IReranker, ITextCompletionClient, IChatClient
{
    /// <summary>WebConsole's header of a request's input tokens.</summary>
    public const string InputTokensHeader = "x-webconsole-input-tokens";

    /// <summary>WebConsole's header of a request's output tokens.</summary>
    public const string OutputTokensHeader = "x-webconsole-output-tokens";

    private readonly string _inferenceId;
    private readonly RemoteElasticSettings _settings;
    private readonly HttpClient _http;
    private readonly KeyValuePair<string, string>[] _headers;
    private readonly string[] _secrets;

    public RemoteWebConsoleClient(string inferenceId, RemoteElasticSettings settings, HttpClient http)
    {
        _inferenceId = inferenceId;
        _settings = settings;
        _http = http;
        _headers = [KeyValuePair.Create("Authorization", $"ApiKey {settings.ApiKey}")];
        _secrets = [settings.ApiKey];
    }

    /// <summary>The upstream URL of the endpoint, or of its stream.</summary>
    internal Uri EndpointUri(bool stream = false)
    {
        var builder = new UriBuilder(_settings.Url);
        builder.Path = builder.Path.TrimEnd('/')
            + $"/_inference/{_settings.TaskType.ToWireName()}/{Uri.EscapeDataString(_settings.UpstreamInferenceId)}"
            + (stream ? "/_stream" : string.Empty);
        return builder.Uri;
    }

    /// <summary>
    /// Reads the upstream endpoint's configuration (<c>GET</c>, not billed): the key, the address and the endpoint and its
    /// task type are checked without running anything. Throws the mapped error.
    /// </summary>
    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await ProviderJson.SendAsync(_http, HttpMethod.Get, EndpointUri(), null, _headers, stream: false, Error, cancellationToken).ConfigureAwait(false);
            var answer = await ProviderJson.ReadAsync(response, _inferenceId, cancellationToken).ConfigureAwait(false);
            if (answer?["endpoints"] is not JsonArray { Count: > 0 } endpoints)
            {
                throw ProviderJson.Malformed(_inferenceId, "no [endpoints] in the upstream's answer");
            }

            if (ProviderJson.String(endpoints[0]?["task_type"]) is { } upstreamTask && upstreamTask != _settings.TaskType.ToWireName())
            {
                throw InferenceApiException.TaskTypeMismatch(_settings.TaskType.ToWireName(), upstreamTask);
            }
        }
        catch (Exception ex) when (ProviderJson.Map(_inferenceId, _secrets, ex, streamStarted: false) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <inheritdoc />
    public async Task<DenseEmbeddingResult> GenerateAsync(IReadOnlyList<string> inputs, EmbeddingOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (answer, usage) = await PostAsync(EmbeddingBody(inputs, options), cancellationToken).ConfigureAwait(false);
        var items = Items(answer, "text_embedding", inputs.Count);
        var embeddings = items.Select(item => new DenseEmbedding(
            item?["embedding"] is JsonArray vector
                ? [.. vector.Select(v => ProviderJson.Float(v) ?? throw ProviderJson.Malformed(_inferenceId, "an embedding holds a value that is not a number"))]
                : throw ProviderJson.Malformed(_inferenceId, "an item of [text_embedding] has no [embedding]"),
            IsTruncated: false)).ToList();
        return new DenseEmbeddingResult(embeddings, usage.InputTokens(inputs.Sum(OpenAiTarget.EstimateTokens)));
    }

    /// <inheritdoc />
    async Task<SparseEmbeddingResult> ISparseEmbeddingGenerator.GenerateAsync(IReadOnlyList<string> inputs, EmbeddingOptions? options, CancellationToken cancellationToken)
    {
        var (answer, usage) = await PostAsync(EmbeddingBody(inputs, options), cancellationToken).ConfigureAwait(false);
        var items = Items(answer, "sparse_embedding", inputs.Count);
        var embeddings = items.Select(item => new SparseEmbedding(
            item?["embedding"] is JsonObject weights
                ? [.. weights.Select(p => KeyValuePair.Create(p.Key, ProviderJson.Float(p.Value) ?? throw ProviderJson.Malformed(_inferenceId, $"the weight of token [{p.Key}] is not a number")))
                    .Where(p => p.Value > 0).OrderByDescending(p => p.Value)]
                : throw ProviderJson.Malformed(_inferenceId, "an item of [sparse_embedding] has no [embedding]"),
            item?["is_truncated"] is JsonValue truncated && truncated.TryGetValue<bool>(out var t) && t)).ToList();
        return new SparseEmbeddingResult(embeddings, usage.InputTokens(inputs.Sum(OpenAiTarget.EstimateTokens)));
    }

    /// <inheritdoc />
    public async Task<RerankResult> RerankAsync(string query, IReadOnlyList<string> documents, RerankOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(documents);

        // The documents' texts are the caller's own: the upstream need not send them back.
        var body = new JsonObject { ["query"] = query, ["input"] = Strings(documents), ["return_documents"] = false };
        if (options?.TopN is { } topN)
        {
            body["top_n"] = topN;
        }

        var (answer, usage) = await PostAsync(body, cancellationToken).ConfigureAwait(false);
        if (answer?["rerank"] is not JsonArray ranked)
        {
            throw ProviderJson.Malformed(_inferenceId, "no [rerank] in the upstream's answer");
        }

        var scored = ranked.Select(item =>
            ProviderJson.Int(item?["index"]) is { } index && index >= 0 && index < documents.Count && ProviderJson.Float(item?["relevance_score"]) is { } score
                ? new RerankedDocument(index, score)
                : throw ProviderJson.Malformed(_inferenceId, "a ranked document lacks a valid [index] or [relevance_score]")).ToList();
        var counted = (OpenAiTarget.EstimateTokens(query) * documents.Count) + documents.Sum(OpenAiTarget.EstimateTokens);
        return new RerankResult([.. scored.OrderByDescending(d => d.RelevanceScore).ThenBy(d => d.Index)], usage.InputTokens(counted));
    }

    /// <inheritdoc />
    public async Task<GenerationResponse> CompleteAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var (answer, usage) = await PostAsync(new JsonObject { ["input"] = prompt }, cancellationToken).ConfigureAwait(false);
        var text = answer?["completion"] is JsonArray { Count: > 0 } results && ProviderJson.String(results[0]?["result"]) is { } result
            ? result
            : throw ProviderJson.Malformed(_inferenceId, "no [completion] result in the upstream's answer");
        return new GenerationResponse(text, FinishReason.Stop, usage.Both(OpenAiTarget.EstimateTokens(prompt), OpenAiTarget.EstimateTokens(text)));
    }

    /// <inheritdoc />
    public IAsyncEnumerable<GenerationUpdate> CompleteStreamingAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        OpenAiStreams.MapErrors((ex, started) => ProviderJson.Map(_inferenceId, _secrets, ex, started),
            StreamCoreAsync(new JsonObject { ["input"] = prompt }, [new ChatMessage(ChatRole.User, prompt)], cancellationToken), cancellationToken);

    /// <inheritdoc />
    public async Task<GenerationResponse> GetResponseAsync(IReadOnlyList<ChatMessage> messages, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (answer, usage) = await PostAsync(ChatBody(messages, options), cancellationToken).ConfigureAwait(false);
        var choice = answer?["choices"] is JsonArray { Count: > 0 } choices ? choices[0] : throw ProviderJson.Malformed(_inferenceId, "no [choices] in the chat completion");
        var text = ProviderJson.String(choice?["message"]?["content"]) ?? string.Empty;
        var body = answer!["usage"];
        var reported = usage.Input is null && ProviderJson.Int(body?["prompt_tokens"]) is { } prompt
            ? new UsageDetails(prompt, ProviderJson.Int(body?["completion_tokens"]) ?? 0)
            : usage.Both(OpenAiTarget.EstimatePromptTokens(messages), OpenAiTarget.EstimateTokens(text));
        return new GenerationResponse(text, OpenAiFinishReasons.Parse(ProviderJson.String(choice?["finish_reason"])) ?? FinishReason.Stop, reported);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<GenerationUpdate> GetStreamingResponseAsync(IReadOnlyList<ChatMessage> messages, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        OpenAiStreams.MapErrors((ex, started) => ProviderJson.Map(_inferenceId, _secrets, ex, started),
            StreamCoreAsync(ChatBody(messages, options), messages, cancellationToken), cancellationToken);

    /// <summary>
    /// The error of an upstream answer: an Elasticsearch error envelope keeps its status (a 4xx; else 400), its type and
    /// its reason inside Elasticsearch's provider message; anything else is a provider error.
    /// </summary>
    internal InferenceApiException MapError(int status, string? type, string? reason, Uri? requestUri) =>
        ProviderErrors.WithPrefix(
            ProviderErrors.PrefixOf(status, reason, requestUri), status, _inferenceId, reason, _secrets,
            type is { Length: > 0 } && status is >= 400 and < 500 && ProviderErrors.ToRestStatus(status) == status ? type : null);

    private InferenceApiException Error(HttpResponseMessage response, string body)
    {
        var (type, reason) = Envelope(body);
        return MapError((int)response.StatusCode, type, reason ?? ProviderErrors.ExtractMessage(body), response.RequestMessage?.RequestUri);
    }

    private static (string? Type, string? Reason) Envelope(string body)
    {
        try
        {
            var error = JsonNode.Parse(body)?["error"];
            return error is JsonObject ? (ProviderJson.String(error["type"]), ProviderJson.String(error["reason"])) : (null, null);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private async Task<(JsonNode? Answer, ReportedUsage Usage)> PostAsync(JsonObject body, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await ProviderJson.SendAsync(_http, HttpMethod.Post, EndpointUri(), body, _headers, stream: false, Error, cancellationToken).ConfigureAwait(false);
            var usage = new ReportedUsage(Header(response, InputTokensHeader), Header(response, OutputTokensHeader));
            return (await ProviderJson.ReadAsync(response, _inferenceId, cancellationToken).ConfigureAwait(false), usage);
        }
        catch (Exception ex) when (ProviderJson.Map(_inferenceId, _secrets, ex, streamStarted: false) is { } mapped)
        {
            throw mapped;
        }
    }

    private async IAsyncEnumerable<GenerationUpdate> StreamCoreAsync(JsonObject body, IReadOnlyList<ChatMessage> messages, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var response = await ProviderJson.SendAsync(_http, HttpMethod.Post, EndpointUri(stream: true), body, _headers, stream: true, Error, cancellationToken).ConfigureAwait(false);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var usage = new OpenAiStreams.UsageTracker(messages);
        string? finish = null;
        var done = false;
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(cancellationToken).ConfigureAwait(false))
        {
            if (item.Data == "[DONE]")
            {
                done = true;
                break;
            }

            if (string.IsNullOrWhiteSpace(item.Data))
            {
                continue;
            }

            JsonNode? chunk;
            try
            {
                chunk = JsonNode.Parse(item.Data);
            }
            catch (JsonException ex)
            {
                throw ProviderJson.Malformed(_inferenceId, "a stream event is not JSON", ex);
            }

            if (item.EventType == "error" || chunk?["error"] is JsonObject)
            {
                var error = chunk?["error"];
                throw MapError(ProviderJson.Int(chunk?["status"]) ?? 500, ProviderJson.String(error?["type"]), ProviderJson.String(error?["reason"]) ?? ProviderJson.String(error?["message"]), null);
            }

            if (chunk?["usage"] is JsonObject reported && ProviderJson.Int(reported["prompt_tokens"]) is { } prompt)
            {
                usage.Reported = new UsageDetails(prompt, ProviderJson.Int(reported["completion_tokens"]) ?? 0);
            }

            foreach (var text in Deltas(chunk))
            {
                yield return new GenerationUpdate(text, null, usage.Add(text));
            }

            if (chunk?["choices"] is JsonArray choices && choices.Count > 0 && ProviderJson.String(choices[0]?["finish_reason"]) is { } reason)
            {
                finish = reason;
            }
        }

        if (!done)
        {
            // The upstream always ends its streams with [DONE]: without it the connection was cut.
            throw ProviderJson.StreamEnded(_inferenceId);
        }

        yield return new GenerationUpdate(string.Empty, OpenAiFinishReasons.Parse(finish) ?? FinishReason.Stop, usage.Final);
    }

    // completion chunks: {"completion":[{"delta":"..."}]}; chat chunks: {"choices":[{"delta":{"content":"..."}}]}.
    private static IEnumerable<string> Deltas(JsonNode? chunk)
    {
        if (chunk?["completion"] is JsonArray completion)
        {
            foreach (var part in completion)
            {
                if (ProviderJson.String(part?["delta"]) is { Length: > 0 } delta)
                {
                    yield return delta;
                }
            }
        }

        if (chunk?["choices"] is JsonArray choices)
        {
            foreach (var choice in choices)
            {
                if ((ProviderJson.Int(choice?["index"]) ?? 0) == 0 && ProviderJson.String(choice?["delta"]?["content"]) is { Length: > 0 } content)
                {
                    yield return content;
                }
            }
        }
    }

    private static JsonObject EmbeddingBody(IReadOnlyList<string> inputs, EmbeddingOptions? options)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var body = new JsonObject { ["input"] = Strings(inputs) };
        if (options?.InputType is { } type && type != InputType.Unspecified)
        {
            body["input_type"] = type.ToString().ToUpperInvariant();
        }

        return body;
    }

    private static JsonObject ChatBody(IReadOnlyList<ChatMessage> messages, GenerationOptions? options)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var body = new JsonObject
        {
            ["messages"] = new JsonArray([.. messages.Select(m => (JsonNode)new JsonObject
            {
                ["role"] = m.Role switch { ChatRole.System => "system", ChatRole.Assistant => "assistant", ChatRole.Tool => "user", _ => "user" },
                ["content"] = m.Text,
            })]),
        };
        if (options?.MaxOutputTokens is { } max)
        {
            body["max_completion_tokens"] = max;
        }

        if (options?.Temperature is { } temperature)
        {
            body["temperature"] = temperature;
        }

        if (options?.TopP is { } topP)
        {
            body["top_p"] = topP;
        }

        if (options?.StopSequences is { Count: > 0 } stop)
        {
            body["stop"] = new JsonArray([.. stop.Select(s => (JsonNode)s)]);
        }

        return body;
    }

    private JsonArray Items(JsonNode? answer, string key, int expected) =>
        answer?[key] is JsonArray items && items.Count == expected
            ? items
            : throw ProviderJson.Malformed(_inferenceId, $"expected {expected} items of [{key}] in the upstream's answer");

    private static int? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values)
        && int.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var tokens) && tokens >= 0
            ? tokens
            : null;

    private static JsonArray Strings(IReadOnlyList<string> values) => new([.. values.Select(v => (JsonNode)v)]);

    /// <summary>The token counts an upstream WebConsole reported in its headers (null where it sent none).</summary>
    private readonly record struct ReportedUsage(int? Input, int? Output)
    {
        public UsageDetails InputTokens(int counted) => new(Input ?? counted, 0);

        public UsageDetails Both(int countedInput, int countedOutput) => new(Input ?? countedInput, Input is null ? countedOutput : Output ?? 0);
    }
}
