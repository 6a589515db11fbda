using WebConsole.Domain.Text;

namespace WebConsole.Domain.Chunking;

/// <summary>
/// Every word boundary of one text, each marked with whether the segment that ends there is a word: the state an ICU
/// word break iterator walks. Elasticsearch counts and skips words by walking that iterator from the boundary
/// <em>before</em> a position, so a word that ends exactly there is counted too; these methods reproduce that walk.
/// </summary>
internal sealed class WordBreaks
{
    // Ascending; the first is 0 and the last is the text's length.
    private readonly int[] _boundaries;

    // _endsWord[i]: the segment that ends at _boundaries[i] is a word (ICU rule status not WORD_NONE); false for 0.
    private readonly bool[] _endsWord;

    private WordBreaks(int[] boundaries, bool[] endsWord)
    {
        _boundaries = boundaries;
        _endsWord = endsWord;
    }

    /// <summary>The word boundaries of <paramref name="text"/>, which must not be empty.</summary>
    public static WordBreaks Of(ITextSegmenter segmenter, string text)
    {
        var segments = segmenter.SplitAtWordBoundaries(text);
        var words = segmenter.SplitWords(text);
        var boundaries = new int[segments.Count + 1];
        var endsWord = new bool[segments.Count + 1];
        var w = 0;
        for (var i = 0; i < segments.Count; i++)
        {
            var segment = segments[i];
            boundaries[i + 1] = segment.End;
            if (w < words.Count && words[w] == segment)
            {
                endsWord[i + 1] = true;
                w++;
            }
        }

        if (w != words.Count || boundaries[^1] != text.Length)
        {
            throw new InvalidOperationException("The text segmenter's words are not among its word boundary segments.");
        }

        return new WordBreaks(boundaries, endsWord);
    }

    /// <summary>
    /// Words between <paramref name="start"/> and <paramref name="end"/> as Elasticsearch's
    /// <c>ChunkerUtils.countWords</c> counts them: from the boundary preceding <paramref name="start"/> through the
    /// boundaries up to and including <paramref name="end"/>. A word ending exactly at that preceding boundary is
    /// counted as well (for example the last word of a line when <paramref name="start"/> follows its line feed).
    /// </summary>
    public int CountWords(int start, int end)
    {
        var count = 0;
        for (var i = Preceding(start); i < _boundaries.Length && _boundaries[i] <= end; i++)
        {
            if (_endsWord[i])
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// The position after skipping <paramref name="words"/> words from <paramref name="start"/> as Elasticsearch's
    /// <c>SentenceBoundaryChunker.skipWords</c> finds it: walking from the boundary preceding
    /// <paramref name="start"/>, the boundary that follows the one ending the last skipped word (so the whitespace
    /// after it is skipped too); the text's end when the walk runs out.
    /// </summary>
    public int SkipWords(int start, int words)
    {
        var i = Preceding(start);
        var skipped = 0;
        for (; i < _boundaries.Length && skipped < words; i++)
        {
            if (_endsWord[i])
            {
                skipped++;
            }
        }

        return i < _boundaries.Length ? _boundaries[i] : _boundaries[^1];
    }

    // Index of the last boundary before the position, as BreakIterator.preceding; the first boundary (0) when none is.
    private int Preceding(int position)
    {
        var index = Array.BinarySearch(_boundaries, position);
        if (index < 0)
        {
            index = ~index;
        }

        return Math.Max(index - 1, 0);
    }
}
