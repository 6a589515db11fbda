using WebConsole.Inference.Deployments;
using WebConsole.Inference.Models;
using WebConsole.Inference.Pipelines;
using WebConsole.Inference.Starter;
using WebConsole.Unit.Inference.Pipelines;
using Xunit.Abstractions;

namespace WebConsole.Unit.Inference.Starter;

// .starter-sparse: SPLADE-shaped expansion over word-vector neighbours, through the host and the sparse pipeline.
public sealed class StarterSparseTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("car", new[] { "vehicle", "cars", "truck" })]
    [InlineData("physician", new[] { "doctor", "surgeon" })]
    [InlineData("laptop", new[] { "computer", "laptops" })]
    public async Task A_word_expands_to_close_neighbours_with_itself_weighted_highest(string word, string[] neighbours)
    {
        var (host, deployments) = await StarterModels.HostAsync(StarterModelKind.Sparse);
        await using var _ = deployments;
        var sparse = host.GetSparseEmbedding(new DeploymentSettings { DeploymentId = "starter-sparse", ModelId = ".starter-sparse" });

        var weights = (await sparse.GenerateAsync([word])).Embeddings[0].Weights;

        output.WriteLine($"{word}: {string.Join(", ", weights.Take(15).Select(w => $"{w.Key} {w.Value:F2}"))} ({weights.Count} in all)");
        Assert.Equal(word, weights[0].Key);
        Assert.True(weights[0].Value > weights[1].Value, "the word itself weighs more than any neighbour");
        Assert.All(weights, w => Assert.True(w.Value > 0f, w.Key));
        Assert.Contains(weights, w => neighbours.Contains(w.Key));
        Assert.InRange(weights.Count, 2, 200);
    }

    [Fact]
    public async Task A_sentence_keeps_its_content_words_and_their_neighbours_but_no_stop_words_or_special_tokens()
    {
        var (host, deployments) = await StarterModels.HostAsync(StarterModelKind.Sparse);
        await using var _ = deployments;
        var sparse = host.GetSparseEmbedding(new DeploymentSettings { DeploymentId = "starter-sparse-2", ModelId = ".starter-sparse" });

        var result = await sparse.GenerateAsync(["The doctor examined the patient at the hospital", "Stock prices fell sharply"]);
        var doctor = result.Embeddings[0].Weights.ToDictionary(w => w.Key, w => w.Value);
        var stocks = result.Embeddings[1].Weights.ToDictionary(w => w.Key, w => w.Value);

        Assert.All(["doctor", "examined", "patient", "hospital"], w => Assert.Contains(w, doctor.Keys));
        Assert.Contains(doctor.Keys, w => w is "physician" or "nurse" or "patients" or "hospitals");
        Assert.DoesNotContain("the", doctor.Keys);
        Assert.DoesNotContain("at", doctor.Keys);
        string[] special = ["[CLS]", "[SEP]", "[PAD]", "[UNK]"];
        Assert.DoesNotContain(doctor.Keys, special.Contains);
        Assert.Empty(doctor.Keys.Intersect(["stock", "prices", "fell"]));
        Assert.Contains("stock", stocks.Keys);
        Assert.Equal(result.Embeddings[0].Weights.OrderByDescending(w => w.Value).Select(w => w.Value), result.Embeddings[0].Weights.Select(w => w.Value));
    }

    [Fact]
    public async Task Batched_inputs_of_mixed_lengths_give_the_weights_of_single_inputs()
    {
        var model = await StarterModels.GetAsync(StarterModelKind.Sparse);
        using var pipeline = EncoderPipelines.CreateSparseEmbedding(ModelFolder.Open(".starter-sparse", model.Folder), EncoderTestModels.Sessions);
        string[] texts = ["car", "The quick brown fox jumps over the lazy dog near the river bank", "A bank raised its interest rates"];
        var tokenized = texts.Select(t => pipeline.Tokenize(t)).ToArray();

        var batched = pipeline.RunBatch(tokenized);

        Assert.Equal(512, pipeline.MaxLength);
        for (var i = 0; i < texts.Length; i++)
        {
            var alone = pipeline.RunBatch([tokenized[i]])[0].Weights;
            Assert.Equal(alone.Select(w => w.Key), batched[i].Weights.Select(w => w.Key));
            Assert.All(alone.Zip(batched[i].Weights), pair => Assert.Equal(pair.First.Value, pair.Second.Value, 1e-5f));
        }

        output.WriteLine($"materialized in {model.Elapsed.TotalSeconds:F1} s; graph {model.GraphBytes / 1e6:F1} MB");
    }
}
