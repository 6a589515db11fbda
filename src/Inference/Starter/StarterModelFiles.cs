using System.Globalization;
using System.Text;
using System.Text.Json;

namespace WebConsole.Inference.Starter;

/// <summary>
/// The non-graph files of a starter model in the Hugging Face export layout: a word-level BERT-style tokenizer
/// (tokenizer.json: BertNormalizer lowercasing and stripping accents, BertPreTokenizer, a WordPiece model whose
/// vocabulary is whole words plus [PAD] [UNK] [CLS] [SEP], the BERT template), tokenizer_config.json,
/// special_tokens_map.json, config.json and, for the embedder, the sentence-transformers files.
/// </summary>
internal static class StarterModelFiles
{
    /// <summary>The special tokens, at ids 0-3; words follow from id <see cref="FirstWordId"/> on.</summary>
    public static readonly string[] SpecialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"];

    /// <summary>The id of the first word.</summary>
    public const int FirstWordId = 4;

    private static readonly JsonWriterOptions Indented = new() { Indented = true };

    /// <summary>Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json for <paramref name="words"/>.</summary>
    public static void WriteTokenizer(string folder, IReadOnlyList<string> words, int modelMaxLength)
    {
        using (var stream = File.Create(Path.Combine(folder, "tokenizer.json")))
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("version", "1.0");
            json.WriteNull("truncation");
            json.WriteNull("padding");
            WriteAddedTokens(json, SpecialTokens);
            json.WriteStartObject("normalizer");
            json.WriteString("type", "BertNormalizer");
            json.WriteBoolean("clean_text", true);
            json.WriteBoolean("handle_chinese_chars", true);
            json.WriteBoolean("strip_accents", true);
            json.WriteBoolean("lowercase", true);
            json.WriteEndObject();
            json.WriteStartObject("pre_tokenizer");
            json.WriteString("type", "BertPreTokenizer");
            json.WriteEndObject();
            WriteTemplate(json);
            json.WriteStartObject("decoder");
            json.WriteString("type", "WordPiece");
            json.WriteString("prefix", "##");
            json.WriteBoolean("cleanup", true);
            json.WriteEndObject();
            json.WriteStartObject("model");
            json.WriteString("type", "WordPiece");
            json.WriteString("unk_token", "[UNK]");
            json.WriteString("continuing_subword_prefix", "##");
            json.WriteNumber("max_input_chars_per_word", 100);
            json.WriteStartObject("vocab");
            for (var id = 0; id < SpecialTokens.Length; id++)
            {
                json.WriteNumber(SpecialTokens[id], id);
            }

            for (var i = 0; i < words.Count; i++)
            {
                json.WriteNumber(words[i], FirstWordId + i);
            }

            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }

