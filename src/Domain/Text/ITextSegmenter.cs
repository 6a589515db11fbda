namespace WebConsole.Domain.Text;

/// <summary>
/// Splits text into sentences and words by the Unicode segmentation rules (UAX #29) with dictionary-based word
/// breaking for Chinese, Japanese, Thai and similar scripts, as Elasticsearch's chunkers do with ICU. Chunkers count
/// and cut text with it, so word counts follow the language, not whitespace.
/// </summary>
/// <remarks>
/// Implementations are thread-safe: one instance is shared (a singleton) and may be called from any number of threads
/// at once. Results never alias each other and stay valid after the call. Offsets are UTF-16 code units, end exclusive,
/// and never split a surrogate pair.
/// </remarks>
public interface ITextSegmenter
{
    /// <summary>
    /// Splits <paramref name="text"/> into sentences. The sentences tile the text: the first starts at 0, each starts
    /// where the previous ended and the last ends at <c>text.Length</c>; whitespace after a sentence belongs to it.
    /// </summary>
    /// <param name="text">The text to split; an empty string gives no sentences.</param>
    /// <param name="locale">An ICU or BCP 47 locale such as <c>en</c> or <c>ja-JP</c>; <see langword="null"/> uses the
    /// language-neutral root rules, the same on every server whatever its culture.</param>
    /// <returns>The sentences in text order.</returns>
    IReadOnlyList<TextSegment> SplitSentences(string text, string? locale = null);

    /// <summary>
    /// Splits <paramref name="text"/> into words: the segments between word boundaries that are letters, numbers, kana
    /// or ideographs. Whitespace, punctuation and symbols (emoji included) between them are skipped, so the words do
    /// not tile the text.
    /// </summary>
    /// <param name="text">The text to split; an empty string gives no words.</param>
    /// <param name="locale">As for <see cref="SplitSentences"/>.</param>
    /// <returns>The words in text order.</returns>
    IReadOnlyList<TextSegment> SplitWords(string text, string? locale = null);

    /// <summary>
    /// Splits <paramref name="text"/> at every word boundary: the segments tile the text, words and the whitespace,
    /// punctuation and symbols between them alike (a run of spaces is one segment, each punctuation mark its own).
    /// The words among them are exactly those <see cref="SplitWords"/> returns. Chunkers need the boundaries between
    /// non-words to count and skip words the way Elasticsearch's ICU break iterator does.
    /// </summary>
    /// <param name="text">The text to split; an empty string gives no segments.</param>
    /// <param name="locale">As for <see cref="SplitSentences"/>.</param>
    /// <returns>The segments in text order.</returns>
    IReadOnlyList<TextSegment> SplitAtWordBoundaries(string text, string? locale = null);

    /// <summary>Counts the words <see cref="SplitWords"/> would return, without allocating them.</summary>
    /// <param name="text">The text to count.</param>
    /// <param name="locale">As for <see cref="SplitSentences"/>.</param>
    /// <returns>The number of words.</returns>
    int CountWords(string text, string? locale = null);
}
