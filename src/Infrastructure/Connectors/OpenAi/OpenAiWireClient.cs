using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Connectors.Outbound;

namespace WebConsole.Infrastructure.Connectors.OpenAi;

/// <summary>
/// Embeddings and chat completions over the OpenAI wire format with typed models on <see cref="HttpClient"/>: embeddings
/// for every OpenAI-compatible service (as floats, which every one of them speaks), and chat for the providers whose
/// dialect the official package does not send (<c>max_tokens</c>, no <c>stream_options</c> for Mistral). Usage comes from the
/// provider's answer, or is counted (about four characters a token) when it reports none. Thread-safe.
/// </summary>
internal sealed class OpenAiWireClient(OpenAiTarget target, HttpClient http) : IDenseEmbeddingGenerator, IOpenAiChatBackend
{
    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json");

    /// <inheritdoc />
    public async Task<DenseEmbeddingResult> GenerateAsync(IReadOnlyList<string> inputs, EmbeddingOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var body = new EmbeddingsRequest(inputs, target.Model, "float", target.Dimensions, target.User);
        EmbeddingsResponse? parsed;
        try
        {
            using var response = await PostAsync(target.EmbeddingsUri!, body, stream: false, cancellationToken).ConfigureAwait(false);
            parsed = await ReadJsonAsync<EmbeddingsResponse>(response, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (OpenAiProviderErrors.Map(target, ex, streamStarted: false) is { } mapped)
        {
            throw mapped;
        }

        var data = parsed?.Data ?? throw OpenAiProviderErrors.Malformed(target, "no [data] in the embeddings response");
        if (data.Count != inputs.Count || data.Any(d => d.Embedding is null))
        {
            throw OpenAiProviderErrors.Malformed(target, $"expected {inputs.Count} embeddings, got {data.Count(d => d.Embedding is not null)}");
        }

        var embeddings = data.OrderBy(d => d.Index).Select(d => new DenseEmbedding(d.Embedding!, IsTruncated: false)).ToList();
        var inputTokens = parsed.Usage?.PromptTokens ?? parsed.Usage?.TotalTokens ?? inputs.Sum(OpenAiTarget.EstimateTokens);
        return new DenseEmbeddingResult(embeddings, new UsageDetails(inputTokens, 0));
    }

    /// <inheritdoc />
    public async Task<GenerationResponse> CompleteAsync(IReadOnlyList<ChatMessage> messages, GenerationOptions? options, CancellationToken cancellationToken)
    {
        ChatResponse? parsed;
        try
        {
            using var response = await PostAsync(target.ChatUri!, BuildChat(messages, options, stream: false), stream: false, cancellationToken).ConfigureAwait(false);
            parsed = await ReadJsonAsync<ChatResponse>(response, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (OpenAiProviderErrors.Map(target, ex, streamStarted: false) is { } mapped)
        {
            throw mapped;
        }

        var choice = (parsed?.Choices is { Count: > 0 } choices ? choices[0] : null) ?? throw OpenAiProviderErrors.Malformed(target, "no [choices] in the chat completion");
        var text = choice.Message?.Content ?? string.Empty;
        var usage = parsed!.Usage is { PromptTokens: { } prompt } reported
            ? new UsageDetails(prompt, reported.CompletionTokens ?? 0)
            : new UsageDetails(OpenAiTarget.EstimatePromptTokens(messages), OpenAiTarget.EstimateTokens(text));
        return new GenerationResponse(text, OpenAiFinishReasons.Parse(choice.FinishReason) ?? FinishReason.Stop, usage);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<GenerationUpdate> StreamAsync(IReadOnlyList<ChatMessage> messages, GenerationOptions? options, CancellationToken cancellationToken) =>
        OpenAiStreams.MapErrors((ex, started) => OpenAiProviderErrors.Map(target, ex, started), StreamCoreAsync(messages, options, cancellationToken), cancellationToken);

    private async IAsyncEnumerable<GenerationUpdate> StreamCoreAsync(
        IReadOnlyList<ChatMessage> messages, GenerationOptions? options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var response = await PostAsync(target.ChatUri!, BuildChat(messages, options, stream: true), stream: true, cancellationToken).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var usage = new OpenAiStreams.UsageTracker(messages);
        string? finish = null;
        var done = false;
        await foreach (var item in SseParser.Create(body).EnumerateAsync(cancellationToken).ConfigureAwait(false))
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

            var chunk = ParseChunk(item.EventType, item.Data);
            if (chunk.Usage is { PromptTokens: { } prompt } reported)
            {
                usage.Reported = new UsageDetails(prompt, reported.CompletionTokens ?? 0);
            }

            foreach (var choice in chunk.Choices ?? [])
            {
                if (choice.Index != 0)
                {
                    continue;
                }

                if (choice.Delta?.Content is { Length: > 0 } text)
                {
                    yield return new GenerationUpdate(text, null, usage.Add(text));
                }

                finish = choice.FinishReason ?? finish;
            }
        }

        if (finish is null && !done)
        {
            // Ended without the provider saying the answer was complete: a cut connection, not an answer.
            throw OpenAiProviderErrors.StreamEnded(target);
        }

        yield return new GenerationUpdate(string.Empty, OpenAiFinishReasons.Parse(finish) ?? FinishReason.Stop, usage.Final);
    }

    private ChatResponse ParseChunk(string eventType, string data)
    {
        using var document = ParseDocument(data);
        if (eventType == "error" || document.RootElement.TryGetProperty("error", out _))
        {
            throw OpenAiProviderErrors.StreamError(target, ProviderErrors.ExtractMessage(data));
        }

        return document.RootElement.Deserialize<ChatResponse>(OpenAiJson.Options)
            ?? throw OpenAiProviderErrors.Malformed(target, "an empty stream chunk");
    }

    private JsonDocument ParseDocument(string data)
    {
        try
        {
            return JsonDocument.Parse(data);
        }
        catch (JsonException ex)
        {
            throw OpenAiProviderErrors.Malformed(target, "a stream chunk is not JSON", ex);
        }
    }

    private ChatRequest BuildChat(IReadOnlyList<ChatMessage> messages, GenerationOptions? options, bool stream) => new()
    {
        Model = target.Model,
        Messages = [.. messages.Select(m => new WireMessage(OpenAiFinishReasons.RoleName(m.Role), m.Text))],
        MaxTokens = target.UsesMaxCompletionTokens ? null : options?.MaxOutputTokens,
        MaxCompletionTokens = target.UsesMaxCompletionTokens ? options?.MaxOutputTokens : null,
        Temperature = options?.Temperature,
        TopP = options?.TopP,
        Seed = options?.Seed,
        Stop = options?.StopSequences is { Count: > 0 } stop ? stop : null,
        User = target.User,
        Stream = stream ? true : null,
        StreamOptions = stream && target.RequestsStreamUsage ? new StreamOptions(IncludeUsage: true) : null,
    };

    private async Task<HttpResponseMessage> PostAsync<T>(Uri uri, T body, bool stream, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, OpenAiJson.Options)),
        };
        request.Content.Headers.ContentType = JsonMediaType;
        request.Headers.Accept.ParseAdd(stream ? "text/event-stream" : "application/json");
        foreach (var (name, value) in target.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await ProviderErrors.FromResponseAsync(response, target.InferenceId, target.Secrets, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<T?> ReadJsonAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return await JsonSerializer.DeserializeAsync<T>(stream, OpenAiJson.Options, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            throw OpenAiProviderErrors.Malformed(target, "the body is not the expected JSON", ex);
        }
    }
}
