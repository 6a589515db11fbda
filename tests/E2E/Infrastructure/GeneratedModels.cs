using System.Text.Json;
using WebConsole.TestModels;
using WebConsole.TestModels.Decoder;

namespace WebConsole.E2E.Infrastructure;

/// <summary>Registers the generated test models (one per task family) in a server's settings under the given model ids.</summary>
internal static class GeneratedModels
{
    /// <summary>Adds <c>Inference:Models:&lt;id&gt;:Path</c> for each model and answers the embedding model's dimensions.</summary>
    public static async Task<int> RegisterAsync(
        IDictionary<string, string?> settings, string embeddingModel, string sparseModel, string rerankModel, string chatModel)
    {
        var bert = await TestModelStore.GetAsync(TestModelKind.BertMeanPooling);
        settings[$"Inference:Models:{embeddingModel}:Path"] = bert;
        settings[$"Inference:Models:{sparseModel}:Path"] = await TestModelStore.GetAsync(TestModelKind.Splade);
        settings[$"Inference:Models:{rerankModel}:Path"] = await TestModelStore.GetAsync(TestModelKind.CrossEncoder);
        settings[$"Inference:Models:{chatModel}:Path"] = await DecoderTestModels.GetAsync(DecoderVariant.Llama3);
        using var config = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(bert, "config.json")));
        return config.RootElement.GetProperty("hidden_size").GetInt32();
    }
}
