using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WebConsole.Inference;
using WebConsole.Inference.Models;
using WebConsole.Inference.Pipelines;
using WebConsole.Inference.Runtime;
using WebConsole.TestModels;

namespace WebConsole.Unit.Inference.Pipelines;

/// <summary>Generated encoder models opened as pipelines on the CPU, the way a deployment opens them.</summary>
internal static class EncoderTestModels
{
    public static OnnxSessionFactory Sessions { get; } =
        new(Options.Create(new InferenceOptions { Device = InferenceDevice.Cpu }), NullLogger<OnnxSessionFactory>.Instance);

    public static async Task<ModelFolder> FolderAsync(TestModelKind kind)
    {
        var path = await TestModelStore.GetAsync(kind);
        return ModelFolder.Open(Path.GetFileName(path), path);
    }

    public static async Task<TextEmbeddingPipeline> TextEmbeddingAsync(TestModelKind kind) =>
        EncoderPipelines.CreateTextEmbedding(await FolderAsync(kind), Sessions, numThreads: 2);

    public static async Task<SparseEmbeddingPipeline> SparseEmbeddingAsync(int? maxTokens = null) =>
        EncoderPipelines.CreateSparseEmbedding(await FolderAsync(TestModelKind.Splade), Sessions, numThreads: 2, maxTokens: maxTokens);

    public static async Task<RerankPipeline> RerankAsync() =>
        EncoderPipelines.CreateRerank(await FolderAsync(TestModelKind.CrossEncoder), Sessions, numThreads: 2);

    /// <summary>Texts of very different lengths and scripts, with odd whitespace, accents, CJK and emoji.</summary>
    public static IReadOnlyList<string> Texts { get; } =
    [
        "Hello world!",
        "a",
        "The quick brown fox jumps over the lazy dog, and then it keeps running through the forest until night falls.",
        "Naïve café owners résumé: déjà vu at the Zürich Straße.",
        "東京は日本の首都です。",
        "Rockets 🚀 and emoji 🎉 do not break embeddings.",
        "  odd\twhitespace\n\n between   words  ",
        "Don't stop-believing; it's 3.14159 and 42% of $100!",
        string.Join(' ', Enumerable.Repeat("Elasticsearch stores dense vectors and ranks documents by similarity.", 6)),
    ];

    public static float MaxAbsDifference(IReadOnlyList<float> expected, IReadOnlyList<float> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        return expected.Zip(actual, (e, a) => MathF.Abs(e - a)).DefaultIfEmpty(0f).Max();
    }
}
