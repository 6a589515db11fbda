using WebConsole.Inference.Abstractions;

namespace WebConsole.Infrastructure.Connectors.OpenAi;

/// <summary>Where and how one endpoint calls its OpenAI-compatible provider.</summary>
internal sealed record OpenAiTarget
{
    /// <summary>The service name (errors, logs).</summary>
    public required string Service { get; init; }

    /// <summary>The endpoint's id, as Elasticsearch names it in provider errors.</summary>
    public required string InferenceId { get; init; }

    /// <summary>The full embeddings URL (text_embedding endpoints).</summary>
    public Uri? EmbeddingsUri { get; init; }

    /// <summary>The full chat completions URL (completion and chat_completion endpoints).</summary>
    public Uri? ChatUri { get; init; }

    /// <summary>The <c>model</c> sent in bodies; null where the URL names it (Azure deployments).</summary>
    public string? Model { get; init; }

    /// <summary>Authentication and account headers of every call (secret values).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>The API key for clients that take a credential (the OpenAI package); null when the headers carry it.</summary>
    public string? ApiKey { get; init; }

    /// <summary>The task settings' <c>user</c>, sent as the end-user id.</summary>
    public string? User { get; init; }

    /// <summary>Dimensions to ask for (only when the tenant set them; a probed size is not sent).</summary>
    public int? Dimensions { get; init; }

    /// <summary>Whether the output cap goes out as <c>max_completion_tokens</c> (OpenAI) rather than <c>max_tokens</c>.</summary>
    public bool UsesMaxCompletionTokens { get; init; }

    /// <summary>Whether streams ask for a final usage chunk with <c>stream_options.include_usage</c>.</summary>
    public bool RequestsStreamUsage { get; init; } = true;

    /// <summary>Secret values to keep out of messages.</summary>
    public IReadOnlyList<string> Secrets { get; init; } = [];

    /// <summary>About four characters a token: the count when a provider reports no usage.</summary>
    public static int EstimateTokens(string text) => (text.Length + 3) / 4;

    /// <summary>The estimated prompt tokens of a conversation (its texts plus a few tokens a message for roles).</summary>
    public static int EstimatePromptTokens(IReadOnlyList<ChatMessage> messages) =>
        messages.Sum(m => EstimateTokens(m.Text) + 4);
}
