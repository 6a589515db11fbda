using System.Text.Json;
using System.Text.Json.Serialization;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Web.Apis.Playground;

/// <summary>One message of a chat stream request: <c>system</c>, <c>user</c> or <c>assistant</c>, and its text.</summary>
public sealed record ChatStreamMessage(string Role, string Content);

/// <summary>
/// What the chat hub's <c>StreamChat</c> (and the playground) asks for: an endpoint, its conversation and the generation
/// parameters, with the same names and limits as the chat_completion body of the REST surfaces. A completion endpoint
/// gets the last user message as its input (prefixed with the system prompt) and no parameters, as on
/// <c>/_inference/completion/{id}/_stream</c>.
/// </summary>
public sealed record ChatStreamRequest
{
    private static readonly JsonSerializerOptions Strict = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
    };

    /// <summary>The endpoint: any completion or chat_completion endpoint of the caller's organization.</summary>
    public string InferenceId { get; init; } = string.Empty;

    /// <summary>The conversation, oldest first.</summary>
    public IReadOnlyList<ChatStreamMessage> Messages { get; init; } = [];

    /// <summary>0 to 2.</summary>
    public double? Temperature { get; init; }

    /// <summary>0 to 1.</summary>
    public double? TopP { get; init; }

    /// <summary>The output cap (positive).</summary>
    public int? MaxCompletionTokens { get; init; }

    /// <summary>Stop sequences.</summary>
    public IReadOnlyList<string>? Stop { get; init; }

    /// <summary>The sampling seed.</summary>
    public long? Seed { get; init; }

    /// <summary>
    /// Reads a request from its JSON (camelCase names, as the SignalR clients send them). Throws a 400
    /// <see cref="InferenceApiException"/> naming the field for anything that is not an object of the known fields with
    /// their types.
    /// </summary>
    public static ChatStreamRequest Read(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Object)
        {
            throw InferenceApiException.BadRequest($"The chat stream request must be an object with [inferenceId] and [messages], not [{json.ValueKind.ToString().ToLowerInvariant()}]");
        }

        try
        {
            return json.Deserialize<ChatStreamRequest>(Strict)!;
        }
        catch (JsonException ex)
        {
            var field = ex.Path is { Length: > 2 } path ? path[2..] : "request";
            throw InferenceApiException.BadRequest(ex.Message.Contains("could not be mapped", StringComparison.Ordinal)
                ? $"Unknown field in the chat stream request: {UnknownName(ex.Message) ?? field}"
                : $"Invalid value for [{field}] in the chat stream request");
        }
    }

    // The property name in System.Text.Json's "The JSON property 'x' could not be mapped ..." message.
    private static string? UnknownName(string message)
    {
        var start = message.IndexOf('\'', StringComparison.Ordinal);
        var end = start < 0 ? -1 : message.IndexOf('\'', start + 1);
        return end > start ? $"[{message[(start + 1)..end]}]" : null;
    }
}

/// <summary>
/// One item of a chat stream: a delta of the answer (the first carries the <see cref="Model"/>), and, last, the usage
/// with its cost, exactly as the REST surfaces' final usage chunk reports it.
/// </summary>
public sealed record ChatStreamChunk
{
    /// <summary>The finish reason of the usage item of a stream its client stopped.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>Text generated since the previous item; null on the usage item.</summary>
    public string? Delta { get; init; }

    /// <summary>Why the generation ended (<c>stop</c>, <c>length</c>), on the item that ends it.</summary>
    public string? FinishReason { get; init; }

    /// <summary>The model name answers carry, on the first item.</summary>
    public string? Model { get; init; }

    /// <summary>The final item: the tokens billed and their cost.</summary>
    public ChatStreamUsage? Usage { get; init; }
}

/// <summary>The usage of one stream as recorded in the ledger.</summary>
public sealed record ChatStreamUsage(long InputTokens, long OutputTokens, decimal Cost);

/// <summary>
/// The error a hub client receives (as the <c>HubException</c> message, JSON after <c>HubException: </c>): the status,
/// type and reason the REST surfaces would answer.
/// </summary>
public sealed record ChatStreamError(
    [property: JsonPropertyName("status")] int Status,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("reason")] string Reason)
{
    /// <summary>The JSON text carried in the hub error.</summary>
    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>Reads the error from a hub exception's message (the JSON after its last <c>HubException: </c>).</summary>
    public static ChatStreamError? Parse(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var start = message.IndexOf('{', StringComparison.Ordinal);
        if (start < 0)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<ChatStreamError>(message[start..]);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
