using System.Text.Json.Nodes;

namespace WebConsole.TestModels.Bert;

/// <summary>How sentence-transformers pools token embeddings (1_Pooling/config.json).</summary>
public enum SentencePooling
{
    /// <summary>Not a sentence-transformers model: no modules.json, no 1_Pooling.</summary>
    None,

    /// <summary>Mean of the token embeddings under the attention mask.</summary>
    Mean,

    /// <summary>The first ([CLS]) token's embedding.</summary>
    Cls,
}

/// <summary>What goes into a generated BERT model folder besides the architecture.</summary>
public sealed record BertModelFolderOptions
{
    public required BertArchitecture Architecture { get; init; }

    public int Seed { get; init; } = 1;

    public SentencePooling Pooling { get; init; } = SentencePooling.None;

    /// <summary>Whether modules.json ends in sentence-transformers' Normalize module.</summary>
    public bool Normalize { get; init; } = true;

    /// <summary>
    /// sentence-transformers prompts (config_sentence_transformers.json), e.g. E5's <c>query</c> → "query: " and
    /// <c>passage</c> → "passage: ".
    /// </summary>
    public IReadOnlyDictionary<string, string>? Prompts { get; init; }

    /// <summary>tokenizer_config.json's model_max_length.</summary>
    public int ModelMaxLength { get; init; } = 512;
}

/// <summary>
/// Writes a complete Hugging Face export-layout folder for a BERT model: config.json, the tokenizer files,
/// onnx/model.onnx, and for sentence-transformers models modules.json, 1_Pooling/config.json and
/// config_sentence_transformers.json.
/// </summary>
public static class BertModelFolder
{
    /// <summary>Writes the folder (which must exist and may be empty).</summary>
    public static void Write(string folder, BertModelFolderOptions options, BertVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(vocabulary);
        var shape = options.Architecture;
        if (shape.VocabularySize != vocabulary.Tokens.Count)
        {
            throw new ArgumentException($"The architecture's vocabulary ({shape.VocabularySize}) differs from the tokenizer's ({vocabulary.Tokens.Count}).", nameof(options));
        }

        Directory.CreateDirectory(Path.Combine(folder, "onnx"));
        File.WriteAllBytes(Path.Combine(folder, "onnx", "model.onnx"), BertGraphWriter.Write(shape, options.Seed));
        BertVocabulary.Write(Path.Combine(folder, "config.json"), Config(shape));
        vocabulary.WriteTokenizerFiles(folder, options.ModelMaxLength);

        if (options.Pooling != SentencePooling.None)
        {
            WriteSentenceTransformers(folder, options);
        }
    }

    // The fields transformers writes for BertConfig (transformers.js reads model_type, the sizes and, for heads, the labels).
    private static JsonObject Config(BertArchitecture shape)
    {
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray(shape.Head switch
            {
                BertHead.MaskedLanguageModel => "BertForMaskedLM",
                BertHead.SequenceClassification => "BertForSequenceClassification",
                _ => "BertModel",
            }),
            ["attention_probs_dropout_prob"] = 0.1,
            ["classifier_dropout"] = null,
            ["hidden_act"] = "gelu",
            ["hidden_dropout_prob"] = 0.1,
            ["hidden_size"] = shape.HiddenSize,
            ["initializer_range"] = 0.02,
            ["intermediate_size"] = shape.IntermediateSize,
            ["layer_norm_eps"] = shape.LayerNormEpsilon,
            ["max_position_embeddings"] = shape.MaxPositionEmbeddings,
            ["model_type"] = "bert",
            ["num_attention_heads"] = shape.AttentionHeads,
            ["num_hidden_layers"] = shape.Layers,
            ["pad_token_id"] = 0,
            ["position_embedding_type"] = "absolute",
            ["transformers_version"] = "4.46.3",
            ["type_vocab_size"] = shape.TypeVocabularySize,
            ["use_cache"] = true,
            ["vocab_size"] = shape.VocabularySize,
        };
        if (shape.Head == BertHead.SequenceClassification)
        {
            var id2label = new JsonObject();
            var label2id = new JsonObject();
            for (var label = 0; label < shape.Labels; label++)
            {
                id2label[label.ToString(System.Globalization.CultureInfo.InvariantCulture)] = $"LABEL_{label}";
                label2id[$"LABEL_{label}"] = label;
            }

            config["id2label"] = id2label;
            config["label2id"] = label2id;
        }

        return config;
    }

    private static void WriteSentenceTransformers(string folder, BertModelFolderOptions options)
    {
        var modules = new JsonArray(
            Module(0, "0", string.Empty, "sentence_transformers.models.Transformer"),
            Module(1, "1", "1_Pooling", "sentence_transformers.models.Pooling"));
        if (options.Normalize)
        {
            modules.Add(Module(2, "2", "2_Normalize", "sentence_transformers.models.Normalize"));
            Directory.CreateDirectory(Path.Combine(folder, "2_Normalize"));
        }

        BertVocabulary.Write(Path.Combine(folder, "modules.json"), modules);
        Directory.CreateDirectory(Path.Combine(folder, "1_Pooling"));
        BertVocabulary.Write(Path.Combine(folder, "1_Pooling", "config.json"), new JsonObject
        {
            ["word_embedding_dimension"] = options.Architecture.HiddenSize,
            ["pooling_mode_cls_token"] = options.Pooling == SentencePooling.Cls,
            ["pooling_mode_mean_tokens"] = options.Pooling == SentencePooling.Mean,
            ["pooling_mode_max_tokens"] = false,
            ["pooling_mode_mean_sqrt_len_tokens"] = false,
            ["pooling_mode_weightedmean_tokens"] = false,
            ["pooling_mode_lasttoken"] = false,
            ["include_prompt"] = true,
        });
        BertVocabulary.Write(Path.Combine(folder, "sentence_bert_config.json"), new JsonObject
        {
            ["max_seq_length"] = options.ModelMaxLength,
            ["do_lower_case"] = false,
        });

        var prompts = new JsonObject();
        foreach (var (name, prompt) in options.Prompts ?? new Dictionary<string, string>())
        {
            prompts[name] = prompt;
        }

        BertVocabulary.Write(Path.Combine(folder, "config_sentence_transformers.json"), new JsonObject
        {
            ["__version__"] = new JsonObject { ["sentence_transformers"] = "3.2.1", ["transformers"] = "4.46.3", ["pytorch"] = "2.5.1" },
            ["prompts"] = prompts,
            ["default_prompt_name"] = null,
            ["similarity_fn_name"] = "cosine",
        });
    }

    private static JsonObject Module(int index, string name, string path, string type) =>
        new() { ["idx"] = index, ["name"] = name, ["path"] = path, ["type"] = type };
}
