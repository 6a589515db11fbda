namespace WebConsole.Inference.Tokenization;

/// <summary>
/// A Hugging Face compatible tokenizer (the <c>tokenizers</c> pipeline: added tokens, normalizer, pre-tokenizer, model,
/// post-processor, decoder). Instances are immutable after loading and safe to use from many threads at once.
/// </summary>
public interface ITokenizer
{
    /// <summary>Encodes <paramref name="text"/> (and <paramref name="pair"/> for cross-encoders) into ids.</summary>
    TokenizedText Encode(string text, string? pair = null, EncodeOptions? options = null);

    /// <summary>Encodes each text on its own (no padding; the batcher pads).</summary>
    IReadOnlyList<TokenizedText> EncodeBatch(IReadOnlyList<string> texts, EncodeOptions? options = null);

    /// <summary>Turns ids back into text with the tokenizer's decoder.</summary>
    string Decode(IReadOnlyList<int> ids, bool skipSpecialTokens = true);

    /// <summary>The id of a vocabulary or added token, or null when unknown.</summary>
    int? TokenToId(string token);

    /// <summary>The token string of an id, or null when out of range.</summary>
    string? IdToToken(int id);

    /// <summary>The number of ids (model vocabulary plus added tokens).</summary>
    int VocabularySize { get; }

    /// <summary>The well-known special tokens of this tokenizer.</summary>
    SpecialTokens Special { get; }

    /// <summary>The model's maximum sequence length from tokenizer_config.json, if it names a sensible one.</summary>
    int? ModelMaxLength { get; }
}

/// <summary>Which end of a sequence truncation removes tokens from.</summary>
public enum TruncationSide
{
    /// <summary>Keep the beginning.</summary>
    Right,

    /// <summary>Keep the end.</summary>
    Left,
}

/// <summary>Options of one encode call.</summary>
public sealed record EncodeOptions
{
    /// <summary>Whether the post-processor adds special tokens such as [CLS]/[SEP] or BOS.</summary>
    public bool AddSpecialTokens { get; init; } = true;

    /// <summary>
    /// Truncate to this many tokens (special tokens included); null = the model's maximum length
    /// (<see cref="ITokenizer.ModelMaxLength"/>), or no truncation when the model names none. Pairs are truncated
    /// longest-first, as Hugging Face does.
    /// </summary>
    public int? MaxLength { get; init; }

    /// <summary>Which end truncation removes tokens from.</summary>
    public TruncationSide Side { get; init; } = TruncationSide.Right;
}

/// <summary>The result of encoding one text (or pair).</summary>
public sealed class TokenizedText
{
    /// <summary>Creates an encoding; all arrays have the same length.</summary>
    public TokenizedText(int[] ids, int[] typeIds, int[] attentionMask, (int Start, int End)[] offsets, string[] tokens, bool isTruncated)
    {
        ArgumentNullException.ThrowIfNull(ids);
        Ids = ids;
        TypeIds = typeIds;
        AttentionMask = attentionMask;
        Offsets = offsets;
        Tokens = tokens;
        IsTruncated = isTruncated;
    }

    /// <summary>The token ids.</summary>
    public int[] Ids { get; }

    /// <summary>Segment ids: 0 for the first sequence, 1 for the pair (per the post-processor).</summary>
    public int[] TypeIds { get; }

    /// <summary>1 for every token (no padding here).</summary>
    public int[] AttentionMask { get; }

    /// <summary>UTF-16 code unit ranges into the input text (end exclusive); (0,0) for special tokens.
    /// For pair encodings, tokens of the pair point into the pair string.</summary>
    public (int Start, int End)[] Offsets { get; }

    /// <summary>The token strings.</summary>
    public string[] Tokens { get; }

    /// <summary>Whether truncation removed tokens.</summary>
    public bool IsTruncated { get; }

    /// <summary>The number of tokens.</summary>
    public int Length => Ids.Length;
}

/// <summary>The well-known special token ids of a tokenizer and the set of all special ids.</summary>
public sealed record SpecialTokens(int? Bos, int? Eos, int? Pad, int? Unk, int? Cls, int? Sep, int? Mask, IReadOnlySet<int> All);
