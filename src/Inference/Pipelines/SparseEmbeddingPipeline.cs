using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Tokenization;

namespace WebConsole.Inference.Pipelines;

/// <summary>
/// sparse_embedding (SPLADE): masked-LM logits [batch, sequence, vocabulary] → log(1 + ReLU(logit)) → max over the
/// masked-in tokens (special-token positions included, as SPLADE does) → the vocabulary tokens with positive weight,
/// largest first, special tokens ([CLS], [SEP], [PAD], ...) left out, at most <see cref="MaxTokens"/>.
/// A graph whose <c>logits</c> are already pooled over the tokens ([batch, vocabulary], masking done in the graph) is
/// read as the maxima directly.
/// Batching as in <see cref="TextEmbeddingPipeline"/>. Thread-safe.
/// </summary>
public sealed class SparseEmbeddingPipeline : ISparseEmbeddingGenerator, IDisposable
{
    private readonly EncoderSession _session;
    private readonly string _output;
    private readonly string?[] _tokens;
    private readonly bool[] _skip;

    /// <summary>Creates the pipeline over a masked-LM session (owned from now on) and the model's tokenizer.</summary>
    /// <param name="session">The SPLADE model's session (output <c>logits</c>).</param>
    /// <param name="tokenizer">Its tokenizer.</param>
    /// <param name="maxLength">The longest input in tokens.</param>
    /// <param name="maxTokens">Keep at most this many weights per input (the largest); null keeps every positive weight.</param>
    public SparseEmbeddingPipeline(EncoderSession session, ITokenizer tokenizer, int maxLength, int? maxTokens = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(tokenizer);
        _session = session;
        Tokenizer = tokenizer;
        MaxLength = maxLength;
        MaxTokens = maxTokens;
        _output = session.ChooseOutput("logits");

        // Token strings once, so a batch does not call into the tokenizer per vocabulary entry.
        _tokens = new string?[tokenizer.VocabularySize];
        _skip = new bool[tokenizer.VocabularySize];
        for (var id = 0; id < _tokens.Length; id++)
        {
            _tokens[id] = tokenizer.IdToToken(id);
            _skip[id] = _tokens[id] is null || tokenizer.Special.All.Contains(id);
        }
    }

    /// <summary>The model's tokenizer.</summary>
    public ITokenizer Tokenizer { get; }

    /// <summary>The longest input in tokens.</summary>
    public int MaxLength { get; }

    /// <summary>The most weights per embedding; null for all positive weights.</summary>
    public int? MaxTokens { get; }

    /// <summary>Tokenizes one input with truncation to <see cref="MaxLength"/>.</summary>
    /// <exception cref="InferenceInputException">The input is too long and <paramref name="allowTruncation"/> is false.</exception>
    public TokenizedText Tokenize(string text, bool allowTruncation = true) => Tokenize(Tokenizer, MaxLength, text, allowTruncation);

    /// <summary>Tokenizes one input with truncation to <paramref name="maxLength"/>, without a session.</summary>
    /// <exception cref="InferenceInputException">The input is too long and <paramref name="allowTruncation"/> is false.</exception>
    public static TokenizedText Tokenize(ITokenizer tokenizer, int maxLength, string text, bool allowTruncation)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(text);
        var encoded = tokenizer.Encode(text, options: new EncodeOptions { MaxLength = maxLength });
        return !encoded.IsTruncated || allowTruncation
            ? encoded
            : throw new InferenceInputException(
                $"Input of {tokenizer.Encode(text).Length} tokens is longer than the model's maximum of {maxLength} tokens, and truncation is off.");
    }

    /// <summary>Embeds a batch of tokenized inputs in one run; results in input order.</summary>
    public IReadOnlyList<SparseEmbedding> RunBatch(IReadOnlyList<TokenizedText> batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return batch.Count == 0 ? [] : _session.Run(batch, _output, (values, shape) => Expand(batch, values, shape), cancellationToken);
    }

    /// <inheritdoc />
    public Task<SparseEmbeddingResult> GenerateAsync(IReadOnlyList<string> inputs, EmbeddingOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var allowTruncation = options?.AllowTruncation ?? true;
        var tokenized = inputs.Select(text => Tokenize(text, allowTruncation)).ToArray();
        var embeddings = EncoderBatching.Run(tokenized, RunBatch, cancellationToken);
        return Task.FromResult(new SparseEmbeddingResult(embeddings, new UsageDetails(tokenized.Sum(t => t.Length), 0)));
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();

    private SparseEmbedding[] Expand(IReadOnlyList<TokenizedText> batch, ReadOnlySpan<float> logits, ReadOnlySpan<long> shape)
    {
        if (shape.Length is not (2 or 3))
        {
            throw new ModelUnavailableException(_session.ModelId, $"Model '{_session.ModelId}': {_output} has rank {shape.Length}, not [batch, sequence, vocabulary] or [batch, vocabulary].");
        }

        var pooled = shape.Length == 2;
        int length = pooled ? 1 : (int)shape[1], vocabulary = (int)shape[^1];
        var best = new float[vocabulary];
        var results = new SparseEmbedding[batch.Count];
        for (var row = 0; row < batch.Count; row++)
        {
            // log(1 + ReLU(x)) rises with x, so the maximum over tokens is taken on the logits and transformed once.
            Array.Fill(best, 0f);
            var mask = batch[row].AttentionMask;
            for (var position = 0; position < (pooled ? 1 : mask.Length); position++)
            {
                if (!pooled && mask[position] == 0)
                {
                    continue;
                }

                var token = logits.Slice(((row * length) + position) * vocabulary, vocabulary);
                for (var v = 0; v < vocabulary; v++)
                {
                    if (token[v] > best[v])
                    {
                        best[v] = token[v];
                    }
                }
            }

            var weights = new List<KeyValuePair<string, float>>();
            for (var v = 0; v < vocabulary; v++)
            {
                if (best[v] > 0f && v < _skip.Length && !_skip[v])
                {
                    weights.Add(new(_tokens[v]!, (float)Math.Log(1.0 + best[v])));
                }
            }

            weights.Sort((a, b) => b.Value.CompareTo(a.Value) is var byWeight and not 0 ? byWeight : string.CompareOrdinal(a.Key, b.Key));
            if (MaxTokens is { } max && weights.Count > max)
            {
                weights.RemoveRange(max, weights.Count - max);
            }

            results[row] = new SparseEmbedding(weights, batch[row].IsTruncated);
        }

        return results;
    }
}
