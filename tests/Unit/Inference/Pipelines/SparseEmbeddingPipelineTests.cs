using Xunit.Abstractions;
using static WebConsole.Unit.Inference.Pipelines.EncoderTestModels;

namespace WebConsole.Unit.Inference.Pipelines;

// sparse_embedding (SPLADE) on the real ONNX Runtime against transformers.js' masked-LM logits with the same SPLADE math.
public sealed class SparseEmbeddingPipelineTests(ITestOutputHelper output)
{
    private const float Tolerance = 1e-4f;

    [Fact]
    public async Task Sparse_weights_match_transformers_js_within_1e_4()
    {
        using var pipeline = await SparseEmbeddingAsync();
        var texts = Texts.Take(6).ToArray();

        var result = await pipeline.GenerateAsync(texts);
        var reference = await EncoderReference.SparseAsync((await FolderAsync(TestModels.TestModelKind.Splade)).Path, texts);

        var worst = 0f;
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(reference[i].Ids, pipeline.Tokenize(texts[i]).Ids);
            var weights = ById(pipeline, result.Embeddings[i].Weights);

            // A token missing on one side counts as weight 0, so only weights within the tolerance of 0 may differ in presence.
            foreach (var id in weights.Keys.Union(reference[i].Weights.Keys))
            {
                worst = Math.Max(worst, MathF.Abs(weights.GetValueOrDefault(id) - reference[i].Weights.GetValueOrDefault(id)));
            }

            Assert.True(weights.Count > 20, $"text {i} has only {weights.Count} weights");
            Assert.All(result.Embeddings[i].Weights, pair => Assert.True(pair.Value > 0f));
            Assert.Equal(result.Embeddings[i].Weights.OrderByDescending(p => p.Value).Select(p => p.Value), result.Embeddings[i].Weights.Select(p => p.Value));
        }

        output.WriteLine($"SPLADE: max |host - transformers.js| = {worst:E2}; weights per text: {string.Join(", ", result.Embeddings.Select(e => e.Weights.Count))}");
        Assert.InRange(worst, 0f, Tolerance);
        Assert.Equal(reference.Sum(r => r.Ids.Length), result.Usage.InputTokens);
    }

    [Fact]
    public async Task Special_tokens_never_carry_weight()
    {
        using var pipeline = await SparseEmbeddingAsync();

        var result = await pipeline.GenerateAsync(Texts);

        string[] special = ["[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]"];
        Assert.All(result.Embeddings, e => Assert.DoesNotContain(e.Weights, pair => special.Contains(pair.Key)));
    }

    [Fact]
    public async Task Batched_weights_equal_one_at_a_time_weights_for_inputs_of_mixed_lengths()
    {
        using var pipeline = await SparseEmbeddingAsync();
        var tokenized = Texts.Select(t => pipeline.Tokenize(t)).ToArray();

        var batched = pipeline.RunBatch(tokenized);
        var worst = 0f;
        for (var i = 0; i < tokenized.Length; i++)
        {
            var alone = Assert.Single(pipeline.RunBatch([tokenized[i]]));
            Assert.Equal(alone.Weights.Select(p => p.Key), batched[i].Weights.Select(p => p.Key));
            worst = Math.Max(worst, MaxAbsDifference([.. alone.Weights.Select(p => p.Value)], [.. batched[i].Weights.Select(p => p.Value)]));
        }

        output.WriteLine($"SPLADE: max |batched - alone| = {worst:E2}");
        Assert.InRange(worst, 0f, 1e-5f);
    }

    [Fact]
    public async Task A_token_cap_keeps_the_largest_weights()
    {
        using var all = await SparseEmbeddingAsync();
        using var capped = await SparseEmbeddingAsync(maxTokens: 10);

        var full = (await all.GenerateAsync([Texts[2]])).Embeddings[0].Weights;
        var top = (await capped.GenerateAsync([Texts[2]])).Embeddings[0].Weights;

        Assert.Equal(full.Take(10), top);
    }

    [Fact]
    public async Task Truncated_inputs_are_reported_and_match_the_reference_on_the_host_ids()
    {
        using var pipeline = await SparseEmbeddingAsync();
        var longText = string.Join(' ', Enumerable.Range(0, 600).Select(i => $"token{i % 40}"));
        var tokenized = pipeline.Tokenize(longText);

        var result = Assert.Single(pipeline.RunBatch([tokenized]));
        var reference = Assert.Single(await EncoderReference.SparseAsync((await FolderAsync(TestModels.TestModelKind.Splade)).Path, null, [tokenized]));

        Assert.True(result.IsTruncated);
        Assert.Equal(512, tokenized.Length);
        var weights = ById(pipeline, result.Weights);
        Assert.InRange(weights.Keys.Union(reference.Weights.Keys).Max(id => MathF.Abs(weights.GetValueOrDefault(id) - reference.Weights.GetValueOrDefault(id))), 0f, Tolerance);
    }

    private static Dictionary<int, float> ById(WebConsole.Inference.Pipelines.SparseEmbeddingPipeline pipeline, IEnumerable<KeyValuePair<string, float>> weights) =>
        weights.ToDictionary(pair => pipeline.Tokenizer.TokenToId(pair.Key) ?? throw new InvalidOperationException($"unknown token {pair.Key}"), pair => pair.Value);
}
