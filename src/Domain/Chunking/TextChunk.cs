namespace WebConsole.Domain.Chunking;

/// <summary>
/// One chunk of an input: where it starts and ends in the original text, in UTF-16 code units, end exclusive
/// (CONTRACT.md's <c>start_offset</c>/<c>end_offset</c>), so <c>text[StartOffset..EndOffset]</c> is the chunk's text.
/// </summary>
/// <param name="StartOffset">The first code unit of the chunk.</param>
/// <param name="EndOffset">One past the last code unit of the chunk.</param>
public readonly record struct TextChunk(int StartOffset, int EndOffset)
{
    /// <summary>The chunk's text within <paramref name="text"/> (the input it was cut from).</summary>
    public string Slice(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text[StartOffset..EndOffset];
    }
}

/// <summary>
/// Splits a text into chunks by an endpoint's <see cref="ChunkingSettings"/> (sentence, word, recursive, none), the way
/// Elasticsearch does. Implementations are thread-safe.
/// </summary>
public interface ITextChunker
{
    /// <summary>
    /// The chunks of <paramref name="text"/>, in text order; an empty text gives one empty chunk (0, 0), as every
    /// Elasticsearch chunker returns for an empty input.
    /// </summary>
    IReadOnlyList<TextChunk> Chunk(string text, ChunkingSettings settings);
}
