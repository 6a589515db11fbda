using WebConsole.Inference.Tokenization;

namespace WebConsole.Inference.Generation;

/// <summary>
/// Turns generated ids into text one token at a time without ever splitting a character. Each step decodes a short
/// window that starts a little before the new tokens (the prefix window, as TGI and vLLM do) and emits only what the
/// window adds beyond its prefix, and only once that addition no longer ends in U+FFFD: a byte-level BPE or byte-fallback
/// token can carry part of a UTF-8 sequence, which decodes as a replacement character until the rest arrives. Decoding
/// the prefix too keeps decoder rules that depend on context (SentencePiece's leading space) as in a full decode.
/// </summary>
public sealed class IncrementalDetokenizer(ITokenizer tokenizer, bool skipSpecialTokens = true)
{
    private const char Replacement = '\uFFFD';
    private readonly List<int> _ids = [];
    private int _prefixOffset;
    private int _readOffset;

    /// <summary>All ids added so far.</summary>
    public IReadOnlyList<int> Ids => _ids;

    /// <summary>Adds <paramref name="id"/> and answers the text it completes (often empty while a character is incomplete).</summary>
    public string Add(int id)
    {
        _ids.Add(id);
        var prefix = Decode(_prefixOffset, _readOffset);
        var text = Decode(_prefixOffset, _ids.Count);
        if (text.Length > prefix.Length && text[^1] != Replacement && text.StartsWith(prefix, StringComparison.Ordinal))
        {
            _prefixOffset = _readOffset;
            _readOffset = _ids.Count;
            return text[prefix.Length..];
        }

        return string.Empty;
    }

    /// <summary>At the end of generation: whatever is still held back (an incomplete character decodes as U+FFFD, as in a full decode).</summary>
    public string Flush()
    {
        var prefix = Decode(_prefixOffset, _readOffset);
        var text = Decode(_prefixOffset, _ids.Count);
        _prefixOffset = _readOffset = _ids.Count;
        return text.Length > prefix.Length && text.StartsWith(prefix, StringComparison.Ordinal) ? text[prefix.Length..] : string.Empty;
    }

    private string Decode(int start, int end) =>
        end <= start ? string.Empty : tokenizer.Decode(_ids.GetRange(start, end - start), skipSpecialTokens);
}
