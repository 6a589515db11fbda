using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;

namespace WebConsole.Inference.Models;

/// <summary>What a model folder serves, read from its files (the counterpart of what Eland records when it uploads a model).</summary>
/// <param name="TaskType">The task type its architecture serves (decoders: chat_completion, which also does completion).</param>
/// <param name="Dimensions">The embedding dimensions of a text_embedding model (config.json's hidden_size), else null.</param>
/// <param name="MaxInputTokens">The longest input in tokens.</param>
/// <param name="Architecture">config.json's first architecture, or its model_type, when stated.</param>
public sealed record ModelDescription(TaskType TaskType, int? Dimensions, int MaxInputTokens, string? Architecture);

/// <summary>Reads a model folder's task type, dimensions and input length from config.json and the tokenizer files.</summary>
public static class ModelInspector
{
    /// <summary>
    /// Describes a folder: <c>*ForCausalLM</c> is a decoder (chat_completion), <c>*ForSequenceClassification</c> a
    /// cross-encoder (rerank), <c>*ForMaskedLM</c> a SPLADE-style sparse encoder (sparse_embedding), anything else an
    /// embedder (text_embedding). Loads the tokenizer for the input length.
    /// </summary>
    /// <exception cref="ModelUnavailableException">The tokenizer cannot be loaded.</exception>
    public static ModelDescription Inspect(ModelFolder folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var architectures = folder.Config.Architectures;
        var taskType =
            architectures.Any(a => a.EndsWith("ForCausalLM", StringComparison.Ordinal)) ? TaskType.ChatCompletion
            : architectures.Any(a => a.EndsWith("ForSequenceClassification", StringComparison.Ordinal)) ? TaskType.Rerank
            : architectures.Any(a => a.EndsWith("ForMaskedLM", StringComparison.Ordinal)) ? TaskType.SparseEmbedding
            : TaskType.TextEmbedding;
        var maxInput = taskType == TaskType.ChatCompletion
            ? folder.Config.MaxInputLength ?? folder.LoadTokenizer().ModelMaxLength ?? 2048
            : folder.MaxInputLength(folder.LoadTokenizer());
        return new ModelDescription(
            taskType,
            taskType == TaskType.TextEmbedding ? folder.Config.HiddenSize : null,
            maxInput,
            architectures.Count > 0 ? architectures[0] : folder.Config.ModelType);
    }
}
