using System.Runtime.CompilerServices;
using System.Text.Json;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Connectors.OpenAi;
using WebConsole.Infrastructure.Connectors.Outbound;

namespace WebConsole.Infrastructure.Connectors.Cohere;

/// <summary>
/// Embeddings, rerank and completions of one <c>cohere</c> endpoint over Cohere's V2 API. Usage comes from Cohere's
/// <c>billed_units</c> (or <c>tokens</c>), else is counted (about four characters a token). Thread-safe.
/// </summary>
internal sealed class CohereClient(CohereSettings settings, Uri baseUrl, ProviderJsonCall call) : IDenseEmbeddingGenerator, IReranker, ITextCompletionClient
{
    /// <summary>The call helper (errors name the endpoint).</summary>
    public ProviderJsonCall Call => call;

    /// <summary>Cohere's <c>input_type</c>: the request's when it states one, else the task settings', else a search query.</summary>
    public static string InputTypeOf(InputType requested, string? taskSetting) =>
        (requested switch
        {
            InputType.Ingest => "ingest",
            InputType.Search => "search",
            InputType.Classification => "classification",
            InputType.Clustering => "clustering",
            _ => taskSetting,
        }) switch
        {
            "ingest" => "search_document",
            "classification" => "classification",
            "clustering" => "clustering",
            _ => "search_query",
        };

    /// <inheritdoc />
    public async Task<DenseEmbeddingResult> GenerateAsync(IReadOnlyList<string> inputs, EmbeddingOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var wireType = settings.WireEmbeddingType;
        var body = new CohereEmbedRequest(
            inputs, settings.ModelId,
            InputTypeOf(options?.InputType ?? InputType.Unspecified, TaskSetting("input_type")),
            [wireType],
            TaskSetting("truncate"));
        var response = await call.PostAsync<CohereEmbedRequest, CohereEmbedResponse>(
            ConnectorSettings.Resolve(baseUrl, "/v2/embed"), body, CohereJson.Options, cancellationToken).ConfigureAwait(false);
        if (response.Embeddings?.GetValueOrDefault(wireType) is not { } vectors || vectors.Length != inputs.Count || vectors.Any(v => v is null))
        {
            throw call.Malformed($"expected {inputs.Count} [{wireType}] embeddings");
        }

        var tokens = response.Meta?.BilledUnits?.InputTokens ?? inputs.Sum(ConnectorSettings.EstimateTokens);
        return new DenseEmbeddingResult([.. vectors.Select(v => new DenseEmbedding(v, IsTruncated: false))], new UsageDetails(tokens, 0));
    }

    /// <inheritdoc />
    public async Task<RerankResult> RerankAsync(string query, IReadOnlyList<string> documents, RerankOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(documents);
        var topN = options?.TopN ?? (settings.TaskSettings["top_n"] is { } n ? n.GetValue<int>() : null);
        var response = await call.PostAsync<CohereRerankRequest, CohereRerankResponse>(
            ConnectorSettings.Resolve(baseUrl, "/v2/rerank"), new CohereRerankRequest(settings.ModelId, query, documents, topN), CohereJson.Options, cancellationToken).ConfigureAwait(false);
        var results = response.Results ?? throw call.Malformed("no [results] in the rerank response");
        if (results.Any(r => r.Index < 0 || r.Index >= documents.Count))
        {
            throw call.Malformed("a result's [index] is out of range");
        }

        var tokens = response.Meta?.BilledUnits?.InputTokens
            ?? ConnectorSettings.EstimateTokens(query) * documents.Count + documents.Sum(ConnectorSettings.EstimateTokens);
        return new RerankResult(
            [.. results.Select(r => new RerankedDocument(r.Index, r.RelevanceScore)).OrderByDescending(d => d.RelevanceScore).ThenBy(d => d.Index)],
            new UsageDetails(tokens, 0));
    }

    /// <inheritdoc />
    public async Task<GenerationResponse> CompleteAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var response = await call.PostAsync<CohereChatRequest, CohereChatResponse>(
            ConnectorSettings.Resolve(baseUrl, "/v2/chat"), BuildChat(prompt, options, stream: false), CohereJson.Options, cancellationToken).ConfigureAwait(false);
        if (response.Message is null)
        {
            throw call.Malformed("no [message] in the chat response");
        }

        var text = string.Concat((response.Message.Content ?? []).Where(c => c.Type is null or "text").Select(c => c.Text));
        return new GenerationResponse(text, ParseFinish(response.FinishReason) ?? FinishReason.Stop, UsageOf(response.Usage) ?? Counted(prompt, text.Length));
    }

    /// <inheritdoc />
    public IAsyncEnumerable<GenerationUpdate> CompleteStreamingAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        call.MapStream(StreamCoreAsync(prompt, options, cancellationToken), cancellationToken);

    /// <summary>Cohere's finish reason as <see cref="FinishReason"/>; null when absent.</summary>
    public static FinishReason? ParseFinish(string? reason) => reason switch
    {
        null => null,
        "MAX_TOKENS" => FinishReason.Length,
        "TOOL_CALL" => FinishReason.ToolCalls,
        _ => FinishReason.Stop,
    };

    private async IAsyncEnumerable<GenerationUpdate> StreamCoreAsync(string prompt, GenerationOptions? options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var characters = 0;
        await foreach (var element in call.StreamAsync(ConnectorSettings.Resolve(baseUrl, "/v2/chat"), BuildChat(prompt, options, stream: true), CohereJson.Options, cancellationToken).ConfigureAwait(false))
        {
            // Only the events WebConsole reads are typed: others (message-start, content-start) differ in shape.
            var type = element.TryGetProperty("type", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString() : null;
            var item = type is "content-delta" or "message-end" ? call.Parse<CohereStreamEvent>(element, CohereJson.Options) : null;
            switch (item?.Type)
            {
                case "content-delta" when item.Delta?.Message?.Content?.Text is { Length: > 0 } text:
                    characters += text.Length;
                    yield return new GenerationUpdate(text, null, Counted(prompt, characters));
                    break;
                case "message-end":
                    if (item.Delta?.FinishReason == "ERROR")
                    {
                        throw call.StreamError(null);
                    }

                    yield return new GenerationUpdate(string.Empty, ParseFinish(item.Delta?.FinishReason) ?? FinishReason.Stop,
                        UsageOf(item.Delta?.Usage) ?? Counted(prompt, characters));
                    yield break;
            }
        }

        // Ended without message-end: a cut connection, not an answer.
        throw call.StreamEnded();
    }

    private CohereChatRequest BuildChat(string prompt, GenerationOptions? options, bool stream) => new()
    {
        Model = settings.ModelId,
        Messages = [new CohereMessage("user", prompt)],
        Stream = stream ? true : null,
        MaxTokens = options?.MaxOutputTokens,
        Temperature = options?.Temperature,
        TopP = options?.TopP,
        Seed = options?.Seed,
        StopSequences = options?.StopSequences is { Count: > 0 } stop ? stop : null,
    };

    private string? TaskSetting(string key) => settings.TaskSettings[key]?.GetValue<string>();

    private static UsageDetails? UsageOf(CohereUsage? usage) =>
        (usage?.BilledUnits ?? usage?.Tokens) is { InputTokens: { } input } units ? new UsageDetails(input, units.OutputTokens ?? 0) : null;

    private static UsageDetails Counted(string prompt, int outputCharacters) =>
        new(OpenAiTarget.EstimateTokens(prompt) + 4, (outputCharacters + 3) / 4);
}
