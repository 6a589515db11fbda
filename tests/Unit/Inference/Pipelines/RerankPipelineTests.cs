using WebConsole.Inference.Abstractions;
using Xunit.Abstractions;
using static WebConsole.Unit.Inference.Pipelines.EncoderTestModels;

namespace WebConsole.Unit.Inference.Pipelines;

// rerank with a cross-encoder on the real ONNX Runtime against transformers.js' sequence-classification logits.
public sealed class RerankPipelineTests(ITestOutputHelper output)
{
    private const float Tolerance = 1e-4f;
    private const string Query = "How do I store vectors in Elasticsearch?";

    private static readonly string[] Documents =
    [
        "Use a dense_vector field and index the embeddings.",
        "Bananas are rich in potassium.",
        "Elasticsearch 8 adds kNN search over dense_vector fields with HNSW graphs, so similar vectors are found quickly.",
        "ok",
        "Les vecteurs denses sont stockés dans un champ dense_vector.",
        "🚀🚀🚀",
    ];

    [Fact]
    public async Task Scores_and_order_match_transformers_js_within_1e_4()
    {
        using var pipeline = await RerankAsync();

        var result = await pipeline.RerankAsync(Query, Documents);
        var reference = await EncoderReference.RerankAsync((await FolderAsync(TestModels.TestModelKind.CrossEncoder)).Path, Query, Documents);

        for (var i = 0; i < Documents.Length; i++)
        {
            var pair = pipeline.TokenizePair(Query, Documents[i]);
            Assert.Equal(reference[i].Ids, pair.Ids);
            Assert.Equal(reference[i].TypeIds, pair.TypeIds);
        }

        var scores = result.Documents.OrderBy(d => d.Index).Select(d => d.RelevanceScore).ToArray();
        var worst = MaxAbsDifference([.. reference.Select(r => r.Score)], scores);
        output.WriteLine($"Rerank: max |host - transformers.js| = {worst:E2}; scores {string.Join(", ", scores.Select(s => s.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)))}");
        Assert.InRange(worst, 0f, Tolerance);

        // The same order as sorting the reference's scores, and scores spread enough that order means something.
        var referenceOrder = reference.Select((r, index) => (r.Score, index)).OrderByDescending(p => p.Score).Select(p => p.index);
        Assert.Equal(referenceOrder, result.Documents.Select(d => d.Index));
        Assert.True(scores.Max() - scores.Min() > 0.05f);

        // Single-label cross-encoder: the score is sigmoid(logit).
        Assert.All(reference, r => Assert.Equal(1 / (1 + Math.Exp(-r.Logit)), r.Score, 5));
        Assert.Equal(reference.Sum(r => r.Ids.Length), result.Usage.InputTokens);
    }

    [Fact]
    public async Task Top_n_keeps_the_best_documents_in_order()
    {
        using var pipeline = await RerankAsync();

        var all = await pipeline.RerankAsync(Query, Documents);
        var top = await pipeline.RerankAsync(Query, Documents, new RerankOptions { TopN = 2 });

        Assert.Equal(all.Documents.Take(2), top.Documents);
        Assert.Equal(all.Usage, top.Usage);
    }

    [Fact]
    public async Task Batched_scores_equal_one_at_a_time_scores_for_pairs_of_mixed_lengths()
    {
        using var pipeline = await RerankAsync();
        var pairs = Documents.Select(d => pipeline.TokenizePair(Query, d)).ToArray();

        var batched = pipeline.RunBatch(pairs);
        var alone = pairs.Select(p => Assert.Single(pipeline.RunBatch([p]))).ToArray();

        var worst = MaxAbsDifference(alone, batched);
        output.WriteLine($"Rerank: max |batched - alone| = {worst:E2}");
        Assert.InRange(worst, 0f, 1e-5f);
    }

    [Fact]
    public async Task A_pair_longer_than_the_model_maximum_is_truncated_and_scored_like_the_reference()
    {
        using var pipeline = await RerankAsync();
        var longDocument = string.Join(' ', Enumerable.Range(0, 800).Select(i => $"vector{i % 30}"));

        var pair = pipeline.TokenizePair(Query, longDocument);
        var score = Assert.Single(pipeline.RunBatch([pair]));
        var reference = Assert.Single(await EncoderReference.RerankAsync((await FolderAsync(TestModels.TestModelKind.CrossEncoder)).Path, [pair]));

        // Truncation takes from the longer member (the document) and keeps the query and both [SEP]s.
        Assert.True(pair.IsTruncated);
        Assert.Equal(512, pair.Length);
        Assert.Equal(pipeline.TokenizePair(Query, "x").Ids[..^2], pair.Ids[..(pipeline.TokenizePair(Query, "x").Length - 2)]);
        Assert.Equal(pipeline.Tokenizer.Special.Sep, pair.Ids[^1]);
        Assert.InRange(MathF.Abs(reference - score), 0f, Tolerance);
    }
}
