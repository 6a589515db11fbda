using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Deployments;
using WebConsole.Inference.Models;
using WebConsole.Inference.Starter;
using WebConsole.Tests.Shared;
using Xunit.Abstractions;

namespace WebConsole.Unit.Inference.Starter;

// .starter-rerank: the cross-encoder signature over word-vector similarity, through the host and the rerank pipeline.
public sealed class StarterRerankTests(ITestOutputHelper output)
{
    // query, the relevant document, then distractors; the first distractor shares a query word but not its topic.
    public static string[][] Sets { get; } = File.ReadLines(Path.Combine(TestEnvironment.RepositoryRoot, "tests", "Unit", "Inference", "Starter", "RerankSets.tsv"))
        .Where(line => line.Length > 0 && !line.StartsWith('#'))
        .Select(line => line.Split('\t'))
        .ToArray();

    [Fact]
    public async Task The_relevant_document_ranks_first_for_at_least_90_percent_of_queries()
    {
        var (host, deployments) = await StarterModels.HostAsync(StarterModelKind.Rerank);
        await using var _ = deployments;
        var reranker = host.GetReranker(new DeploymentSettings { DeploymentId = "starter-rerank", ModelId = ".starter-rerank" });
        Assert.True(Sets.Length >= 20, $"{Sets.Length} sets");

        var first = 0;
        var relevant = new List<float>();
        var sharingAWord = new List<float>();
        var offTopic = new List<float>();
        for (var i = 0; i < Sets.Length; i++)
        {
            // The relevant document moves through the positions, so ties (broken by index) cannot favour it.
            var documents = Sets[i][2..].ToList();
            var position = i % (documents.Count + 1);
            documents.Insert(position, Sets[i][1]);

            var result = await reranker.RerankAsync(Sets[i][0], documents);

            var scores = result.Documents.ToDictionary(d => d.Index, d => d.RelevanceScore);
            first += result.Documents[0].Index == position ? 1 : 0;
            relevant.Add(scores[position]);
            sharingAWord.Add(scores[position == 0 ? 1 : 0]);
            offTopic.AddRange(scores.Where(s => s.Key != position && s.Key != (position == 0 ? 1 : 0)).Select(s => s.Value));
            if (result.Documents[0].Index != position)
            {
                output.WriteLine($"miss: {Sets[i][0]} -> {documents[result.Documents[0].Index]} {result.Documents[0].RelevanceScore:F2} over {scores[position]:F2}");
            }
        }

        output.WriteLine($"{first}/{Sets.Length} first; mean score relevant {relevant.Average():F2}, sharing a word {sharingAWord.Average():F2}, off topic {offTopic.Average():F2} (max {offTopic.Max():F2})");
        Assert.True(first >= Sets.Length * 0.9, $"{first}/{Sets.Length}");
        Assert.All(relevant.Concat(offTopic), score => Assert.InRange(score, 0f, 1f));

        // Calibrated: relevant documents above one half, off-topic ones below.
        Assert.True(relevant.Average() > 0.5f, $"relevant {relevant.Average():F2}");
        Assert.True(offTopic.Average() < 0.5f, $"off topic {offTopic.Average():F2}");
    }

    [Fact]
    public async Task Top_n_and_raw_scores_follow_the_cross_encoder_contract()
    {
        var model = await StarterModels.GetAsync(StarterModelKind.Rerank);
        var (host, deployments) = await StarterModels.HostAsync(StarterModelKind.Rerank);
        await using var _ = deployments;
        var reranker = host.GetReranker(new DeploymentSettings { DeploymentId = "starter-rerank-2", ModelId = ".starter-rerank" });
        string[] documents = ["The parliament passed a budget", "A mechanic repaired the engine of my automobile", "", "zxqvbnm qwxzjk"];

        var result = await reranker.RerankAsync("car repair", documents, new RerankOptions { TopN = 2 });

        Assert.Equal(2, result.Documents.Count);
        Assert.Equal(1, result.Documents[0].Index);
        var folder = ModelFolder.Open(".starter-rerank", model.Folder);
        Assert.Equal(["WordVectorMaxSimForSequenceClassification"], folder.Config.Architectures);
        Assert.Equal(1, folder.Config.Labels);
        output.WriteLine($"materialized in {model.Elapsed.TotalSeconds:F1} s; graph {model.GraphBytes / 1e6:F1} MB");
    }
}
