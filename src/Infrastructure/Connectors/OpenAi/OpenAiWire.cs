using System.Text.Json.Serialization;

namespace WebConsole.Infrastructure.Connectors.OpenAi;

// The OpenAI wire format as OpenAI-compatible providers (Mistral, Groq, DeepSeek, Azure OpenAI) speak it: only the fields
// WebConsole sends or reads. Unknown response fields are ignored; optional request fields are left out when null.

internal sealed record EmbeddingsRequest(
    [property: JsonPropertyName("input")] IReadOnlyList<string> Input,
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("encoding_format")] string? EncodingFormat,
    [property: JsonPropertyName("dimensions")] int? Dimensions,
    [property: JsonPropertyName("user")] string? User);

internal sealed record EmbeddingsResponse(
    [property: JsonPropertyName("data")] IReadOnlyList<EmbeddingItem>? Data,
    [property: JsonPropertyName("usage")] WireUsage? Usage);

internal sealed record EmbeddingItem(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("embedding")] float[]? Embedding);

internal sealed record WireUsage(
    [property: JsonPropertyName("prompt_tokens")] int? PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int? CompletionTokens,
    [property: JsonPropertyName("total_tokens")] int? TotalTokens);

internal sealed record WireMessage(
    [property: JsonPropertyName("role")] string? Role,
    [property: JsonPropertyName("content")] string? Content);

internal sealed record ChatRequest
{
    [JsonPropertyName("model")]
    public string? Model { get; init; }

    [JsonPropertyName("messages")]
    public required IReadOnlyList<WireMessage> Messages { get; init; }

    [JsonPropertyName("max_tokens")]
    public int? MaxTokens { get; init; }

    [JsonPropertyName("max_completion_tokens")]
    public int? MaxCompletionTokens { get; init; }

    [JsonPropertyName("temperature")]
    public float? Temperature { get; init; }

    [JsonPropertyName("top_p")]
    public float? TopP { get; init; }

    [JsonPropertyName("seed")]
    public long? Seed { get; init; }

    [JsonPropertyName("stop")]
    public IReadOnlyList<string>? Stop { get; init; }

    [JsonPropertyName("user")]
    public string? User { get; init; }

    [JsonPropertyName("stream")]
    public bool? Stream { get; init; }

    [JsonPropertyName("stream_options")]
    public StreamOptions? StreamOptions { get; init; }
}

internal sealed record StreamOptions([property: JsonPropertyName("include_usage")] bool IncludeUsage);

internal sealed record ChatResponse(
    [property: JsonPropertyName("choices")] IReadOnlyList<ChatChoice>? Choices,
    [property: JsonPropertyName("usage")] WireUsage? Usage);

internal sealed record ChatChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("message")] WireMessage? Message,
    [property: JsonPropertyName("delta")] WireMessage? Delta,
    [property: JsonPropertyName("finish_reason")] string? FinishReason);

/// <summary>Serializer options of the wire format (nulls left out).</summary>
internal static class OpenAiJson
{
    public static readonly System.Text.Json.JsonSerializerOptions Options = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
