using System.Text.Json;
using System.Text.Json.Nodes;

namespace WebConsole.Inference.Tokenization;

/// <summary>Loads tokenizers from Hugging Face model folders or tokenizer.json text.</summary>
public static class TokenizerLoader
{
    /// <summary>
    /// Loads the tokenizer of a model folder: tokenizer.json when present, else vocab.txt (BERT WordPiece) or
    /// vocab.json + merges.txt (GPT-2 byte-level BPE); tokenizer_config.json and special_tokens_map.json add settings.
    /// </summary>
    public static ITokenizer FromFolder(string modelFolder)
    {
        var configPath = Path.Combine(modelFolder, "tokenizer_config.json");
        var config = File.Exists(configPath) ? JsonNode.Parse(File.ReadAllText(configPath))?.AsObject() ?? [] : [];

        // special_tokens_map.json fills names tokenizer_config.json leaves out.
        var mapPath = Path.Combine(modelFolder, "special_tokens_map.json");
        if (File.Exists(mapPath) && JsonNode.Parse(File.ReadAllText(mapPath)) is JsonObject map)
        {
            foreach (var (key, value) in map)
            {
                if (!config.ContainsKey(key) && value is not null)
                {
                    config[key] = value.DeepClone();
                }
            }
        }

        var configJson = config.ToJsonString();
        var tokenizerPath = Path.Combine(modelFolder, "tokenizer.json");
        if (File.Exists(tokenizerPath))
        {
            return FromJson(File.ReadAllText(tokenizerPath), configJson);
        }

        var vocabTxt = Path.Combine(modelFolder, "vocab.txt");
        if (File.Exists(vocabTxt))
        {
            var lowercase = config["do_lower_case"]?.GetValue<bool>() ?? true;
            return FromJson(LegacyTokenizerJson.FromWordPieceVocab(File.ReadAllLines(vocabTxt), lowercase), configJson);
        }

        var vocabJson = Path.Combine(modelFolder, "vocab.json");
        var merges = Path.Combine(modelFolder, "merges.txt");
        if (File.Exists(vocabJson) && File.Exists(merges))
        {
            return FromJson(LegacyTokenizerJson.FromGpt2Files(File.ReadAllText(vocabJson), File.ReadAllLines(merges)), configJson);
        }

        throw new FileNotFoundException($"No tokenizer.json, vocab.txt or vocab.json + merges.txt in '{modelFolder}'.");
    }

    /// <summary>Loads a tokenizer from the text of a tokenizer.json and optionally of a tokenizer_config.json.</summary>
    public static ITokenizer FromJson(string tokenizerJson, string? tokenizerConfigJson = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJson);
        using var tokenizer = JsonDocument.Parse(tokenizerJson);
        using var config = tokenizerConfigJson is null ? null : JsonDocument.Parse(tokenizerConfigJson);
        return new HfTokenizer(tokenizer.RootElement, config?.RootElement);
    }
}

/// <summary>Builds the tokenizer.json that Hugging Face derives from the older file forms.</summary>
internal static class LegacyTokenizerJson
{
    private static readonly string[] BertSpecials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    /// <summary>BERT: BertNormalizer, BertPreTokenizer, WordPiece over vocab.txt lines, [CLS] A [SEP] (B [SEP]).</summary>
    public static string FromWordPieceVocab(IReadOnlyList<string> lines, bool lowercase)
    {
        var vocab = new JsonObject();
        for (var i = 0; i < lines.Count; i++)
        {
            var token = lines[i].TrimEnd('\r');
            if (token.Length > 0 && !vocab.ContainsKey(token))
            {
                vocab[token] = i;
            }
        }

        var added = new JsonArray();
        foreach (var special in BertSpecials)
        {
            if (vocab[special] is { } id)
            {
                added.Add(new JsonObject
                {
                    ["id"] = id.GetValue<int>(), ["content"] = special, ["single_word"] = false, ["lstrip"] = false,
                    ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
                });
            }
        }

        JsonArray Pair(string token) => [token, vocab[token]?.GetValue<int>() ?? 0];
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = new JsonObject
            {
                ["type"] = "BertNormalizer", ["clean_text"] = true, ["handle_chinese_chars"] = true, ["strip_accents"] = null, ["lowercase"] = lowercase,
            },
            ["pre_tokenizer"] = new JsonObject { ["type"] = "BertPreTokenizer" },
            ["post_processor"] = new JsonObject { ["type"] = "BertProcessing", ["sep"] = Pair("[SEP]"), ["cls"] = Pair("[CLS]") },
            ["decoder"] = new JsonObject { ["type"] = "WordPiece", ["prefix"] = "##", ["cleanup"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "WordPiece", ["unk_token"] = "[UNK]", ["continuing_subword_prefix"] = "##", ["max_input_chars_per_word"] = 100, ["vocab"] = vocab,
            },
        };
        return root.ToJsonString();
    }

    /// <summary>GPT-2: byte-level pre-tokenizer, BPE over vocab.json + merges.txt, byte-level decoder, &lt;|endoftext|&gt;.</summary>
    public static string FromGpt2Files(string vocabJson, IReadOnlyList<string> mergeLines)
    {
        var vocab = JsonNode.Parse(vocabJson)!.AsObject();
        var merges = new JsonArray();
        foreach (var line in mergeLines)
        {
            var trimmed = line.TrimEnd('\r');
            if (trimmed.Length > 0 && !trimmed.StartsWith("#version", StringComparison.Ordinal))
            {
                merges.Add(trimmed);
            }
        }

        var added = new JsonArray();
        if (vocab["<|endoftext|>"] is { } eot)
        {
            added.Add(new JsonObject
            {
                ["id"] = eot.GetValue<int>(), ["content"] = "<|endoftext|>", ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = true, ["special"] = true,
            });
        }

        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["post_processor"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = false, ["use_regex"] = true },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = "", ["end_of_word_suffix"] = "",
                ["fuse_unk"] = false, ["byte_fallback"] = false, ["vocab"] = vocab.DeepClone(), ["merges"] = merges,
            },
        };
        return root.ToJsonString();
    }
}
