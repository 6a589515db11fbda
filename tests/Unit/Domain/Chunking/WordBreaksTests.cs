using WebConsole.Domain.Chunking;
using WebConsole.Infrastructure.Text;

namespace WebConsole.Unit.Domain.Chunking;

/// <summary>
/// Word counting and skipping as Elasticsearch walks ICU's word break iterator (from the boundary before a span).
/// The expected counts are those ICU4J 72 gives Elasticsearch's <c>ChunkerUtils.countWords</c> for the same spans.
/// </summary>
public sealed class WordBreaksTests
{
    private static readonly IcuTextSegmenter Segmenter = new();

    [Theory]
    [InlineData("This is a short sentence. Followed by another.", 26, 5, 3)] // Elasticsearch's testCountWords_short
    [InlineData("Hello. World", 7, 1, 1)]
    [InlineData("Hello\nWorld", 6, 1, 2)] // "Hello" ends right before the line feed that precedes "World"
    [InlineData("你好。我们是朋友。", 3, 1, 4)] // 你好 ends right before the ideographic full stop
    [InlineData("foo != bar", 4, 1, 2)] // "foo" ends at the boundary before the space that starts the span
    public void Words_are_counted_from_the_boundary_before_the_span(string text, int split, int firstCount, int secondCount)
    {
        var breaks = WordBreaks.Of(Segmenter, text);

        Assert.Equal(firstCount, breaks.CountWords(0, split));
        Assert.Equal(secondCount, breaks.CountWords(split, text.Length));
    }

    [Fact]
    public void Symbols_are_not_words()
    {
        // Elasticsearch's testCountWords_WithSymbols.
        foreach (var text in new[] { "foo != bar", "foo & bar", "m&s" })
        {
            Assert.Equal(2, WordBreaks.Of(Segmenter, text).CountWords(0, text.Length));
        }
    }

    [Fact]
    public void Skipping_words_also_skips_the_segment_after_the_last_one()
    {
        // Elasticsearch's SentenceBoundaryChunkerTests.testSkipWords.
        var text = string.Concat(Enumerable.Range(0, 50).Select(i => $"word{i} "));
        var breaks = WordBreaks.Of(Segmenter, text);

        var position = breaks.SkipWords(0, 3);
        Assert.StartsWith("word3 ", text[position..], StringComparison.Ordinal);
        position = breaks.SkipWords(position + 1, 1);
        Assert.StartsWith("word4 ", text[position..], StringComparison.Ordinal);
        position = breaks.SkipWords(position + 1, 5);
        Assert.StartsWith("word9 ", text[position..], StringComparison.Ordinal);
        Assert.Equal(text.Length, breaks.SkipWords(0, 60));
    }

    [Fact]
    public void Word_boundary_segments_tile_the_text_and_include_every_word()
    {
        const string text = "Größe über 😀 Bäume!  我们今天去学校。\r\n## Next";

        var segments = Segmenter.SplitAtWordBoundaries(text);
        var words = Segmenter.SplitWords(text);

        Assert.Equal(text, string.Concat(segments.Select(s => s.GetText(text))));
        Assert.All(words, word => Assert.Contains(word, segments));
        Assert.Contains(segments, s => s.GetText(text) == "\r\n");
        Assert.Contains(segments, s => s.GetText(text) == "  ");
    }
}
