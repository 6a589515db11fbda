using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Web.Apis.Inference;

/// <summary>The body of <c>POST /_inference/...</c>, parsed and validated once.</summary>
internal sealed record InferenceRequest(
    IReadOnlyList<string> Input,
    string? Query,
    InputType InputType,
    JsonObject TaskSettings,
    int? TopN,
    bool ReturnDocuments,
    ChatRequest? Chat);

/// <summary>A chat request of either surface: the conversation and the generation options.</summary>
internal sealed record ChatRequest(IReadOnlyList<ChatMessage> Messages, string? Model, GenerationOptions Options);

/// <summary>Reads request bodies of both surfaces into typed requests, with the limits of <see cref="InferenceApiOptions"/>.</summary>
internal static class InferenceRequests
{
    private static readonly HashSet<string> PerformKeys = new(StringComparer.Ordinal)
    {
        "input", "query", "input_type", "task_settings", "top_n", "return_documents",
    };

    private static readonly HashSet<string> ChatKeys = new(StringComparer.Ordinal)
    {
        "messages", "model", "max_completion_tokens", "stop", "temperature", "top_p", "tools", "tool_choice",
    };

    /// <summary>Reads the body as a JSON object; a malformed body or one over the size limit is an <see cref="InferenceApiException"/>.</summary>
    public static async Task<JsonObject> ReadObjectAsync(HttpContext http, long maxBodyBytes, CancellationToken cancellationToken)
    {
        if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBodyBytes;
        }

        if (http.Request.ContentLength > maxBodyBytes)
        {
            throw TooLarge(http.Request.ContentLength.Value, maxBodyBytes);
        }

