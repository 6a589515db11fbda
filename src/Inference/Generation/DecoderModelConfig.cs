using System.Text.Json;

namespace WebConsole.Inference.Generation;

/// <summary>
/// What generation needs from a decoder folder's <c>config.json</c> and <c>generation_config.json</c>: the ids that end a
/// generation (generation_config wins, as in transformers) and the cache geometry, used only where the ONNX signature
/// leaves a dimension symbolic.
/// </summary>
/// <param name="ModelType">config.json's <c>model_type</c>.</param>
/// <param name="EosTokenIds">Every id that ends generation.</param>
/// <param name="BosTokenId">The beginning-of-sequence id, if declared.</param>
/// <param name="KeyValueHeads">Key/value heads per layer (grouped-query attention), if declared.</param>
/// <param name="HeadDim">Size of one head, if declared or derivable (hidden_size / num_attention_heads).</param>
/// <param name="MaxPositions">max_position_embeddings, if declared: prompt plus output may not exceed it.</param>
/// <param name="DefaultTemperature">generation_config's temperature when it samples (<c>do_sample</c>): used when a request names none, as vLLM does.</param>
/// <param name="DefaultTopP">generation_config's top_p when it samples.</param>
public sealed record DecoderModelConfig(
    string? ModelType,
    IReadOnlySet<int> EosTokenIds,
    int? BosTokenId,
    int? KeyValueHeads,
    int? HeadDim,
    int? MaxPositions,
    float? DefaultTemperature = null,
    float? DefaultTopP = null)
{
    /// <summary>Reads the two files of <paramref name="modelFolder"/>; missing files or fields give nulls and empty sets.</summary>
    public static DecoderModelConfig FromFolder(string modelFolder)
    {
        var config = ReadJson(Path.Combine(modelFolder, "config.json"));
        var generation = ReadJson(Path.Combine(modelFolder, "generation_config.json"));

        var eos = Ids(generation, "eos_token_id");
        if (eos.Count == 0)
        {
            eos = Ids(config, "eos_token_id");
        }

        var heads = Int(config, "num_attention_heads");
        var hidden = Int(config, "hidden_size");
        var headDim = Int(config, "head_dim") ?? (heads > 0 && hidden is { } h ? h / heads : null);
        var samples = generation is { ValueKind: JsonValueKind.Object } g && g.TryGetProperty("do_sample", out var doSample) && doSample.ValueKind == JsonValueKind.True;
        return new DecoderModelConfig(
            config is { } c && c.TryGetProperty("model_type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : null,
            eos,
            Int(generation, "bos_token_id") ?? Int(config, "bos_token_id"),
            Int(config, "num_key_value_heads") ?? heads,
            headDim,
            Int(config, "max_position_embeddings"),
            samples ? Float(generation, "temperature") : null,
            samples ? Float(generation, "top_p") : null);
    }

    private static float? Float(JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
            ? (float)value.GetDouble() : null;

    private static JsonElement? ReadJson(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.Clone();
    }

    private static int? Int(JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
            && value.TryGetInt32(out var number) ? number : null;

    private static HashSet<int> Ids(JsonElement? element, string name)
    {
        HashSet<int> ids = [];
        if (element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var value))
        {
            if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var single))
            {
                ids.Add(single);
            }
            else if (value.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in value.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out var id))
                    {
                        ids.Add(id);
                    }
                }
            }
        }

        return ids;
    }
}
