using WebConsole.Domain.Endpoints;

namespace WebConsole.Inference.Abstractions;

// Optional capabilities of a client: counting a request's input tokens with the model's own tokenizer, before the request
// is admitted (rate limits, budgets) and without running the model. A client that cannot count (an external service)
// simply does not implement them, and the caller estimates instead.

/// <summary>
/// Counts the input tokens of an embedding request exactly as the model will read them (the input type's prefix, special
/// tokens and truncation to the model's maximum length included), so the count equals the usage the request reports.
/// Thread-safe; loads no ONNX session.
/// </summary>
public interface IEmbeddingTokenCounter
{
    /// <summary>The tokens of <paramref name="inputs"/> read as <paramref name="inputType"/>.</summary>
    long CountInputTokens(IReadOnlyList<string> inputs, InputType inputType);
}

/// <summary>
/// Counts the input tokens of a rerank request: the query paired with each document, as the cross-encoder reads them.
/// Thread-safe; loads no ONNX session.
/// </summary>
public interface IRerankTokenCounter
{
    /// <summary>The tokens of every (query, document) pair.</summary>
    long CountInputTokens(string query, IReadOnlyList<string> documents);
}

/// <summary>
/// Counts the prompt tokens of a generation request: the conversation rendered with the model's chat template, or the plain
/// completion prompt. Thread-safe; loads no ONNX session.
/// </summary>
public interface IPromptTokenCounter
{
    /// <summary>The prompt tokens of a conversation under the model's chat template.</summary>
    /// <exception cref="InferenceInputException">The model has no chat template.</exception>
    long CountPromptTokens(IReadOnlyList<ChatMessage> messages);

    /// <summary>The prompt tokens of a completion prompt.</summary>
    long CountPromptTokens(string prompt);
}
