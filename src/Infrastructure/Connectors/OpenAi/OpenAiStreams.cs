using System.Runtime.CompilerServices;
using WebConsole.Inference.Abstractions;

namespace WebConsole.Infrastructure.Connectors.OpenAi;

/// <summary>A chat transport of an OpenAI-compatible endpoint (the official package, or typed models on HttpClient).</summary>
internal interface IOpenAiChatBackend
{
    /// <summary>One answer; provider failures as <see cref="Endpoints.InferenceApiException"/>.</summary>
    Task<GenerationResponse> CompleteAsync(IReadOnlyList<ChatMessage> messages, GenerationOptions? options, CancellationToken cancellationToken);

    /// <summary>
    /// The answer piece by piece as the provider sends it; every piece carries the usage so far (counted), the last one the
    /// finish reason and the provider's usage. Failures as <see cref="Endpoints.InferenceApiException"/>.
    /// </summary>
    IAsyncEnumerable<GenerationUpdate> StreamAsync(IReadOnlyList<ChatMessage> messages, GenerationOptions? options, CancellationToken cancellationToken);
}

/// <summary>What both chat transports share about streams.</summary>
internal static class OpenAiStreams
{
    /// <summary>
    /// <paramref name="source"/> with its failures mapped to the contract's errors by <paramref name="map"/> (told whether
    /// a piece was handed out already: then a cut connection is <see cref="OpenAiProviderErrors.StreamEnded"/>); what it
    /// maps to null (the caller's cancellation, bugs) passes unchanged.
    /// </summary>
    public static async IAsyncEnumerable<GenerationUpdate> MapErrors(
        Func<Exception, bool, Endpoints.InferenceApiException?> map, IAsyncEnumerable<GenerationUpdate> source, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var enumerator = source.GetAsyncEnumerator(cancellationToken);
        await using (enumerator.ConfigureAwait(false))
        {
            var started = false;
            while (true)
            {
                bool more;
                try
                {
                    more = await enumerator.MoveNextAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (map(ex, started) is { } mapped)
                {
                    throw mapped;
                }

                if (!more)
                {
                    break;
                }

                started = true;
                yield return enumerator.Current;
            }
        }
    }

    /// <summary>Counts a stream's tokens until the provider reports its own.</summary>
    internal sealed class UsageTracker(IReadOnlyList<ChatMessage> messages)
    {
        private readonly int _promptTokens = OpenAiTarget.EstimatePromptTokens(messages);
        private int _characters;

        /// <summary>The provider's usage, once a chunk carried it.</summary>
        public UsageDetails? Reported { get; set; }

        /// <summary>The usage at the end: the provider's, else counted.</summary>
        public UsageDetails Final => Reported ?? Counted;

        private UsageDetails Counted => new(_promptTokens, (_characters + 3) / 4);

        /// <summary>Adds a piece of text and answers the usage so far.</summary>
        public UsageDetails Add(string text)
        {
            _characters += text.Length;
            return Reported ?? Counted;
        }
    }
}

/// <summary>Names of the wire format.</summary>
internal static class OpenAiFinishReasons
{
    /// <summary>A <c>finish_reason</c> as <see cref="FinishReason"/>; null when absent.</summary>
    public static FinishReason? Parse(string? finishReason) => finishReason switch
    {
        null => null,
        "length" or "model_length" => FinishReason.Length,
        "tool_calls" or "function_call" => FinishReason.ToolCalls,
        _ => FinishReason.Stop,
    };

    /// <summary>A role's wire name (a tool's result goes as a user message: the abstraction carries no tool call ids).</summary>
    public static string RoleName(ChatRole role) => role switch
    {
        ChatRole.System => "system",
        ChatRole.Assistant => "assistant",
        _ => "user",
    };
}