        WriteJson(Path.Combine(folder, "tokenizer_config.json"), json =>
        {
            json.WriteString("tokenizer_class", "BertTokenizer");
            json.WriteBoolean("do_lower_case", true);
            json.WriteBoolean("clean_up_tokenization_spaces", true);
            json.WriteNumber("model_max_length", modelMaxLength);
            WriteSpecialNames(json);
        });
        WriteJson(Path.Combine(folder, "special_tokens_map.json"), WriteSpecialNames);
    }

    /// <summary>Writes config.json: what the graph is, its sizes and where its data came from.</summary>
    public static void WriteConfig(string folder, string architecture, int vocabularySize, int hiddenSize, int maxLength, int? labels, IReadOnlyDictionary<string, string> build)
    {
        WriteJson(Path.Combine(folder, "config.json"), json =>
        {
            json.WriteStartArray("architectures");
            json.WriteStringValue(architecture);
            json.WriteEndArray();
            json.WriteString("model_type", "webconsole-starter");
            json.WriteNumber("vocab_size", vocabularySize);
            json.WriteNumber("hidden_size", hiddenSize);
            json.WriteNumber("max_position_embeddings", maxLength);
            json.WriteNumber("pad_token_id", 0);
            if (labels is { } count)
            {
                json.WriteNumber("num_labels", count);
                json.WriteStartObject("id2label");
                for (var i = 0; i < count; i++)
                {
                    json.WriteString(i.ToString(CultureInfo.InvariantCulture), $"LABEL_{i}");
                }

                json.WriteEndObject();
            }

            json.WriteStartObject("webconsole_starter");
            foreach (var (key, value) in build)
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();
        });
    }

    /// <summary>Writes modules.json, 1_Pooling/config.json (mean pooling), 2_Normalize/ and config_sentence_transformers.json.</summary>
    public static void WriteSentenceTransformers(string folder, int dimensions)
    {
        File.WriteAllText(Path.Combine(folder, "modules.json"), """
            [
              {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
              {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
              {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}
            ]

            """);
        Directory.CreateDirectory(Path.Combine(folder, "1_Pooling"));
        Directory.CreateDirectory(Path.Combine(folder, "2_Normalize"));
        WriteJson(Path.Combine(folder, "1_Pooling", "config.json"), json =>
        {
            json.WriteNumber("word_embedding_dimension", dimensions);
            json.WriteBoolean("pooling_mode_cls_token", false);
            json.WriteBoolean("pooling_mode_mean_tokens", true);
            json.WriteBoolean("pooling_mode_max_tokens", false);
            json.WriteBoolean("pooling_mode_mean_sqrt_len_tokens", false);
            json.WriteBoolean("pooling_mode_weightedmean_tokens", false);
            json.WriteBoolean("pooling_mode_lasttoken", false);
            json.WriteBoolean("include_prompt", true);
        });
        WriteJson(Path.Combine(folder, "config_sentence_transformers.json"), json =>
        {
            json.WriteStartObject("prompts");
            json.WriteEndObject();
            json.WriteNull("default_prompt_name");
            json.WriteString("similarity_fn_name", "cosine");
        });
    }

    /// <summary>Writes README.md, the model card.</summary>
    public static void WriteCard(string folder, string card) =>
        File.WriteAllText(Path.Combine(folder, "README.md"), card.ReplaceLineEndings("\n"), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));

    private static void WriteTemplate(Utf8JsonWriter json)
    {
        void Special(string token, int typeId)
        {
            json.WriteStartObject();
            json.WriteStartObject("SpecialToken");
            json.WriteString("id", token);
            json.WriteNumber("type_id", typeId);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        void Sequence(string id, int typeId)
        {
            json.WriteStartObject();
            json.WriteStartObject("Sequence");
            json.WriteString("id", id);
            json.WriteNumber("type_id", typeId);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteStartObject("post_processor");
        json.WriteString("type", "TemplateProcessing");
        json.WriteStartArray("single");
        Special("[CLS]", 0);
        Sequence("A", 0);
        Special("[SEP]", 0);
        json.WriteEndArray();
        json.WriteStartArray("pair");
        Special("[CLS]", 0);
        Sequence("A", 0);
        Special("[SEP]", 0);
        Sequence("B", 1);
        Special("[SEP]", 1);
        json.WriteEndArray();
        json.WriteStartObject("special_tokens");
        foreach (var token in new[] { "[CLS]", "[SEP]" })
        {
            json.WriteStartObject(token);
            json.WriteString("id", token);
            json.WriteStartArray("ids");
            json.WriteNumberValue(Array.IndexOf(SpecialTokens, token));
            json.WriteEndArray();
            json.WriteStartArray("tokens");
            json.WriteStringValue(token);
            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteSpecialNames(Utf8JsonWriter json)
    {
        json.WriteString("pad_token", "[PAD]");
        json.WriteString("unk_token", "[UNK]");
        json.WriteString("cls_token", "[CLS]");
        json.WriteString("sep_token", "[SEP]");
    }

    private static void WriteJson(string path, Action<Utf8JsonWriter> write)
    {
        using var stream = File.Create(path);
        using (var json = new Utf8JsonWriter(stream, Indented))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }

        stream.WriteByte((byte)'\n');
    }

    /// <summary>tokenizer.json's <c>added_tokens</c>: the special tokens, with ids 0..n-1, as transformers writes them.</summary>
    internal static void WriteAddedTokens(System.Text.Json.Utf8JsonWriter json, IReadOnlyList<string> specials)
    {
        json.WriteStartArray("added_tokens");
        for (var id = 0; id < specials.Count; id++)
        {
            json.WriteStartObject();
            json.WriteNumber("id", id);
            json.WriteString("content", specials[id]);
            json.WriteBoolean("single_word", false);
            json.WriteBoolean("lstrip", false);
            json.WriteBoolean("rstrip", false);
            json.WriteBoolean("normalized", false);
            json.WriteBoolean("special", true);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }
}
