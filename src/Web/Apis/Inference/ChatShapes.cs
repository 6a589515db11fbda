using System.Text.Json.Nodes;
using WebConsole.Inference.Abstractions;

namespace WebConsole.Web.Apis.Inference;

/// <summary>OpenAI's <c>chat.completion</c> and <c>chat.completion.chunk</c> objects, shared by <c>/_inference</c> and <c>/v1</c>.</summary>
internal static class ChatShapes
{
    public static string NewId() => "chatcmpl-" + Guid.NewGuid().ToString("N");

    public static string FinishReasonName(FinishReason reason) => reason switch
    {
        FinishReason.Length => "length",
        FinishReason.ToolCalls => "tool_calls",
        _ => "stop",
    };

    public static JsonObject Completion(string id, string model, long created, GenerationResponse response) => new()
    {
        ["id"] = id,
        ["object"] = "chat.completion",
        ["created"] = created,
        ["model"] = model,
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = response.Text },
            ["finish_reason"] = FinishReasonName(response.FinishReason),
        }),
        ["usage"] = Usage(response.Usage, null),
    };

    /// <summary>One streamed piece; the first carries the role, the last the finish reason.</summary>
    public static JsonObject Chunk(string id, string model, long created, string? role, string? content, FinishReason? finish)
    {
        var delta = new JsonObject();
        if (role is not null)
        {
            delta["role"] = role;
        }

        if (content is not null)
        {
            delta["content"] = content;
        }

        var choice = new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish is { } f ? FinishReasonName(f) : null };
        return new JsonObject
        {
            ["id"] = id,
            ["object"] = "chat.completion.chunk",
            ["created"] = created,
            ["model"] = model,
            ["choices"] = new JsonArray(choice),
        };
    }

    /// <summary>The final chunk of <c>stream_options.include_usage</c>: no choices, the usage.</summary>
    public static JsonObject UsageChunk(string id, string model, long created, UsageDetails usage, decimal? cost) => new()
    {
        ["id"] = id,
        ["object"] = "chat.completion.chunk",
        ["created"] = created,
        ["model"] = model,
        ["choices"] = new JsonArray(),
        ["usage"] = Usage(usage, cost),
    };

    /// <summary>OpenAI's usage object; WebConsole adds the request's <c>cost</c> where it is known.</summary>
    public static JsonObject Usage(UsageDetails usage, decimal? cost)
    {
        var json = new JsonObject
        {
            ["prompt_tokens"] = usage.InputTokens,
            ["completion_tokens"] = usage.OutputTokens,
            ["total_tokens"] = usage.TotalTokens,
        };
        if (cost is { } c)
        {
            json["cost"] = JsonValue.Create(c);
        }

        return json;
    }
}
