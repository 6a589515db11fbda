using WebConsole.Inference.Abstractions;

namespace WebConsole.Infrastructure.Connectors.OpenAi;

/// <summary>
/// completion and chat_completion of an OpenAI-compatible endpoint: a completion is a chat with the prompt as the one user
/// message, as Elasticsearch sends it. Thread-safe.
/// </summary>
internal sealed class OpenAiChatClient(IOpenAiChatBackend backend) : IChatClient, ITextCompletionClient
{
    /// <inheritdoc />
    public Task<GenerationResponse> GetResponseAsync(IReadOnlyList<ChatMessage> messages, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        backend.CompleteAsync(messages, options, cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<GenerationUpdate> GetStreamingResponseAsync(IReadOnlyList<ChatMessage> messages, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        backend.StreamAsync(messages, options, cancellationToken);

    /// <inheritdoc />
    public Task<GenerationResponse> CompleteAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        backend.CompleteAsync([new ChatMessage(ChatRole.User, prompt)], options, cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<GenerationUpdate> CompleteStreamingAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        backend.StreamAsync([new ChatMessage(ChatRole.User, prompt)], options, cancellationToken);
}
