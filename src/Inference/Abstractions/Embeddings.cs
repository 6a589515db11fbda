using WebConsole.Domain.Endpoints;

namespace WebConsole.Inference.Abstractions;

/// <summary>Options of one embedding request.</summary>
public sealed record EmbeddingOptions
{
    /// <summary>Query or document; models with prefixes (E5) apply theirs.</summary>
    public InputType InputType { get; init; }

    /// <summary>
    /// When false, an input longer than the model's maximum length is an error instead of being truncated (the chunked
    /// route never truncates silently).
    /// </summary>
    public bool AllowTruncation { get; init; } = true;
}

/// <summary>One dense embedding.</summary>
/// <param name="Vector">The (normalised, where the model's pooling says so) vector.</param>
/// <param name="IsTruncated">Whether the input was cut to the model's maximum length.</param>
public sealed record DenseEmbedding(float[] Vector, bool IsTruncated);

/// <summary>The embeddings of a request, one per input in input order, and the tokens read.</summary>
public sealed record DenseEmbeddingResult(IReadOnlyList<DenseEmbedding> Embeddings, UsageDetails Usage);

/// <summary>One sparse (SPLADE-style) embedding: vocabulary tokens and their weights.</summary>
/// <param name="Weights">Token text to weight, only positive weights, largest first.</param>
/// <param name="IsTruncated">Whether the input was cut to the model's maximum length.</param>
public sealed record SparseEmbedding(IReadOnlyList<KeyValuePair<string, float>> Weights, bool IsTruncated);

/// <summary>The sparse embeddings of a request, one per input in input order, and the tokens read.</summary>
public sealed record SparseEmbeddingResult(IReadOnlyList<SparseEmbedding> Embeddings, UsageDetails Usage);

/// <summary>
/// Produces dense embeddings (Microsoft.Extensions.AI's <c>IEmbeddingGenerator</c> shape). Implementations are
/// thread-safe: many requests may call at once, and the host batches them.
/// </summary>
public interface IDenseEmbeddingGenerator
{
    /// <summary>Embeds each input. Throws <see cref="InferenceException"/> subtypes for overload, bad input or model failure.</summary>
    Task<DenseEmbeddingResult> GenerateAsync(IReadOnlyList<string> inputs, EmbeddingOptions? options = null, CancellationToken cancellationToken = default);
}

/// <summary>Produces sparse embeddings. Thread-safe, like <see cref="IDenseEmbeddingGenerator"/>.</summary>
public interface ISparseEmbeddingGenerator
{
    /// <summary>Embeds each input.</summary>
    Task<SparseEmbeddingResult> GenerateAsync(IReadOnlyList<string> inputs, EmbeddingOptions? options = null, CancellationToken cancellationToken = default);
}