        try
        {
            var node = JsonNode.Parse((await JsonBodies.ReadUtf8Async(http.Request.Body, cancellationToken)).Span);
            return node as JsonObject ?? throw new InferenceApiException(400, "parse_exception", "request body must be a JSON object");
        }
        catch (JsonException ex)
        {
            throw new InferenceApiException(400, "x_content_parse_exception", $"Failed to parse request body: {ex.Message}", ex);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new InferenceApiException(413, InferenceApiException.StatusExceptionType, $"Request body is too large, the maximum is [{maxBodyBytes}] bytes", ex);
        }
    }

    /// <summary>Parses the body of a perform-inference request for an endpoint of <paramref name="taskType"/>.</summary>
    public static InferenceRequest ParsePerform(JsonObject body, TaskType taskType, InferenceApiOptions limits)
    {
        if (taskType == TaskType.ChatCompletion)
        {
            return new InferenceRequest([], null, InputType.Unspecified, [], null, true, ParseChat(body, ChatKeys, limits));
        }

        foreach (var (key, _) in body)
        {
            if (!PerformKeys.Contains(key))
            {
                throw new InferenceApiException(400, "x_content_parse_exception", $"[request] unknown field [{key}]");
            }
        }

        var input = ReadInput(body["input"], limits);
        if (taskType == TaskType.Completion && input.Count != 1)
        {
            throw InferenceApiException.BadRequest($"Field [input] must be a single string for task type [completion], received [{input.Count}] inputs");
        }

        string? query = null;
        if (taskType == TaskType.Rerank)
        {
            query = body["query"] switch
            {
                null => throw InferenceApiException.BadRequest("Field [query] cannot be null for task type [rerank]"),
                JsonValue value when value.TryGetValue<string>(out var text) => text,
                _ => throw InferenceApiException.BadRequest("Field [query] must be a string"),
            };
            if (string.IsNullOrEmpty(query))
            {
                throw InferenceApiException.BadRequest("Field [query] cannot be empty for task type [rerank]");
            }
        }
        else if (body["query"] is not null)
        {
            throw InferenceApiException.BadRequest($"Field [query] cannot be specified for task type [{taskType.ToWireName()}]");
        }

        CheckSize(input, query, limits);

        var taskSettings = body["task_settings"] switch
        {
            null => [],
            JsonObject settings => (JsonObject)settings.DeepClone(),
            _ => throw InferenceApiException.BadRequest("Field [task_settings] must be an object"),
        };

        // The top-level input_type wins over one given in task_settings (Elasticsearch's rule).
        var inputType = ParseInputType(body["input_type"]) ?? ParseInputType(taskSettings["input_type"]) ?? InputType.Unspecified;
        int? topN = null;
        var returnDocuments = true;
        if (taskType == TaskType.Rerank)
        {
            var topNode = body["top_n"] ?? taskSettings["top_n"];
            topN = topNode is null ? null : ReadInt(topNode, "top_n");
            if (topN is < 1)
            {
                throw InferenceApiException.BadRequest($"[top_n] must be a positive integer, received [{topN}]");
            }

            if ((body["return_documents"] ?? taskSettings["return_documents"]) is { } r)
            {
                returnDocuments = r is JsonValue v && v.TryGetValue<bool>(out var b) ? b : throw InferenceApiException.BadRequest("[return_documents] must be a boolean");
            }
        }
        else if (body["top_n"] is not null || body["return_documents"] is not null)
        {
            throw InferenceApiException.BadRequest($"Fields [top_n] and [return_documents] are only allowed for task type [rerank]");
        }

        return new InferenceRequest(input, query, inputType, taskSettings, topN, returnDocuments, null);
    }

    /// <summary>Parses a chat request (<c>messages</c> and generation options); <paramref name="allowed"/> names the accepted keys.</summary>
    public static ChatRequest ParseChat(JsonObject body, IReadOnlySet<string> allowed, InferenceApiOptions limits)
    {
        foreach (var (key, _) in body)
        {
            if (!allowed.Contains(key))
            {
                throw new InferenceApiException(400, "x_content_parse_exception", $"[chat_completion_request] unknown field [{key}]");
            }
        }

        if (body["messages"] is not JsonArray messages || messages.Count == 0)
        {
            throw InferenceApiException.BadRequest("Field [messages] cannot be null or empty");
        }

        if (messages.Count > limits.MaxInputs)
        {
            throw InferenceApiException.BadRequest($"Too many messages [{messages.Count}], the maximum is [{limits.MaxInputs}]");
        }

        var parsed = new List<ChatMessage>(messages.Count);
        long bytes = 0;
        foreach (var message in messages)
        {
            if (message is not JsonObject m)
            {
                throw InferenceApiException.BadRequest("Each message must be an object with [role] and [content]");
            }

            var roleName = m["role"] is JsonValue rv && rv.TryGetValue<string>(out var rn) ? rn : null;
            var role = roleName switch
            {
                "system" or "developer" => ChatRole.System,
                "user" => ChatRole.User,
                "assistant" => ChatRole.Assistant,
                "tool" => ChatRole.Tool,
                _ => throw InferenceApiException.BadRequest($"Unknown message role [{roleName}], must be one of [system, user, assistant, tool]"),
            };
            var text = ReadContent(m["content"], role);
            bytes += Encoding.UTF8.GetByteCount(text);
            parsed.Add(new ChatMessage(role, text));
        }

        if (bytes > limits.MaxInputBytes)
        {
            throw TooLarge(bytes, limits.MaxInputBytes);
        }

        var stop = body["stop"] switch
        {
            null => [],
            JsonValue single when single.TryGetValue<string>(out var s) => [s],
            JsonArray list => list.Select(item => item is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw InferenceApiException.BadRequest("[stop] must be a string or an array of strings")).ToList(),
            _ => throw InferenceApiException.BadRequest("[stop] must be a string or an array of strings"),
        };

        var maxTokens = body["max_completion_tokens"] is { } max ? ReadInt(max, "max_completion_tokens")
            : body["max_tokens"] is { } legacy ? ReadInt(legacy, "max_tokens") : (int?)null;
        if (maxTokens is < 1)
        {
            throw InferenceApiException.BadRequest($"[max_completion_tokens] must be a positive integer, received [{maxTokens}]");
        }

        var temperature = body["temperature"] is { } t ? ReadFloat(t, "temperature", 0, 2) : (float?)null;
        var topP = body["top_p"] is { } p ? ReadFloat(p, "top_p", 0, 1) : (float?)null;
        var seed = body["seed"] is JsonValue sv && sv.TryGetValue<long>(out var seedValue) ? seedValue : (long?)null;
        var model = body["model"] is JsonValue mv && mv.TryGetValue<string>(out var modelName) ? modelName : null;
        return new ChatRequest(parsed, model, new GenerationOptions { MaxOutputTokens = maxTokens, Temperature = temperature, TopP = topP, Seed = seed, StopSequences = stop });
    }

    /// <summary>Reads <c>input</c>: a string or a non-empty array of strings, within the count limit.</summary>
    public static IReadOnlyList<string> ReadInput(JsonNode? input, InferenceApiOptions limits)
    {
        List<string> inputs = input switch
        {
            null => throw InferenceApiException.BadRequest("Field [input] cannot be null"),
            JsonValue single when single.TryGetValue<string>(out var text) => [text],
            JsonArray list => list.Select(item => item is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw InferenceApiException.BadRequest("Field [input] must be a string or an array of strings")).ToList(),
            _ => throw InferenceApiException.BadRequest("Field [input] must be a string or an array of strings"),
        };
        if (inputs.Count == 0)
        {
            throw InferenceApiException.BadRequest("Field [input] cannot be an empty array");
        }

        if (inputs.Count > limits.MaxInputs)
        {
            throw InferenceApiException.BadRequest($"Too many inputs [{inputs.Count}], the maximum is [{limits.MaxInputs}]");
        }

        return inputs;
    }

    /// <summary>Checks the total UTF-8 size of the inputs and the query (413 beyond the limit).</summary>
    public static void CheckSize(IReadOnlyList<string> input, string? query, InferenceApiOptions limits)
    {
        long bytes = query is null ? 0 : Encoding.UTF8.GetByteCount(query);
        foreach (var text in input)
        {
            bytes += Encoding.UTF8.GetByteCount(text);
        }

        if (bytes > limits.MaxInputBytes)
        {
            throw TooLarge(bytes, limits.MaxInputBytes);
        }
    }

    /// <summary>Parses an ES <c>input_type</c>; null when absent.</summary>
    public static InputType? ParseInputType(JsonNode? node)
    {
        if (node is null)
        {
            return null;
        }

        var name = node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node.ToJsonString();
        return name.Trim().ToUpperInvariant() switch
        {
            "SEARCH" => InputType.Search,
            "INGEST" => InputType.Ingest,
            "CLASSIFICATION" => InputType.Classification,
            "CLUSTERING" => InputType.Clustering,
            _ => throw InferenceApiException.BadRequest($"Unrecognized input_type [{name}], must be one of [SEARCH, INGEST, CLASSIFICATION, CLUSTERING]"),
        };
    }

    private static string ReadContent(JsonNode? content, ChatRole role) => content switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonArray parts => string.Concat(parts.Select(part =>
            part is JsonObject o && o["type"] is JsonValue type && type.TryGetValue<string>(out var t) && t == "text"
                && o["text"] is JsonValue text && text.TryGetValue<string>(out var value)
                ? value
                : throw InferenceApiException.BadRequest("Only content parts of [type] [text] are supported"))),
        null when role == ChatRole.Assistant => string.Empty,
        _ => throw InferenceApiException.BadRequest("Field [content] must be a string or an array of text parts"),
    };

    private static int ReadInt(JsonNode node, string name) =>
        node is JsonValue v && v.TryGetValue<int>(out var i) ? i
        : node is JsonValue d && d.TryGetValue<double>(out var f) && f == Math.Floor(f) && f is >= int.MinValue and <= int.MaxValue ? (int)f
        : throw InferenceApiException.BadRequest($"[{name}] must be an integer");

    private static float ReadFloat(JsonNode node, string name, float min, float max)
    {
        if (node is not JsonValue v || !v.TryGetValue<double>(out var value))
        {
            throw InferenceApiException.BadRequest($"[{name}] must be a number");
        }

        return value >= min && value <= max ? (float)value : throw InferenceApiException.BadRequest($"[{name}] must be between {min} and {max}, received [{value}]");
    }

    private static InferenceApiException TooLarge(long bytes, long max) =>
        new(413, InferenceApiException.StatusExceptionType, $"Input is too large [{bytes}] bytes, the maximum is [{max}] bytes");
}
