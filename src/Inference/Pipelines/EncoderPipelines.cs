using WebConsole.Inference.Models;
using WebConsole.Inference.Tokenization;

namespace WebConsole.Inference.Pipelines;

/// <summary>
/// Builds the encoder pipelines of a model folder: a session from the factory (one per allocation), the folder's
/// tokenizer (loaded once and shareable between allocations) and the settings the folder implies.
/// </summary>
public static class EncoderPipelines
{
    /// <summary>A text_embedding pipeline.</summary>
    public static TextEmbeddingPipeline CreateTextEmbedding(ModelFolder model, OnnxSessionFactory sessions, int numThreads = 1, ITokenizer? tokenizer = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        tokenizer ??= model.LoadTokenizer();
        return new TextEmbeddingPipeline(OpenSession(model, sessions, numThreads, tokenizer), tokenizer, TextEmbeddingSettings.For(model, tokenizer));
    }

    /// <summary>A sparse_embedding pipeline; <paramref name="maxTokens"/> caps the weights per input.</summary>
    public static SparseEmbeddingPipeline CreateSparseEmbedding(ModelFolder model, OnnxSessionFactory sessions, int numThreads = 1, ITokenizer? tokenizer = null, int? maxTokens = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        tokenizer ??= model.LoadTokenizer();
        return new SparseEmbeddingPipeline(OpenSession(model, sessions, numThreads, tokenizer), tokenizer, model.MaxInputLength(tokenizer), maxTokens);
    }

    /// <summary>A rerank pipeline.</summary>
    public static RerankPipeline CreateRerank(ModelFolder model, OnnxSessionFactory sessions, int numThreads = 1, ITokenizer? tokenizer = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        tokenizer ??= model.LoadTokenizer();
        return new RerankPipeline(OpenSession(model, sessions, numThreads, tokenizer), tokenizer, model.MaxInputLength(tokenizer));
    }

    private static EncoderSession OpenSession(ModelFolder model, OnnxSessionFactory sessions, int numThreads, ITokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        var session = sessions.Create(model, numThreads);
        try
        {
            return new EncoderSession(model.Id, session, tokenizer.Special.Pad ?? 0);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }
}
