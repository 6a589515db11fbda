using System.Text.Json;
using System.Text.Json.Serialization;

namespace WebConsole.Infrastructure.Connectors.GoogleAiStudio;

// The Gemini API of Google AI Studio (generativelanguage.googleapis.com/v1): only the fields WebConsole sends or reads.
// Unknown response fields are ignored; optional request fields are left out when null.

internal sealed record GoogleContent(
    [property: JsonPropertyName("role")] string? Role,
    [property: JsonPropertyName("parts")] IReadOnlyList<GooglePart>? Parts);

internal sealed record GooglePart([property: JsonPropertyName("text")] string? Text);

internal sealed record GoogleBatchEmbedRequest([property: JsonPropertyName("requests")] IReadOnlyList<GoogleEmbedRequest> Requests);

internal sealed record GoogleEmbedRequest(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("content")] GoogleContent Content,
    [property: JsonPropertyName("outputDimensionality")] int? OutputDimensionality);

internal sealed record GoogleBatchEmbedResponse([property: JsonPropertyName("embeddings")] IReadOnlyList<GoogleEmbedding>? Embeddings);

internal sealed record GoogleEmbedding([property: JsonPropertyName("values")] float[]? Values);

internal sealed record GoogleGenerateRequest(
    [property: JsonPropertyName("contents")] IReadOnlyList<GoogleContent> Contents,
    [property: JsonPropertyName("generationConfig")] GoogleGenerationConfig GenerationConfig);

internal sealed record GoogleGenerationConfig
{
    [JsonPropertyName("candidateCount")]
    public int CandidateCount { get; init; } = 1;

    [JsonPropertyName("maxOutputTokens")]
    public int? MaxOutputTokens { get; init; }

    [JsonPropertyName("temperature")]
    public float? Temperature { get; init; }

    [JsonPropertyName("topP")]
    public float? TopP { get; init; }

    [JsonPropertyName("seed")]
    public long? Seed { get; init; }

    [JsonPropertyName("stopSequences")]
    public IReadOnlyList<string>? StopSequences { get; init; }
}

/// <summary>A <c>generateContent</c> answer, and each event of <c>streamGenerateContent?alt=sse</c>.</summary>
internal sealed record GoogleGenerateResponse(
    [property: JsonPropertyName("candidates")] IReadOnlyList<GoogleCandidate>? Candidates,
    [property: JsonPropertyName("usageMetadata")] GoogleUsage? UsageMetadata);

internal sealed record GoogleCandidate(
    [property: JsonPropertyName("content")] GoogleContent? Content,
    [property: JsonPropertyName("finishReason")] string? FinishReason);

internal sealed record GoogleUsage(
    [property: JsonPropertyName("promptTokenCount")] int? PromptTokenCount,
    [property: JsonPropertyName("candidatesTokenCount")] int? CandidatesTokenCount);

/// <summary>Serializer options of the wire format (nulls left out).</summary>
internal static class GoogleJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
