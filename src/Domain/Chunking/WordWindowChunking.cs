using WebConsole.Domain.Text;

namespace WebConsole.Domain.Chunking;

/// <summary>
/// The <c>word</c> strategy, as Elasticsearch's <c>WordBoundaryChunker</c>: windows of <c>size</c> words that
/// advance by <c>size - overlap</c> words. A window ends where its last word ends; the next starts where the word
/// before its first word ends, so whitespace and punctuation between windows open the following window. The first
/// window starts at 0 and the last ends at the end of the text.
/// </summary>
internal static class WordWindowChunking
{
    /// <summary>A window and the words it was counted to hold (the overlap included).</summary>
    public readonly record struct Window(TextChunk Chunk, int WordCount);

    /// <summary>The windows of a text of <paramref name="textLength"/> code units whose words are <paramref name="words"/>.</summary>
    public static List<Window> Split(IReadOnlyList<TextSegment> words, int textLength, int size, int overlap)
    {
        if (overlap < 0 || (overlap > 0 && overlap > size / 2))
        {
            throw new ArgumentOutOfRangeException(nameof(overlap), overlap, $"The overlap must be between 0 and {size / 2}.");
        }

        var windows = new List<Window>();
        var step = size - overlap;
        var wordsInWindow = 0;      // includes the overlap carried from the previous window
        var wordsSinceMark = 0;     // words since the start of the next window was marked
        var windowStart = 0;
        var nextWindowStart = 0;

        foreach (var word in words)
        {
            wordsInWindow++;
            wordsSinceMark++;

            if (wordsInWindow >= size)
            {
                windows.Add(new Window(new TextChunk(windowStart, word.End), wordsInWindow));
                wordsInWindow = overlap;
                if (overlap == 0)
                {
                    nextWindowStart = word.End;
                }

                windowStart = nextWindowStart;
            }

            if (wordsSinceMark == step)
            {
                nextWindowStart = word.End;
                wordsSinceMark = 0;
            }
        }

        // A final, partly filled window; when the words ran out exactly on a window its count equals the overlap and
        // it holds nothing new, unless it is the only one (a text shorter than a window, or one without words).
        if (wordsInWindow > overlap || windows.Count == 0)
        {
            windows.Add(new Window(new TextChunk(windowStart, textLength), wordsInWindow));
        }

        return windows;
    }
}
