using System.Text.Json;

namespace WebConsole.Inference.Models;

/// <summary>How token embeddings become one sentence embedding.</summary>
public enum PoolingMode
{
    /// <summary>The mean of the token embeddings under the attention mask (padding excluded).</summary>
    Mean,

    /// <summary>The first token's embedding ([CLS] for BERT-family models).</summary>
    Cls,
}

/// <summary>
/// What a sentence-transformers model folder says about itself: <c>modules.json</c> (is there a Normalize module),
/// <c>1_Pooling/config.json</c> (the pooling mode) and <c>config_sentence_transformers.json</c> (named prompts such as
/// E5's <c>query</c> / <c>passage</c>).
/// </summary>
/// <param name="Pooling">The pooling mode of the Pooling module, when the folder has one.</param>
/// <param name="Normalize">Whether modules.json lists sentence-transformers' Normalize module.</param>
/// <param name="Prompts">Named prompts prepended to inputs, e.g. <c>query</c> → "query: ".</param>
public sealed record SentenceTransformersConfig(PoolingMode? Pooling, bool Normalize, IReadOnlyDictionary<string, string> Prompts)
{
    private static readonly string[] PoolingModes =
    [
        "pooling_mode_cls_token", "pooling_mode_mean_tokens", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens",
        "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken",
    ];

    /// <summary>
    /// Reads the sentence-transformers files of <paramref name="folder"/>; null when it has no modules.json (not a
    /// sentence-transformers model).
    /// </summary>
    /// <exception cref="InvalidDataException">A file is present but not understood (e.g. an unsupported pooling mode).</exception>
    public static SentenceTransformersConfig? Read(string folder)
    {
        var modulesPath = Path.Combine(folder, "modules.json");
        if (!File.Exists(modulesPath))
        {
            return null;
        }

        using var modules = JsonDocument.Parse(File.ReadAllText(modulesPath));
        string? poolingPath = null;
        var normalize = false;
        foreach (var module in modules.RootElement.EnumerateArray())
        {
            var type = ModelConfig.String(module, "type") ?? string.Empty;
            if (type.EndsWith(".Pooling", StringComparison.Ordinal))
            {
                poolingPath = ModelConfig.String(module, "path");
            }
            else if (type.EndsWith(".Normalize", StringComparison.Ordinal))
            {
                normalize = true;
            }
        }

        var pooling = poolingPath is null ? (PoolingMode?)null : ReadPooling(Path.Combine(folder, poolingPath, "config.json"));
        return new SentenceTransformersConfig(pooling, normalize, ReadPrompts(Path.Combine(folder, "config_sentence_transformers.json")));
    }

    private static PoolingMode ReadPooling(string path)
    {
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"modules.json names a Pooling module but {path} is missing.");
        }

        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var root = document.RootElement;
        bool On(string mode) => root.TryGetProperty(mode, out var value) && value.ValueKind == JsonValueKind.True;

        // Exactly one mode is supported at a time; sentence-transformers concatenates several, which no model served
        // here needs.
        var modes = PoolingModes.Where(On).ToArray();
        return modes switch
        {
            ["pooling_mode_mean_tokens"] => PoolingMode.Mean,
            ["pooling_mode_cls_token"] => PoolingMode.Cls,
            _ => throw new InvalidDataException($"{path}: pooling [{string.Join(", ", modes)}] is not supported (mean or CLS only)."),
        };
    }

    private static Dictionary<string, string> ReadPrompts(string path)
    {
        var prompts = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!File.Exists(path))
        {
            return prompts;
        }

        using var document = JsonDocument.Parse(File.ReadAllText(path));
        if (document.RootElement.TryGetProperty("prompts", out var list) && list.ValueKind == JsonValueKind.Object)
        {
            foreach (var prompt in list.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String))
            {
                prompts[prompt.Name] = prompt.Value.GetString()!;
            }
        }

        return prompts;
    }
}
