using System.Text.Json;
using System.Text.Json.Serialization;

namespace WebConsole.Infrastructure.Connectors.JinaAi;

// Jina AI's embeddings and rerank API: only the fields WebConsole sends or reads. Unknown response fields are ignored;
// optional request fields are left out when null.

internal sealed record JinaEmbeddingsRequest(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("input")] IReadOnlyList<string> Input,
    [property: JsonPropertyName("embedding_type")] string EmbeddingType,
    [property: JsonPropertyName("task")] string? Task,
    [property: JsonPropertyName("dimensions")] int? Dimensions,
    [property: JsonPropertyName("late_chunking")] bool? LateChunking);

internal sealed record JinaEmbeddingsResponse(
    [property: JsonPropertyName("data")] IReadOnlyList<JinaEmbedding>? Data,
    [property: JsonPropertyName("usage")] JinaUsage? Usage);

/// <summary>One embedding: floats, or packed bits as signed bytes (which read as floats too).</summary>
internal sealed record JinaEmbedding(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("embedding")] float[]? Embedding);

internal sealed record JinaUsage(
    [property: JsonPropertyName("prompt_tokens")] int? PromptTokens,
    [property: JsonPropertyName("total_tokens")] int? TotalTokens);

internal sealed record JinaRerankRequest(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("query")] string Query,
    [property: JsonPropertyName("documents")] IReadOnlyList<string> Documents,
    [property: JsonPropertyName("top_n")] int? TopN,
    [property: JsonPropertyName("return_documents")] bool? ReturnDocuments);

internal sealed record JinaRerankResponse(
    [property: JsonPropertyName("results")] IReadOnlyList<JinaRerankResult>? Results,
    [property: JsonPropertyName("usage")] JinaUsage? Usage);

internal sealed record JinaRerankResult(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("relevance_score")] float RelevanceScore);

/// <summary>Serializer options of the wire format (nulls left out).</summary>
internal static class JinaJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
