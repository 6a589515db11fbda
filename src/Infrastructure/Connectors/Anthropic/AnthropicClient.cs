using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Connectors.OpenAi;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Infrastructure.Connectors.Anthropic;

/// <summary>
/// completion and chat_completion on Anthropic's Messages API. System messages are joined into the request's
/// <c>system</c>; the other turns go as <c>user</c> and <c>assistant</c> messages (a tool's result as the user's, since
/// the abstraction carries no tool ids), adjacent turns of one role joined, as the API wants them alternating. The
/// request's options win over the endpoint's task settings (<c>max_tokens</c>, <c>temperature</c>, <c>top_p</c>;
/// <c>top_k</c> only from the task settings). Thread-safe.
/// </summary>
internal sealed class AnthropicClient(string inferenceId, AnthropicSettings settings, Uri messagesUri, HttpClient http) : IChatClient, ITextCompletionClient
{
    private readonly KeyValuePair<string, string>[] _headers =
    [
        KeyValuePair.Create("x-api-key", settings.ApiKey),
        KeyValuePair.Create("anthropic-version", AnthropicInferenceService.ApiVersion),
    ];

    private readonly string[] _secrets = [settings.ApiKey];

    /// <inheritdoc />
    public async Task<GenerationResponse> GetResponseAsync(IReadOnlyList<ChatMessage> messages, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        JsonNode? answer;
        try
        {
            using var response = await ProviderJson.SendAsync(http, HttpMethod.Post, messagesUri, BuildRequest(messages, options, stream: false), _headers, stream: false,
                (failed, text) => Error(failed, text), cancellationToken).ConfigureAwait(false);
            answer = await ProviderJson.ReadAsync(response, inferenceId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ProviderJson.Map(inferenceId, _secrets, ex, streamStarted: false) is { } mapped)
        {
            throw mapped;
        }

        if (answer?["content"] is not JsonArray content)
        {
            throw ProviderJson.Malformed(inferenceId, "no [content] in the message");
        }

        var text = string.Concat(content.Where(b => ProviderJson.String(b?["type"]) == "text").Select(b => ProviderJson.String(b?["text"])));
        var usage = ProviderJson.Int(answer["usage"]?["input_tokens"]) is { } input
            ? new UsageDetails(input, ProviderJson.Int(answer["usage"]?["output_tokens"]) ?? 0)
            : new UsageDetails(OpenAiTarget.EstimatePromptTokens(messages), OpenAiTarget.EstimateTokens(text));
        return new GenerationResponse(text, FinishReasonOf(ProviderJson.String(answer["stop_reason"])) ?? FinishReason.Stop, usage);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<GenerationUpdate> GetStreamingResponseAsync(IReadOnlyList<ChatMessage> messages, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        OpenAiStreams.MapErrors((ex, started) => ProviderJson.Map(inferenceId, _secrets, ex, started), StreamCoreAsync(messages, options, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public Task<GenerationResponse> CompleteAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        GetResponseAsync([new ChatMessage(ChatRole.User, prompt)], options, cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<GenerationUpdate> CompleteStreamingAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        GetStreamingResponseAsync([new ChatMessage(ChatRole.User, prompt)], options, cancellationToken);

    /// <summary>The Messages API request of a conversation.</summary>
    internal JsonObject BuildRequest(IReadOnlyList<ChatMessage> messages, GenerationOptions? options, bool stream)
    {
        var system = string.Join("\n\n", messages.Where(m => m.Role == ChatRole.System).Select(m => m.Text));
        var turns = new JsonArray();
        string? role = null;
        var text = new StringBuilder();
        foreach (var message in messages.Where(m => m.Role != ChatRole.System))
        {
            var next = message.Role == ChatRole.Assistant ? "assistant" : "user";
            if (role is not null && next != role)
            {
                turns.Add(Turn(role, text.ToString()));
                text.Clear();
            }

            if (text.Length > 0)
            {
                text.Append("\n\n");
            }

            role = next;
            text.Append(message.Text);
        }

        if (role is not null)
        {
            turns.Add(Turn(role, text.ToString()));
        }

        var body = new JsonObject
        {
            ["model"] = settings.ModelId,
            ["max_tokens"] = options?.MaxOutputTokens ?? settings.MaxTokens,
            ["messages"] = turns,
        };
        if (system.Length > 0)
        {
            body["system"] = system;
        }

        if ((options?.Temperature is { } t ? (double)t : settings.Temperature) is { } temperature)
        {
            body["temperature"] = temperature;
        }

        if ((options?.TopP is { } p ? (double)p : settings.TopP) is { } topP)
        {
            body["top_p"] = topP;
        }

        if (settings.TopK is { } topK)
        {
            body["top_k"] = topK;
        }

        if (options?.StopSequences is { Count: > 0 } stop)
        {
            body["stop_sequences"] = new JsonArray([.. stop.Select(s => (JsonNode)s)]);
        }

        if (stream)
        {
            body["stream"] = true;
        }

        return body;

        static JsonObject Turn(string role, string content) => new() { ["role"] = role, ["content"] = content };
    }

    /// <summary>A <c>stop_reason</c> as a finish reason; null when absent.</summary>
    internal static FinishReason? FinishReasonOf(string? stopReason) => stopReason switch
    {
        null => null,
        "max_tokens" or "model_context_window_exceeded" => FinishReason.Length,
        "tool_use" => FinishReason.ToolCalls,
        _ => FinishReason.Stop,
    };

    /// <summary>
    /// The error of a failed answer, by Elasticsearch's Anthropic rules: 529 is overloaded, a 429 names Anthropic's rate
    /// limit headers, 401, 403 and 3xx as everywhere, anything else unsuccessful.
    /// </summary>
    internal InferenceApiException Error(HttpResponseMessage response, string body)
    {
        var status = (int)response.StatusCode;
        var prefix = status switch
        {
            529 => "Received an Anthropic server is temporarily overloaded status code",
            >= 500 => ProviderErrors.ServerError,
            429 => ProviderErrors.RateLimit + ". " + RateLimitDetails(response),
            403 => ProviderErrors.PermissionDenied,
            401 => ProviderErrors.Authentication,
            >= 300 and < 400 => ProviderErrors.Redirection,
            _ => ProviderErrors.Unsuccessful,
        };
        return ProviderErrors.WithPrefix(prefix, status, inferenceId, ProviderErrors.ExtractMessage(body), _secrets);
    }

    /// <summary>An <c>error</c> event inside a stream, with the status Elasticsearch gives its type.</summary>
    internal InferenceApiException StreamError(string data)
    {
        string? type = null, message = null;
        try
        {
            var error = JsonNode.Parse(data)?["error"];
            type = ProviderJson.String(error?["type"]);
            message = ProviderJson.String(error?["message"]);
        }
        catch (JsonException)
        {
            message = data;
        }

        var status = type switch
        {
            "invalid_request_error" => 400,
            "authentication_error" => 401,
            "permission_error" => 403,
            "not_found_error" => 404,
            "request_too_large" => 413,
            "rate_limit_error" => 429,
            _ => 500,
        };
        var reason = string.IsNullOrEmpty(message)
            ? $"Received an error response for request from inference entity id [{inferenceId}]"
            : $"Received an error response for request from inference entity id [{inferenceId}]. Error message: [{message}]";
        return new InferenceApiException(status, InferenceApiException.StatusExceptionType, SecretRedaction.Redact(reason, _secrets));
    }

    private static string RateLimitDetails(HttpResponseMessage response)
    {
        string Header(string name) => response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() ?? "unknown" : "unknown";
        return string.Create(CultureInfo.InvariantCulture,
            $"Token limit [{Header("anthropic-ratelimit-tokens-limit")}], remaining tokens [{Header("anthropic-ratelimit-tokens-remaining")}], tokens reset [{Header("anthropic-ratelimit-tokens-reset")}]. Request limit [{Header("anthropic-ratelimit-requests-limit")}], remaining requests [{Header("anthropic-ratelimit-requests-remaining")}], request reset [{Header("anthropic-ratelimit-requests-reset")}]. Retry after [{Header("retry-after")}]");
    }

    private async IAsyncEnumerable<GenerationUpdate> StreamCoreAsync(
        IReadOnlyList<ChatMessage> messages, GenerationOptions? options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var response = await ProviderJson.SendAsync(http, HttpMethod.Post, messagesUri, BuildRequest(messages, options, stream: true), _headers, stream: true,
            (failed, text) => Error(failed, text), cancellationToken).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var promptTokens = OpenAiTarget.EstimatePromptTokens(messages);
        int? reportedInput = null, reportedOutput = null;
        var characters = 0;
        FinishReason? finish = null;
        var stopped = false;
        // message_start reports the input (and a placeholder output); message_delta the output so far. Until then, count.
        UsageDetails Usage() => new(reportedInput ?? promptTokens, reportedOutput ?? ((characters + 3) / 4));

        await foreach (var item in SseParser.Create(body).EnumerateAsync(cancellationToken).ConfigureAwait(false))
        {
            if (string.IsNullOrWhiteSpace(item.Data))
            {
                continue;
            }

            JsonNode? data;
            try
            {
                data = JsonNode.Parse(item.Data);
            }
            catch (JsonException ex)
            {
                throw ProviderJson.Malformed(inferenceId, "a stream event is not JSON", ex);
            }

            var type = ProviderJson.String(data?["type"]) ?? item.EventType;
            switch (type)
            {
                case "error":
                    throw StreamError(item.Data);
                case "message_start":
                    reportedInput = ProviderJson.Int(data?["message"]?["usage"]?["input_tokens"]) ?? reportedInput;
                    break;
                case "content_block_start" when ProviderJson.String(data?["content_block"]?["text"]) is { Length: > 0 } first:
                    characters += first.Length;
                    yield return new GenerationUpdate(first, null, Usage());
                    break;
                case "content_block_delta" when ProviderJson.String(data?["delta"]?["text"]) is { Length: > 0 } piece:
                    characters += piece.Length;
                    yield return new GenerationUpdate(piece, null, Usage());
                    break;
                case "message_delta":
                    finish = FinishReasonOf(ProviderJson.String(data?["delta"]?["stop_reason"])) ?? finish;
                    reportedOutput = ProviderJson.Int(data?["usage"]?["output_tokens"]) ?? reportedOutput;
                    reportedInput = ProviderJson.Int(data?["usage"]?["input_tokens"]) ?? reportedInput;
                    break;
                case "message_stop":
                    stopped = true;
                    break;
            }

            if (stopped)
            {
                break;
            }
        }

        if (!stopped)
        {
            // Ended without message_stop: a cut connection, not an answer.
            throw ProviderJson.StreamEnded(inferenceId);
        }

        yield return new GenerationUpdate(string.Empty, finish ?? FinishReason.Stop, Usage());
    }
}
