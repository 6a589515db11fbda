using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Models;
using WebConsole.Inference.Tokenization;

namespace WebConsole.Inference.Pipelines;

/// <summary>How a model's token embeddings become text embeddings.</summary>
/// <param name="Pooling">Mean (under the attention mask) or the first token.</param>
/// <param name="Normalize">Whether vectors are scaled to unit L2 length.</param>
/// <param name="Prompts">Prefixes per input type (E5).</param>
/// <param name="MaxLength">The longest input in tokens; longer inputs are truncated (or refused).</param>
public sealed record TextEmbeddingSettings(PoolingMode Pooling, bool Normalize, EmbeddingPrompts Prompts, int MaxLength)
{
    /// <summary>
    /// The settings a model folder implies: pooling from 1_Pooling/config.json (mean without one); normalisation from the
    /// registration, else modules.json's Normalize for sentence-transformers models, else on; prompts per
    /// <see cref="EmbeddingPrompts.Resolve"/>; the maximum length per <see cref="ModelFolder.MaxInputLength"/>.
    /// </summary>
    public static TextEmbeddingSettings For(ModelFolder model, ITokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(model);
        var sentenceTransformers = model.SentenceTransformers;
        return new TextEmbeddingSettings(
            sentenceTransformers?.Pooling ?? PoolingMode.Mean,
            model.Registration?.Normalize ?? sentenceTransformers?.Normalize ?? true,
            EmbeddingPrompts.Resolve(model.Id, sentenceTransformers, model.Registration),
            model.MaxInputLength(tokenizer));
    }
}

/// <summary>
/// text_embedding: encoder → pooling → L2 normalisation. <see cref="Tokenize(string, InputType, bool)"/> applies the input type's prefix and
/// truncation; <see cref="RunBatch"/> runs already-tokenized inputs from any number of requests in one padded batch
/// (what the deployment scheduler calls); <see cref="GenerateAsync"/> does both for direct use. Padding never changes a
/// result: pooling reads only the masked-in positions. Thread-safe.
/// </summary>
public sealed class TextEmbeddingPipeline : IDenseEmbeddingGenerator, IDisposable
{
    private readonly EncoderSession _session;
    private readonly string _output;

    /// <summary>Creates the pipeline over an encoder session (owned from now on) and the model's tokenizer.</summary>
    public TextEmbeddingPipeline(EncoderSession session, ITokenizer tokenizer, TextEmbeddingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(session);
        _session = session;
        Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        Settings = settings ?? throw new ArgumentNullException(nameof(settings));
        _output = session.ChooseOutput("last_hidden_state", "token_embeddings");
    }

    /// <summary>The model's tokenizer.</summary>
    public ITokenizer Tokenizer { get; }

    /// <summary>Pooling, normalisation, prompts and maximum length.</summary>
    public TextEmbeddingSettings Settings { get; }

    /// <summary>The embedding dimension, when the graph states it.</summary>
    public int? Dimensions => _session.Outputs[_output] is [.., > 0 and var last] ? last : null;

    /// <summary>Tokenizes one input: the prefix of its input type, then truncation to <see cref="TextEmbeddingSettings.MaxLength"/>.</summary>
    /// <exception cref="InferenceInputException">The input is too long and <paramref name="allowTruncation"/> is false.</exception>
    public TokenizedText Tokenize(string text, InputType inputType = InputType.Unspecified, bool allowTruncation = true) =>
        Tokenize(Tokenizer, Settings, text, inputType, allowTruncation);

    /// <summary>
    /// Tokenizes one input as <paramref name="settings"/> say (prefix for the input type, truncation), without a session:
    /// the host tokenizes before queueing so it knows each request's tokens.
    /// </summary>
    /// <exception cref="InferenceInputException">The input is too long and <paramref name="allowTruncation"/> is false.</exception>
    public static TokenizedText Tokenize(ITokenizer tokenizer, TextEmbeddingSettings settings, string text, InputType inputType, bool allowTruncation)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(text);
        var prefixed = settings.Prompts.For(inputType) + text;
        var encoded = tokenizer.Encode(prefixed, options: new EncodeOptions { MaxLength = settings.MaxLength });
        return !encoded.IsTruncated || allowTruncation
            ? encoded
            : throw new InferenceInputException(
                $"Input of {tokenizer.Encode(prefixed).Length} tokens is longer than the model's maximum of {settings.MaxLength} tokens, and truncation is off.");
    }

    /// <summary>Embeds a batch of tokenized inputs in one run; results in input order.</summary>
    public IReadOnlyList<DenseEmbedding> RunBatch(IReadOnlyList<TokenizedText> batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            return [];
        }

        var vectors = _session.Run(batch, _output, (values, shape) => Pool(batch, values, shape), cancellationToken);
        return [.. vectors.Select((vector, i) => new DenseEmbedding(vector, batch[i].IsTruncated))];
    }

    /// <inheritdoc />
    public Task<DenseEmbeddingResult> GenerateAsync(IReadOnlyList<string> inputs, EmbeddingOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        options ??= new EmbeddingOptions();
        var tokenized = inputs.Select(text => Tokenize(text, options.InputType, options.AllowTruncation)).ToArray();
        var embeddings = EncoderBatching.Run(tokenized, RunBatch, cancellationToken);
        return Task.FromResult(new DenseEmbeddingResult(embeddings, new UsageDetails(tokenized.Sum(t => t.Length), 0)));
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();

    private float[][] Pool(IReadOnlyList<TokenizedText> batch, ReadOnlySpan<float> hidden, ReadOnlySpan<long> shape)
    {
        if (shape.Length != 3)
        {
            throw new ModelUnavailableException(_session.ModelId, $"Model '{_session.ModelId}': {_output} has rank {shape.Length}, not [batch, sequence, hidden].");
        }

        int length = (int)shape[1], dimensions = (int)shape[2];
        var vectors = new float[batch.Count][];
        var sum = new double[dimensions];
        for (var row = 0; row < batch.Count; row++)
        {
            var vector = vectors[row] = new float[dimensions];
            var rowStart = row * length * dimensions;
            if (Settings.Pooling == PoolingMode.Cls)
            {
                hidden.Slice(rowStart, dimensions).CopyTo(vector);
            }
            else
            {
                // Mean over the positions the attention mask admits: padding (mask 0) contributes nothing.
                Array.Clear(sum);
                var mask = batch[row].AttentionMask;
                var count = 0;
                for (var position = 0; position < mask.Length; position++)
                {
                    if (mask[position] == 0)
                    {
                        continue;
                    }

                    count++;
                    var token = hidden.Slice(rowStart + (position * dimensions), dimensions);
                    for (var d = 0; d < dimensions; d++)
                    {
                        sum[d] += token[d];
                    }
                }

                for (var d = 0; d < dimensions; d++)
                {
                    vector[d] = (float)(sum[d] / Math.Max(count, 1));
                }
            }

            if (Settings.Normalize)
            {
                Normalize(vector);
            }
        }

        return vectors;
    }

    private static void Normalize(float[] vector)
    {
        var squares = 0.0;
        foreach (var value in vector)
        {
            squares += (double)value * value;
        }

        // torch.nn.functional.normalize's epsilon: a zero vector stays zero instead of becoming NaN.
        var norm = Math.Max(Math.Sqrt(squares), 1e-12);
        for (var d = 0; d < vector.Length; d++)
        {
            vector[d] = (float)(vector[d] / norm);
        }
    }
}
