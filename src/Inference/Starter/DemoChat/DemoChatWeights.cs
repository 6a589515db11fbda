namespace WebConsole.Inference.Starter.DemoChat;

/// <summary>
/// The fixed choices of the demo chat model. Changing any of them changes the model's bytes, so the builder's version
/// (<see cref="DemoChatBuilder.Version"/>) must change with them.
/// </summary>
internal static class DemoChatSettings
{
    /// <summary>Tokens in all, specials included.</summary>
    public const int VocabularySize = 4096;

    /// <summary>Successors kept exactly per word; the rest of a row is the backed-off unigram.</summary>
    public const int Successors = 48;

    /// <summary>Absolute discount of the bigram counts (Kneser-Ney's usual 0.75).</summary>
    public const double Discount = 0.75;

    /// <summary>Size of each head's keys and values, and the rank of both low-rank terms.</summary>
    public const int HeadDim = 64;

    /// <summary>Attention heads: token ids (previous word and recent words), topic.</summary>
    public const int Heads = 2;

    /// <summary>Pseudo-count that shrinks the bigram PMI (which shapes the backed-off part of each row).</summary>
    public const double BigramPseudoCount = 2;

    /// <summary>Weight of the low-rank bigram PMI on the backed-off words.</summary>
    public const float BigramWeight = 1f;

    /// <summary>Word pairs seen at least this often get trigram rows.</summary>
    public const int TrigramMinimumCount = 2;

    /// <summary>Successors kept exactly per word pair.</summary>
    public const int TrigramSuccessors = 16;

    /// <summary>Words either side counted as one topic.</summary>
    public const int TopicWindow = 8;

    /// <summary>Pseudo-count of the topic PPMI.</summary>
    public const double TopicPseudoCount = 1;

    /// <summary>Weight of the topic term.</summary>
    public const float TopicWeight = 3.5f;

    /// <summary>How strongly rare words draw the topic head's attention (times their log inverse frequency).</summary>
    public const float SalienceScale = 0.5f;

    /// <summary>
    /// Added to the topic key of tokens inside a user or system message: the topic head reads the conversation's
    /// messages rather than the answer it is writing (e^10: the answer's own words count only when the messages have none).
    /// </summary>
    public const float MessageBonus = 10f;

    /// <summary>ALiBi slope of the topic head: older words count a little less, per token of distance.</summary>
    public const float TopicDecay = 0.02f;

    /// <summary>Tokens back that the repetition head looks at, and its decay length.</summary>
    public const int RecentWindow = 24;

    /// <summary>Decay length (tokens) of the repetition penalty.</summary>
    public const float RecentDecay = 8f;

    /// <summary>Penalty on repeating a content word, a frequent function word and punctuation.</summary>
    public const float RepeatContent = 4.0f, RepeatFunction = 1.4f, RepeatPunctuation = 0.6f;

    /// <summary>Sentences per answer while counting, cycled: the end token follows this many sentences.</summary>
    public static readonly int[] SentencesPerAnswer = [3, 4, 5, 4];

    /// <summary>The logit of tokens the model never produces (padding, unknown, the role markers).</summary>
    public const float Never = -1e4f;

    /// <summary>The topic head's key for tokens that carry no topic (punctuation, specials, [UNK]).</summary>
    public const float NoSalience = -30f;
}

/// <summary>Everything the graph holds, computed by <see cref="DemoChatTrainer"/>. Matrices are row-major.</summary>
internal sealed record DemoChatWeights(
    DemoChatVocabulary Vocabulary,
    BigramTable Bigram,
    TrigramTable Trigram,
    float[] TopicEmbeddings,
    float[] TopicOutput,
    float[] Salience,
    float[] RepeatPenalty,
    float[] OutputBias,
    DemoChatCorpusStatistics Statistics);

/// <summary>
/// The bigram rows: for current word u, logit(w) = Backoff[u] + Unigram[Classes[u], w] + ShapeEmbeddings[u] · ShapeOutput[:, w],
/// then the <see cref="DemoChatSettings.Successors"/> exact entries (Ids, Logits) of row u written over it. Class 1 (sentence
/// starts) backs off to sentence-initial words, class 0 to the continuation unigram.
/// </summary>
internal sealed record BigramTable(
    int[] Ids, float[] Logits, float[] Backoff, int[] Classes, float[] Unigram, float[] ShapeEmbeddings, float[] ShapeOutput)
{
    public int Size => Backoff.Length;

    /// <summary>Row <paramref name="u"/> of the low-rank term, summed in the graph's order (embedding · output).</summary>
    public float[] Shape(int u)
    {
        var v = Size;
        var result = new float[v];
        for (var c = 0; c < DemoChatSettings.HeadDim; c++)
        {
            var e = ShapeEmbeddings[(u * DemoChatSettings.HeadDim) + c];
            if (e != 0)
            {
                DenseMatrix.Axpy(e, ShapeOutput.AsSpan(c * v, v), result);
            }
        }

        return result;
    }

    /// <summary>
    /// The whole row of <paramref name="u"/> given its <paramref name="shape"/> (log-probabilities once trained), with
    /// never-produced tokens at <see cref="DemoChatSettings.Never"/>.
    /// </summary>
    public float[] Row(int u, float[] shape)
    {
        var v = Size;
        var row = new float[v];
        for (var w = 0; w < v; w++)
        {
            var unigram = Unigram[(Classes[u] * v) + w];
            row[w] = unigram <= DemoChatSettings.Never ? DemoChatSettings.Never : unigram + Backoff[u] + shape[w];
        }

        for (var slot = 0; slot < DemoChatSettings.Successors; slot++)
        {
            var at = (u * DemoChatSettings.Successors) + slot;
            if (Logits[at] > DemoChatSettings.Never)
            {
                row[Ids[at]] = Logits[at];
            }
        }

        return row;
    }
}

/// <summary>
/// The trigram rows, one per word pair (t, u) with key t·V + u, sorted, then one sentinel row (key long.MaxValue): the
/// pair's exact successors and the log backoff weight added to the bigram row of u.
/// </summary>
internal sealed record TrigramTable(long[] Keys, int[] Ids, float[] Logits, float[] Backoff, int Contexts);

/// <summary>What the model was built from, for the model card.</summary>
internal sealed record DemoChatCorpusStatistics(int Paragraphs, long Tokens, int DistinctTokens, double Coverage, int Answers, int TrigramContexts);
