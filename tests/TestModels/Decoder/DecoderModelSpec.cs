namespace WebConsole.TestModels.Decoder;

/// <summary>
/// The shape of a generated Llama/Qwen-style decoder. Defaults are tiny (2 layers, hidden 32, 4 query heads sharing
/// 2 key/value heads) so a test runs it in milliseconds, while the graph has every part a real export has.
/// </summary>
public sealed record DecoderModelSpec
{
    /// <summary><c>qwen3</c> (per-head q/k RMSNorm, tied embeddings) or <c>llama</c> (untied lm_head).</summary>
    public required string ModelType { get; init; }

    public int Layers { get; init; } = 2;

    public int HiddenSize { get; init; } = 32;

    public int Heads { get; init; } = 4;

    public int KeyValueHeads { get; init; } = 2;

    public int HeadDim { get; init; } = 16;

    public int IntermediateSize { get; init; } = 64;

    /// <summary>The rows of the graph's rotary tables: a position past them makes the graph fail at run time.</summary>
    public int MaxPositions { get; init; } = 2048;

    /// <summary>
    /// What config.json declares as <c>max_position_embeddings</c> when it differs from <see cref="MaxPositions"/>: a larger
    /// value is a broken export whose generation crashes once the sequence outgrows the graph's tables.
    /// </summary>
    public int? DeclaredMaxPositions { get; init; }

    public double RopeTheta { get; init; } = 1_000_000;

    public float RmsNormEpsilon { get; init; } = 1e-6f;

    public bool TieWordEmbeddings { get; init; } = true;

    /// <summary>
    /// With the KV cache signature (<c>past_key_values.N.*</c> in, <c>present.N.*</c> out, as optimum's
    /// <c>text-generation-with-past</c>), or without (optimum's <c>text-generation</c>: every step recomputes).
    /// </summary>
    public bool WithPast { get; init; } = true;

    public long Seed { get; init; } = 20_241_121;

    /// <summary>Standard deviation of the token embeddings; large enough that logits are spread and greedy picks are clear.</summary>
    public float EmbeddingStd { get; init; } = 0.5f;
}
