using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Models;
using WebConsole.TestModels;
using Xunit.Abstractions;
using static WebConsole.Unit.Inference.Pipelines.EncoderTestModels;

namespace WebConsole.Unit.Inference.Pipelines;

// text_embedding on the real ONNX Runtime against @huggingface/transformers' feature-extraction pipeline on the same folder.
public sealed class TextEmbeddingPipelineTests(ITestOutputHelper output)
{
    private const float Tolerance = 1e-4f;

    [Theory]
    [InlineData(TestModelKind.BertMeanPooling, "mean")]
    [InlineData(TestModelKind.BertClsPooling, "cls")]
    public async Task Embeddings_match_transformers_js_within_1e_4(TestModelKind kind, string pooling)
    {
        using var pipeline = await TextEmbeddingAsync(kind);
        Assert.Equal(pooling == "cls" ? PoolingMode.Cls : PoolingMode.Mean, pipeline.Settings.Pooling);

        var result = await pipeline.GenerateAsync(Texts);
        var reference = await EncoderReference.EmbedAsync((await FolderAsync(kind)).Path, pooling, Texts);

        var worst = 0f;
        for (var i = 0; i < Texts.Count; i++)
        {
            // Same tokens in, so any difference is the model run, pooling or normalisation.
            Assert.Equal(reference[i].Ids, pipeline.Tokenize(Texts[i]).Ids);
            var embedding = result.Embeddings[i];
            Assert.Equal(32, embedding.Vector.Length);
            Assert.False(embedding.IsTruncated);
            Assert.Equal(1.0, Math.Sqrt(embedding.Vector.Sum(v => (double)v * v)), 5);
            worst = Math.Max(worst, MaxAbsDifference(reference[i].Embedding, embedding.Vector));
        }

        output.WriteLine($"{kind}: max |host - transformers.js| = {worst:E2} over {Texts.Count} texts");
        Assert.InRange(worst, 0f, Tolerance);
        Assert.Equal(reference.Sum(r => r.Ids.Length), result.Usage.InputTokens);

        // Different texts must give clearly different vectors, or the comparison above would prove little.
        Assert.True(MaxAbsDifference(result.Embeddings[0].Vector, result.Embeddings[2].Vector) > 0.05f);
    }

    [Fact]
    public async Task E5_prefixes_follow_the_input_type_and_match_transformers_js_on_the_prefixed_text()
    {
        using var pipeline = await TextEmbeddingAsync(TestModelKind.E5);
        Assert.Equal(EmbeddingPrompts.E5, pipeline.Settings.Prompts);
        string[] texts = ["how do vectors work", "Dense vectors place similar texts close together."];

        var queries = await pipeline.GenerateAsync(texts, new EmbeddingOptions { InputType = InputType.Search });
        var passages = await pipeline.GenerateAsync(texts, new EmbeddingOptions { InputType = InputType.Ingest });
        var reference = await EncoderReference.EmbedAsync(
            (await FolderAsync(TestModelKind.E5)).Path, "mean", [.. texts.Select(t => "query: " + t), .. texts.Select(t => "passage: " + t)]);

        var worst = 0f;
        for (var i = 0; i < texts.Length; i++)
        {
            worst = Math.Max(worst, MaxAbsDifference(reference[i].Embedding, queries.Embeddings[i].Vector));
            worst = Math.Max(worst, MaxAbsDifference(reference[texts.Length + i].Embedding, passages.Embeddings[i].Vector));
            Assert.True(MaxAbsDifference(queries.Embeddings[i].Vector, passages.Embeddings[i].Vector) > 0.01f);
        }

        output.WriteLine($"E5: max |host - transformers.js| = {worst:E2}");
        Assert.InRange(worst, 0f, Tolerance);

        // The prefix is tokens the model reads, so usage counts it.
        Assert.Equal(reference.Take(texts.Length).Sum(r => r.Ids.Length), queries.Usage.InputTokens);
    }

    [Theory]
    [InlineData(TestModelKind.BertMeanPooling)]
    [InlineData(TestModelKind.BertClsPooling)]
    public async Task Batched_embeddings_equal_one_at_a_time_embeddings_for_inputs_of_mixed_lengths(TestModelKind kind)
    {
        using var pipeline = await TextEmbeddingAsync(kind);
        var tokenized = Texts.Select(t => pipeline.Tokenize(t)).ToArray();
        Assert.True(tokenized.Max(t => t.Length) > 4 * tokenized.Min(t => t.Length));

        var batched = pipeline.RunBatch(tokenized);
        var worst = 0f;
        for (var i = 0; i < tokenized.Length; i++)
        {
            var alone = Assert.Single(pipeline.RunBatch([tokenized[i]]));
            worst = Math.Max(worst, MaxAbsDifference(alone.Vector, batched[i].Vector));
        }

        output.WriteLine($"{kind}: max |batched - alone| = {worst:E2}");
        Assert.InRange(worst, 0f, 1e-5f);
    }

    [Fact]
    public async Task Inputs_longer_than_the_model_maximum_are_truncated_reported_and_still_match_the_reference()
    {
        using var pipeline = await TextEmbeddingAsync(TestModelKind.BertMeanPooling);
        Assert.Equal(512, pipeline.Settings.MaxLength);
        var longText = string.Join(' ', Enumerable.Range(0, 700).Select(i => $"word{i % 50}"));

        var result = await pipeline.GenerateAsync([longText, "short"]);
        var truncated = pipeline.Tokenize(longText);

        Assert.True(result.Embeddings[0].IsTruncated);
        Assert.False(result.Embeddings[1].IsTruncated);
        Assert.Equal(512, truncated.Length);
        Assert.Equal(pipeline.Tokenizer.Special.Sep, truncated.Ids[^1]);
        Assert.Equal(512 + pipeline.Tokenize("short").Length, result.Usage.InputTokens);

        // transformers.js cuts the id list (losing the final [SEP]); compare on the host's ids, which keep it as Python does.
        var reference = await EncoderReference.EmbedAsync((await FolderAsync(TestModelKind.BertMeanPooling)).Path, "mean", [truncated]);
        Assert.InRange(MaxAbsDifference(reference[0], result.Embeddings[0].Vector), 0f, Tolerance);

        var refused = await Assert.ThrowsAsync<InferenceInputException>(() => pipeline.GenerateAsync([longText], new EmbeddingOptions { AllowTruncation = false }));
        Assert.Contains("512", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelled_requests_do_not_run()
    {
        using var pipeline = await TextEmbeddingAsync(TestModelKind.BertMeanPooling);
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pipeline.GenerateAsync(Texts, cancellationToken: cancellation.Token));
    }
}
