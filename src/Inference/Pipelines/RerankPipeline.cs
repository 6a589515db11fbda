using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Tokenization;

namespace WebConsole.Inference.Pipelines;

/// <summary>
/// rerank: a cross-encoder (sequence classification) scores (query, document) pairs encoded as one pair input
/// ([CLS] query [SEP] document [SEP], token types 0/1), truncated to the model's maximum length.
/// <para>
/// Score: for a single-label model, sigmoid(logit), a relevance in (0, 1): what transformers' text-classification
/// pipeline, sentence-transformers' CrossEncoder.predict and Hugging Face TEI's /rerank return for such models by default;
/// for a two-label model, the softmax probability of the last label. Both are monotonic in the logit, so the order is the
/// same as with raw logits; <c>rawScores</c> returns the logit itself.
/// </para>
/// Batching as in <see cref="TextEmbeddingPipeline"/>. Thread-safe.
/// </summary>
public sealed class RerankPipeline : IReranker, IDisposable
{
    private readonly EncoderSession _session;
    private readonly string _output;
    private readonly bool _rawScores;

    /// <summary>Creates the pipeline over a sequence-classification session (owned from now on) and its tokenizer.</summary>
    public RerankPipeline(EncoderSession session, ITokenizer tokenizer, int maxLength, bool rawScores = false)
    {
        ArgumentNullException.ThrowIfNull(session);
        _session = session;
        Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        MaxLength = maxLength;
        _rawScores = rawScores;
        _output = session.ChooseOutput("logits");
    }

    /// <summary>The model's tokenizer.</summary>
    public ITokenizer Tokenizer { get; }

    /// <summary>The longest pair in tokens.</summary>
    public int MaxLength { get; }

    /// <summary>Tokenizes a (query, document) pair, truncated to <see cref="MaxLength"/>.</summary>
    public TokenizedText TokenizePair(string query, string document) => TokenizePair(Tokenizer, MaxLength, query, document);

    /// <summary>Tokenizes a (query, document) pair, truncated to <paramref name="maxLength"/>, without a session.</summary>
    public static TokenizedText TokenizePair(ITokenizer tokenizer, int maxLength, string query, string document)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(document);
        return tokenizer.Encode(query, document, new EncodeOptions { MaxLength = maxLength });
    }

    /// <summary>Sorts scores (in document order) by descending score, ties by index, and cuts them to top_n.</summary>
    public static RerankResult Rank(IReadOnlyList<float> scores, RerankOptions? options, UsageDetails usage)
    {
        ArgumentNullException.ThrowIfNull(scores);
        IEnumerable<RerankedDocument> ranked = scores
            .Select((score, index) => new RerankedDocument(index, score))
            .OrderByDescending(document => document.RelevanceScore)
            .ThenBy(document => document.Index);
        if (options?.TopN is { } topN)
        {
            ranked = ranked.Take(topN);
        }

        return new RerankResult([.. ranked], usage);
    }

    /// <summary>Scores a batch of tokenized pairs in one run; scores in input order.</summary>
    public IReadOnlyList<float> RunBatch(IReadOnlyList<TokenizedText> batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return batch.Count == 0 ? [] : _session.Run(batch, _output, (values, shape) => Score(batch.Count, values, shape), cancellationToken);
    }

    /// <inheritdoc />
    public Task<RerankResult> RerankAsync(string query, IReadOnlyList<string> documents, RerankOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(documents);
        var pairs = documents.Select(document => TokenizePair(query, document)).ToArray();
        var scores = EncoderBatching.Run(pairs, (batch, token) => RunBatch(batch, token), cancellationToken);
        return Task.FromResult(Rank(scores, options, new UsageDetails(pairs.Sum(p => p.Length), 0)));
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();

    private float[] Score(int count, ReadOnlySpan<float> logits, ReadOnlySpan<long> shape)
    {
        if (shape is not [_, > 0 and var labelCount])
        {
            throw new ModelUnavailableException(_session.ModelId, $"Model '{_session.ModelId}': {_output} is not [batch, labels].");
        }

        var labels = (int)labelCount;
        var scores = new float[count];
        for (var row = 0; row < count; row++)
        {
            var values = logits.Slice(row * labels, labels);
            scores[row] = labels == 1
                ? _rawScores ? values[0] : Sigmoid(values[0])
                : _rawScores ? values[^1] : Softmax(values, labels - 1);
        }

        return scores;
    }

    private static float Sigmoid(float logit) => (float)(1.0 / (1.0 + Math.Exp(-logit)));

    private static float Softmax(ReadOnlySpan<float> logits, int index)
    {
        var max = double.NegativeInfinity;
        foreach (var logit in logits)
        {
            max = Math.Max(max, logit);
        }

        var total = 0.0;
        foreach (var logit in logits)
        {
            total += Math.Exp(logit - max);
        }

        return (float)(Math.Exp(logits[index] - max) / total);
    }
}
