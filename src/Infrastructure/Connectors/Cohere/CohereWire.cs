using System.Text.Json;
using System.Text.Json.Serialization;

namespace WebConsole.Infrastructure.Connectors.Cohere;

// Cohere's V2 API (the version Elasticsearch uses for new endpoints): only the fields WebConsole sends or reads. Unknown
// response fields are ignored; optional request fields are left out when null.

internal sealed record CohereEmbedRequest(
    [property: JsonPropertyName("texts")] IReadOnlyList<string> Texts,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("input_type")] string InputType,
    [property: JsonPropertyName("embedding_types")] IReadOnlyList<string> EmbeddingTypes,
    [property: JsonPropertyName("truncate")] string? Truncate);

/// <summary>
/// <c>embeddings</c> holds one list of vectors per requested type (<c>float</c>, <c>int8</c>, <c>binary</c>); integers
/// read as floats, so one shape serves all.
/// </summary>
internal sealed record CohereEmbedResponse(
    [property: JsonPropertyName("embeddings")] Dictionary<string, float[][]>? Embeddings,
    [property: JsonPropertyName("meta")] CohereMeta? Meta);

internal sealed record CohereMeta([property: JsonPropertyName("billed_units")] CohereUnits? BilledUnits);

internal sealed record CohereUnits(
    [property: JsonPropertyName("input_tokens")] int? InputTokens,
    [property: JsonPropertyName("output_tokens")] int? OutputTokens,
    [property: JsonPropertyName("search_units")] int? SearchUnits);

internal sealed record CohereRerankRequest(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("query")] string Query,
    [property: JsonPropertyName("documents")] IReadOnlyList<string> Documents,
    [property: JsonPropertyName("top_n")] int? TopN);

internal sealed record CohereRerankResponse(
    [property: JsonPropertyName("results")] IReadOnlyList<CohereRerankResult>? Results,
    [property: JsonPropertyName("meta")] CohereMeta? Meta);

internal sealed record CohereRerankResult(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("relevance_score")] float RelevanceScore);

internal sealed record CohereMessage(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content")] string Content);

internal sealed record CohereChatRequest
{
    [JsonPropertyName("model")]
    public required string Model { get; init; }

    [JsonPropertyName("messages")]
    public required IReadOnlyList<CohereMessage> Messages { get; init; }

    [JsonPropertyName("stream")]
    public bool? Stream { get; init; }

    [JsonPropertyName("max_tokens")]
    public int? MaxTokens { get; init; }

    [JsonPropertyName("temperature")]
    public float? Temperature { get; init; }

    [JsonPropertyName("p")]
    public float? TopP { get; init; }

    [JsonPropertyName("seed")]
    public long? Seed { get; init; }

    [JsonPropertyName("stop_sequences")]
    public IReadOnlyList<string>? StopSequences { get; init; }
}

internal sealed record CohereChatResponse(
    [property: JsonPropertyName("finish_reason")] string? FinishReason,
    [property: JsonPropertyName("message")] CohereAssistantMessage? Message,
    [property: JsonPropertyName("usage")] CohereUsage? Usage);

internal sealed record CohereAssistantMessage([property: JsonPropertyName("content")] IReadOnlyList<CohereContent>? Content);

internal sealed record CohereContent(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("text")] string? Text);

internal sealed record CohereUsage(
    [property: JsonPropertyName("billed_units")] CohereUnits? BilledUnits,
    [property: JsonPropertyName("tokens")] CohereUnits? Tokens);

/// <summary>One event of a V2 chat stream: <c>content-delta</c> carries text, <c>message-end</c> the finish and usage.</summary>
internal sealed record CohereStreamEvent(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("delta")] CohereStreamDelta? Delta);

internal sealed record CohereStreamDelta(
    [property: JsonPropertyName("message")] CohereStreamMessage? Message,
    [property: JsonPropertyName("finish_reason")] string? FinishReason,
    [property: JsonPropertyName("usage")] CohereUsage? Usage);

internal sealed record CohereStreamMessage([property: JsonPropertyName("content")] CohereContent? Content);

/// <summary>Serializer options of the wire format (nulls left out).</summary>
internal static class CohereJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
