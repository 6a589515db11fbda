using WebConsole.Domain.Text;

namespace WebConsole.Domain.Chunking;

/// <summary>
/// Splits texts the way Elasticsearch's chunkers do (<c>SentenceBoundaryChunker</c>, <c>WordBoundaryChunker</c>,
/// <c>RecursiveChunker</c>, <c>NoopChunker</c>), with word and sentence boundaries from
/// <paramref name="segmenter"/> (ICU's rules, dictionary-based for Chinese and Japanese), so word counts follow the
/// language rather than whitespace.
/// </summary>
/// <remarks>
/// <para>Chunks come in text order and their offsets are UTF-16 code units into the original text. The word and
/// sentence strategies produce chunks that together cover the whole text; word windows overlap by exactly the
/// configured number of words.</para>
/// <para>An empty text gives one empty chunk (0, 0) with every strategy, as Elasticsearch's chunkers return.</para>
/// <para>Word counts are Elasticsearch's: a word is counted from the boundary before a span's start, so a span that
/// starts right after a word's last character (the line feed after a line without a full stop, a separator right
/// after a word) counts that word too. Chunks therefore hold at most, and occasionally one fewer than, the budget.</para>
/// <para>Thread-safe and stateless; share one instance.</para>
/// </remarks>
/// <param name="segmenter">Sentence and word boundaries.</param>
public sealed class TextChunker(ITextSegmenter segmenter) : ITextChunker
{
    /// <inheritdoc />
    /// <exception cref="ArgumentException">The settings lack the values their strategy needs (not built by
    /// <see cref="ChunkingSettings"/>' factories).</exception>
    /// <exception cref="DomainValidationException">A recursive separator is not a valid regular expression or takes
    /// too long to match.</exception>
    public IReadOnlyList<TextChunk> Chunk(string text, ChunkingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(text);
        return settings.Strategy switch
        {
            ChunkingStrategy.None => [new TextChunk(0, text.Length)],
            ChunkingStrategy.Word => Words(text, MaxWords(settings), settings.Overlap ?? throw Incomplete(settings)),
            ChunkingStrategy.Sentence => SentenceChunking.Split(
                segmenter, text, MaxWords(settings), (settings.SentenceOverlap ?? throw Incomplete(settings)) > 0),
            ChunkingStrategy.Recursive => RecursiveChunking.Split(
                segmenter, text, settings.Separators ?? throw Incomplete(settings), MaxWords(settings)),
            _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.Strategy, "Unknown chunking strategy."),
        };
    }

    private List<TextChunk> Words(string text, int maxWords, int overlap)
    {
        if (text.Length == 0)
        {
            return [new TextChunk(0, 0)];
        }

        var windows = WordWindowChunking.Split(segmenter.SplitWords(text), text.Length, maxWords, overlap);
        return windows.ConvertAll(window => window.Chunk);
    }

    private static int MaxWords(ChunkingSettings settings) => settings.MaxChunkSize ?? throw Incomplete(settings);

    private static ArgumentException Incomplete(ChunkingSettings settings) =>
        new($"The {ChunkingSettings.ToWireName(settings.Strategy)} chunking settings are incomplete.", nameof(settings));
}
