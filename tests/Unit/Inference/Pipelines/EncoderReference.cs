using System.Text.Json;
using System.Text.Json.Nodes;
using WebConsole.Inference.Tokenization;
using WebConsole.Tests.Shared.Node;

namespace WebConsole.Unit.Inference.Pipelines;

/// <summary>
/// The reference: tests/node/transformers-encoders.mjs runs @huggingface/transformers (onnxruntime-node) on the same
/// model folder, one input at a time. Inputs are either texts (transformers.js tokenizes them) or the host's own
/// encodings (for truncated inputs, which transformers.js cuts differently from Python transformers).
/// </summary>
internal static class EncoderReference
{
    private const string Script = "transformers-encoders.mjs";

    public static async Task<IReadOnlyList<(int[] Ids, float[] Embedding)>> EmbedAsync(string model, string pooling, IReadOnlyList<string> texts)
    {
        var results = await RunAsync(new JsonObject { ["task"] = "embed", ["model"] = model, ["pooling"] = pooling, ["normalize"] = true, ["texts"] = Strings(texts) });
        return [.. results.Select(r => (Ints(r["ids"]!), Floats(r["embedding"]!)))];
    }

    public static async Task<IReadOnlyList<float[]>> EmbedAsync(string model, string pooling, IReadOnlyList<TokenizedText> encodings)
    {
        var results = await RunAsync(new JsonObject { ["task"] = "embed", ["model"] = model, ["pooling"] = pooling, ["normalize"] = true, ["encodings"] = Encodings(encodings) });
        return [.. results.Select(r => Floats(r["embedding"]!))];
    }

    /// <summary>SPLADE weights by token id (special tokens left out, positive weights only).</summary>
    public static async Task<IReadOnlyList<(int[] Ids, Dictionary<int, float> Weights)>> SparseAsync(string model, IReadOnlyList<string>? texts, IReadOnlyList<TokenizedText>? encodings = null)
    {
        var request = new JsonObject { ["task"] = "sparse", ["model"] = model };
        if (texts is not null)
        {
            request["texts"] = Strings(texts);
        }
        else
        {
            request["encodings"] = Encodings(encodings!);
        }

        var results = await RunAsync(request);
        return [.. results.Select(r => (
            Ints(r["ids"]!),
            r["weights"]!.AsObject().ToDictionary(p => int.Parse(p.Key, System.Globalization.CultureInfo.InvariantCulture), p => (float)p.Value!.GetValue<double>())))];
    }

    /// <summary>The logit and sigmoid score of each (query, document) pair, with the ids transformers.js fed.</summary>
    public static async Task<IReadOnlyList<(int[] Ids, int[] TypeIds, float Logit, float Score)>> RerankAsync(string model, string query, IReadOnlyList<string> documents)
    {
        var results = await RunAsync(new JsonObject { ["task"] = "rerank", ["model"] = model, ["query"] = query, ["documents"] = Strings(documents) });
        return [.. results.Select(r => (Ints(r["ids"]!), Ints(r["typeIds"]!), (float)r["logit"]!.GetValue<double>(), (float)r["score"]!.GetValue<double>()))];
    }

    public static async Task<IReadOnlyList<float>> RerankAsync(string model, IReadOnlyList<TokenizedText> encodings)
    {
        var results = await RunAsync(new JsonObject { ["task"] = "rerank", ["model"] = model, ["encodings"] = Encodings(encodings) });
        return [.. results.Select(r => (float)r["score"]!.GetValue<double>())];
    }

    private static async Task<IReadOnlyList<JsonNode>> RunAsync(JsonObject request)
    {
        var output = await NodeTools.RunAsync(Script, [], request.ToJsonString());
        return [.. JsonNode.Parse(output)!["results"]!.AsArray().Select(result => result!)];
    }

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);

    private static JsonArray Encodings(IEnumerable<TokenizedText> encodings) =>
        new([.. encodings.Select(e => (JsonNode?)new JsonObject
        {
            ["ids"] = JsonSerializer.SerializeToNode(e.Ids),
            ["typeIds"] = JsonSerializer.SerializeToNode(e.TypeIds),
        })]);

    private static int[] Ints(JsonNode node) => node.Deserialize<int[]>()!;

    private static float[] Floats(JsonNode node) => [.. node.AsArray().Select(v => (float)v!.GetValue<double>())];
}
