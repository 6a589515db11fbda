namespace WebConsole.Inference.Abstractions;

/// <summary>Options of one rerank request.</summary>
public sealed record RerankOptions
{
    /// <summary>Keep only the best <c>TopN</c> documents; null keeps all.</summary>
    public int? TopN { get; init; }

    /// <summary>
    /// The request's <c>return_documents</c> (true when the request leaves it out), for clients that forward it to a
    /// provider; null when the caller does not know it. The answer's texts are the request's documents either way.
    /// </summary>
    public bool? ReturnDocuments { get; init; }
}

/// <summary>One scored document.</summary>
/// <param name="Index">Position of the document in the request.</param>
/// <param name="RelevanceScore">The model's relevance score (higher is more relevant).</param>
public readonly record struct RerankedDocument(int Index, float RelevanceScore);

/// <summary>Documents sorted by descending score (ties by index), cut to <see cref="RerankOptions.TopN"/>.</summary>
public sealed record RerankResult(IReadOnlyList<RerankedDocument> Documents, UsageDetails Usage);

/// <summary>Scores documents against a query (cross-encoder). Thread-safe; requests are batched.</summary>
public interface IReranker
{
    /// <summary>Scores every document against the query.</summary>
    Task<RerankResult> RerankAsync(string query, IReadOnlyList<string> documents, RerankOptions? options = null, CancellationToken cancellationToken = default);
}
