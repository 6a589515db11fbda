namespace WebConsole.Inference.Abstractions;

/// <summary>Who wrote a chat message.</summary>
public enum ChatRole
{
    /// <summary>Instructions.</summary>
    System,

    /// <summary>The user.</summary>
    User,

    /// <summary>The model.</summary>
    Assistant,

    /// <summary>A tool's result.</summary>
    Tool,
}

/// <summary>One message of a conversation.</summary>
public sealed record ChatMessage(ChatRole Role, string Text);

/// <summary>Why generation stopped (OpenAI's <c>finish_reason</c>).</summary>
public enum FinishReason
{
    /// <summary>The model ended its answer or a stop sequence matched.</summary>
    Stop,

    /// <summary>The token limit was reached.</summary>
    Length,

    /// <summary>The model asked for a tool.</summary>
    ToolCalls,
}

/// <summary>Sampling and length settings of one generation.</summary>
public sealed record GenerationOptions
{
    /// <summary>Most tokens to generate; null uses the host's default.</summary>
    public int? MaxOutputTokens { get; init; }

    /// <summary>0 is greedy decoding; null takes the model's generation_config.json defaults (greedy when it does not sample).</summary>
    public float? Temperature { get; init; }

    /// <summary>Nucleus sampling mass, 0..1.</summary>
    public float? TopP { get; init; }

    /// <summary>Makes sampling reproducible.</summary>
    public long? Seed { get; init; }

    /// <summary>Texts that end generation; the matched text is not returned.</summary>
    public IReadOnlyList<string> StopSequences { get; init; } = [];
}

/// <summary>A finished generation.</summary>
public sealed record GenerationResponse(string Text, FinishReason FinishReason, UsageDetails Usage);

/// <summary>
/// A piece of a streamed generation: <see cref="Text"/> never splits a character; the last update carries
/// <see cref="FinishReason"/> and the total <see cref="Usage"/>. Earlier updates may carry the usage so far (the embedded
/// host's do), which billing checkpoints while the stream runs; null when the client cannot tell.
/// </summary>
public sealed record GenerationUpdate(string Text, FinishReason? FinishReason = null, UsageDetails? Usage = null);

/// <summary>
/// A chat model (Microsoft.Extensions.AI's <c>IChatClient</c> shape). Thread-safe. Cancelling the token stops
/// generation at once and frees the model for others; the usage so far stays countable by the caller.
/// </summary>
public interface IChatClient
{
    /// <summary>Answers a conversation.</summary>
    Task<GenerationResponse> GetResponseAsync(IReadOnlyList<ChatMessage> messages, GenerationOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Answers a conversation one piece at a time.</summary>
    IAsyncEnumerable<GenerationUpdate> GetStreamingResponseAsync(IReadOnlyList<ChatMessage> messages, GenerationOptions? options = null, CancellationToken cancellationToken = default);
}

/// <summary>Plain text completion of a prompt (no chat template). Thread-safe.</summary>
public interface ITextCompletionClient
{
    /// <summary>Continues the prompt.</summary>
    Task<GenerationResponse> CompleteAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Continues the prompt one piece at a time.</summary>
    IAsyncEnumerable<GenerationUpdate> CompleteStreamingAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default);
}
