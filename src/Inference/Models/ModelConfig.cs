using System.Text.Json;

namespace WebConsole.Inference.Models;

/// <summary>The fields of a Hugging Face <c>config.json</c> the host uses; everything else is ignored.</summary>
/// <param name="ModelType">transformers' model_type, e.g. <c>bert</c>, <c>xlm-roberta</c>, <c>qwen2</c>.</param>
/// <param name="Architectures">The model classes the checkpoint was saved from, e.g. <c>BertForSequenceClassification</c>.</param>
/// <param name="HiddenSize">The encoder's hidden size (the embedding dimension of pooled outputs), if stated.</param>
/// <param name="MaxPositionEmbeddings">The position table's size, if stated.</param>
/// <param name="Labels">Outputs of a classification head: the size of id2label, else num_labels, else null.</param>
public sealed record ModelConfig(
    string? ModelType,
    IReadOnlyList<string> Architectures,
    int? HiddenSize,
    int? MaxPositionEmbeddings,
    int? Labels)
{
    /// <summary>An empty configuration (a folder without config.json).</summary>
    public static ModelConfig Empty { get; } = new(null, [], null, null, null);

    /// <summary>
    /// The longest input the position table allows. RoBERTa-family models reserve the first two positions (padding
    /// offset), so their 514-entry table holds 512 tokens.
    /// </summary>
    public int? MaxInputLength => MaxPositionEmbeddings is { } positions
        ? ModelType is "roberta" or "xlm-roberta" or "camembert" ? positions - 2 : positions
        : null;

    /// <summary>Parses config.json text.</summary>
    /// <exception cref="JsonException">The text is not a JSON object.</exception>
    public static ModelConfig Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("config.json is not a JSON object.");
        }

        var architectures = root.TryGetProperty("architectures", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Where(a => a.ValueKind == JsonValueKind.String).Select(a => a.GetString()!).ToArray()
            : [];
        int? labels = root.TryGetProperty("id2label", out var id2label) && id2label.ValueKind == JsonValueKind.Object
            ? id2label.EnumerateObject().Count()
            : Int(root, "num_labels");
        return new ModelConfig(String(root, "model_type"), architectures, Int(root, "hidden_size"), Int(root, "max_position_embeddings"), labels);
    }

    internal static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    internal static int? Int(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : null;
}
