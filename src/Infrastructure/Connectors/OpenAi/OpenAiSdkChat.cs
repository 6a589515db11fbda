using System.ClientModel;
using System.ClientModel.Primitives;
using System.Runtime.CompilerServices;
using OpenAI;
using OpenAI.Chat;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Connectors.Outbound;
using AbstractChatMessage = WebConsole.Inference.Abstractions.ChatMessage;
using SdkChatMessage = OpenAI.Chat.ChatMessage;

namespace WebConsole.Infrastructure.Connectors.OpenAi;

/// <summary>
/// Chat completions of <c>openai</c> and <c>azureopenai</c> through the official OpenAI package. The package sends over the
/// connector's <see cref="HttpClient"/> (the guard, throttle, timeout and retries are ours, so its own retries are off)
/// and a last pipeline step points each call at the endpoint's exact URL with its headers (Azure's deployment URL and
/// <c>api-key</c> included). Its streams ask for the final usage chunk themselves. Thread-safe.
/// </summary>
internal sealed class OpenAiSdkChat : IOpenAiChatBackend
{
    private readonly OpenAiTarget _target;
    private readonly ChatClient _client;

    public OpenAiSdkChat(OpenAiTarget target, HttpClient http)
    {
        _target = target;
        var options = new OpenAIClientOptions
        {
            Endpoint = new Uri(target.ChatUri!.GetLeftPart(UriPartial.Authority)),
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = Timeout.InfiniteTimeSpan,
        };
        options.AddPolicy(new TargetPolicy(target), PipelinePosition.BeforeTransport);
        // The credential is required by the package; TargetPolicy sets the real authentication headers.
        _client = new ChatClient(target.Model ?? "deployment", new ApiKeyCredential(target.ApiKey ?? "unused"), options);
    }

    /// <inheritdoc />
    public async Task<GenerationResponse> CompleteAsync(IReadOnlyList<AbstractChatMessage> messages, GenerationOptions? options, CancellationToken cancellationToken)
    {
        ChatCompletion completion;
        try
        {
            completion = (await _client.CompleteChatAsync(ToSdk(messages), ToSdk(options), cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (Exception ex) when (Map(ex, streamStarted: false) is { } mapped)
        {
            throw mapped;
        }

        var text = string.Concat(completion.Content.Where(p => p.Kind == ChatMessageContentPartKind.Text).Select(p => p.Text));
        var usage = completion.Usage is { } reported
            ? new UsageDetails(reported.InputTokenCount, reported.OutputTokenCount)
            : new UsageDetails(OpenAiTarget.EstimatePromptTokens(messages), OpenAiTarget.EstimateTokens(text));
        return new GenerationResponse(text, ToFinishReason(completion.FinishReason), usage);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<GenerationUpdate> StreamAsync(IReadOnlyList<AbstractChatMessage> messages, GenerationOptions? options, CancellationToken cancellationToken) =>
        OpenAiStreams.MapErrors(Map, StreamCoreAsync(messages, options, cancellationToken), cancellationToken);

    private async IAsyncEnumerable<GenerationUpdate> StreamCoreAsync(
        IReadOnlyList<AbstractChatMessage> messages, GenerationOptions? options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var usage = new OpenAiStreams.UsageTracker(messages);
        ChatFinishReason? finish = null;
        await foreach (var update in _client.CompleteChatStreamingAsync(ToSdk(messages), ToSdk(options), cancellationToken).ConfigureAwait(false))
        {
            if (update.Usage is { } reported)
            {
                usage.Reported = new UsageDetails(reported.InputTokenCount, reported.OutputTokenCount);
            }

            foreach (var part in update.ContentUpdate)
            {
                if (part.Kind == ChatMessageContentPartKind.Text && part.Text is { Length: > 0 } text)
                {
                    yield return new GenerationUpdate(text, null, usage.Add(text));
                }
            }

            finish = update.FinishReason ?? finish;
        }

        if (finish is null)
        {
            // The package ends quietly when the connection does; without a finish reason the answer is cut.
            throw OpenAiProviderErrors.StreamEnded(_target);
        }

        yield return new GenerationUpdate(string.Empty, ToFinishReason(finish.Value), usage.Final);
    }

    // The package reports a provider's error status as ClientResultException with the response; a transport failure as
    // ClientResultException (status 0) around the HttpRequestException.
    private Endpoints.InferenceApiException? Map(Exception exception, bool streamStarted)
    {
        if (exception is ClientResultException { Status: > 0 } failed)
        {
            var response = failed.GetRawResponse();
            string? body = null;
            try
            {
                body = response?.Content?.ToString();
            }
            catch (InvalidOperationException)
            {
                // The body was not buffered.
            }

            return ProviderErrors.FromStatus(failed.Status, _target.InferenceId, ProviderErrors.ExtractMessage(body), _target.ChatUri, _target.Secrets);
        }

        return OpenAiProviderErrors.Map(_target, exception is ClientResultException { InnerException: { } inner } ? inner : exception, streamStarted);
    }

    private static List<SdkChatMessage> ToSdk(IReadOnlyList<AbstractChatMessage> messages) =>
        [.. messages.Select(m => m.Role switch
        {
            ChatRole.System => (SdkChatMessage)new SystemChatMessage(m.Text),
            ChatRole.Assistant => new AssistantChatMessage(m.Text),
            _ => new UserChatMessage(m.Text),
        })];

    private ChatCompletionOptions ToSdk(GenerationOptions? options)
    {
        var sdk = new ChatCompletionOptions
        {
            MaxOutputTokenCount = options?.MaxOutputTokens,
            Temperature = options?.Temperature,
            TopP = options?.TopP,
            EndUserId = _target.User,
        };
#pragma warning disable OPENAI001 // Seed is marked experimental by the package.
        sdk.Seed = options?.Seed;
#pragma warning restore OPENAI001
        foreach (var stop in options?.StopSequences ?? [])
        {
            sdk.StopSequences.Add(stop);
        }

        return sdk;
    }

    private static FinishReason ToFinishReason(ChatFinishReason reason) => reason switch
    {
        ChatFinishReason.Length => FinishReason.Length,
        ChatFinishReason.ToolCalls or ChatFinishReason.FunctionCall => FinishReason.ToolCalls,
        _ => FinishReason.Stop,
    };

    /// <summary>Points every call at the endpoint's URL and sets its headers, replacing the package's bearer header.</summary>
    private sealed class TargetPolicy(OpenAiTarget target) : PipelinePolicy
    {
        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            Apply(message);
            ProcessNext(message, pipeline, currentIndex);
        }

        public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            Apply(message);
            return ProcessNextAsync(message, pipeline, currentIndex);
        }

        private void Apply(PipelineMessage message)
        {
            message.Request.Uri = target.ChatUri;
            message.Request.Headers.Remove("Authorization");
            foreach (var (name, value) in target.Headers)
            {
                message.Request.Headers.Set(name, value);
            }
        }
    }
}
