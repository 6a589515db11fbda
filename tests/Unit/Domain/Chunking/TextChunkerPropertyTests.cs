using System.Text;
using WebConsole.Domain.Chunking;
using WebConsole.Domain.Text;
using WebConsole.Infrastructure.Text;

namespace WebConsole.Unit.Domain.Chunking;

/// <summary>
/// Properties every chunking must keep, over seeded random texts in several scripts: chunks in order, covering the
/// text, within the word budget, overlapping as configured, and slicing the text to valid strings.
/// </summary>
public sealed class TextChunkerPropertyTests
{
    private const int TextsPerScript = 40;

    private static readonly IcuTextSegmenter Segmenter = new();

    private static readonly Dictionary<string, string[]> Vocabulary = new()
    {
        ["english"] = "the quick brown fox jumps over lazy dog search engine index shard replica cluster node document vector".Split(' '),
        ["german"] = "Straße Größe über Bäume Mädchen schön Übung Käse Füße Brücke Häuser Äpfel fröhlich Grüße Öl".Split(' '),
        ["russian"] = "привет мир поиск документ индекс кластер узел запрос вектор модель текст слово предложение".Split(' '),
        ["arabic"] = "مرحبا عالم بحث وثيقة فهرس مجموعة عقدة استعلام متجه نموذج نص كلمة جملة".Split(' '),
        ["chinese"] = "我们 今天 去 学校 学习 中文 电脑 搜索 引擎 文档 向量 模型 非常 好 的 是 一个".Split(' '),
        ["japanese"] = "私 は 東京 に 住んで います 日本語 の 勉強 を して 検索 エンジン 文書 とても".Split(' '),
        ["emoji"] = "😀 👍🏽 👨‍👩‍👧 🇩🇪 ❤️ 🚀 𝒜𝓁𝓅𝒽𝒶 𠀋𠀍".Split(' '),
    };

    private readonly TextChunker _chunker = new(Segmenter);

    public static TheoryData<string> Scripts() => new(Vocabulary.Keys.Append("mixed"));

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Word_chunks_cover_the_text_in_order_with_max_words_each_and_exactly_the_overlap_between_neighbours(string script)
    {
        var random = new Random(HashCode(script) ^ 1);
        for (var n = 0; n < TextsPerScript; n++)
        {
            var text = GenerateText(random, script);
            var max = random.Next(10, 41);
            var overlap = random.Next(0, max / 2 + 1);
            var words = Segmenter.SplitWords(text);

            var chunks = _chunker.Chunk(text, ChunkingSettings.Word(max, overlap));

            var context = $"{script} #{n} max {max} overlap {overlap}: {Escape(text)}";
            AssertWellFormed(text, chunks, context);
            AssertCovers(text, chunks, words, context, toLastWordOnly: true);
            for (var i = 0; i < chunks.Count; i++)
            {
                var inside = WordsInside(words, chunks[i]);
                Assert.True(i == chunks.Count - 1 ? inside <= max : inside == max, $"chunk {i} holds {inside} words; {context}");
                if (i > 0)
                {
                    var shared = WordsInside(words, new TextChunk(chunks[i].StartOffset, Math.Min(chunks[i - 1].EndOffset, chunks[i].EndOffset)));
                    Assert.True(shared == overlap, $"chunks {i - 1} and {i} share {shared} words; {context}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Sentence_chunks_cover_the_text_in_order_within_the_budget(string script)
    {
        var random = new Random(HashCode(script) ^ 2);
        for (var n = 0; n < TextsPerScript; n++)
        {
            var text = GenerateText(random, script);
            var max = random.Next(20, 61);
            var sentenceOverlap = random.Next(0, 2);
            var words = Segmenter.SplitWords(text);

            var chunks = _chunker.Chunk(text, ChunkingSettings.Sentence(max, sentenceOverlap));

            var context = $"{script} #{n} max {max} overlap {sentenceOverlap}: {Escape(text)}";
            AssertWellFormed(text, chunks, context);
            AssertCovers(text, chunks, words, context);
            AssertWithinBudget(text, chunks, max, context);
            if (sentenceOverlap == 0)
            {
                AssertNoChunkAddsNothing(words, chunks, context);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Recursive_chunks_tile_the_text_within_the_budget(string script)
    {
        var random = new Random(HashCode(script) ^ 3);
        for (var n = 0; n < TextsPerScript; n++)
        {
            var text = GenerateText(random, script);
            var max = random.Next(10, 41);
            var group = random.Next(2) == 0 ? SeparatorGroup.Plaintext : SeparatorGroup.Markdown;
            var words = Segmenter.SplitWords(text);

            var chunks = _chunker.Chunk(text, ChunkingSettings.Recursive(max, group));

            var context = $"{script} #{n} max {max} {group}: {Escape(text)}";
            AssertWellFormed(text, chunks, context);
            AssertCovers(text, chunks, words, context);
            AssertWithinBudget(text, chunks, max, context);
        }
    }

    // Offsets inside the text, in order, never between the halves of a surrogate pair.
    private static void AssertWellFormed(string text, IReadOnlyList<TextChunk> chunks, string context)
    {
        Assert.NotEmpty(chunks);
        for (var i = 0; i < chunks.Count; i++)
        {
            var chunk = chunks[i];
            Assert.True(0 <= chunk.StartOffset && chunk.StartOffset <= chunk.EndOffset && chunk.EndOffset <= text.Length, $"chunk {i} {chunk}; {context}");
            Assert.False(SplitsPair(text, chunk.StartOffset) || SplitsPair(text, chunk.EndOffset), $"chunk {i} {chunk} splits a surrogate pair; {context}");
            Assert.True(IsValidUtf16(chunk.Slice(text)), $"chunk {i} is not valid UTF-16; {context}");
            if (i > 0)
            {
                Assert.True(chunks[i - 1].StartOffset <= chunk.StartOffset && chunks[i - 1].EndOffset <= chunk.EndOffset, $"chunk {i} out of order; {context}");
            }
        }
    }

    // The chunks leave no gap from 0 to the end of the text, so every word is inside one of them. Word windows that
    // run out exactly at the last word end there, as in Elasticsearch: what follows it (a full stop) is in no chunk.
    private static void AssertCovers(
        string text, IReadOnlyList<TextChunk> chunks, IReadOnlyList<TextSegment> words, string context, bool toLastWordOnly = false)
    {
        Assert.Equal(0, chunks[0].StartOffset);
        if (toLastWordOnly && words.Count > 0)
        {
            Assert.True(chunks[^1].EndOffset >= words[^1].End, $"the last word is not covered; {context}");
        }
        else
        {
            Assert.Equal(text.Length, chunks[^1].EndOffset);
        }

        for (var i = 1; i < chunks.Count; i++)
        {
            Assert.True(chunks[i].StartOffset <= chunks[i - 1].EndOffset, $"gap before chunk {i}; {context}");
        }

        foreach (var word in words)
        {
            Assert.True(
                chunks.Any(c => c.StartOffset <= word.Start && word.End <= c.EndOffset),
                $"word {word} '{word.GetText(text)}' is in no chunk; {context}");
        }
    }

    // The words of each chunk's own text, as ICU finds them there, are within the budget.
    private static void AssertWithinBudget(string text, IReadOnlyList<TextChunk> chunks, int max, string context)
    {
        for (var i = 0; i < chunks.Count; i++)
        {
            var count = Segmenter.CountWords(chunks[i].Slice(text));
            Assert.True(count <= max, $"chunk {i} '{Escape(chunks[i].Slice(text))}' has {count} words; {context}");
        }
    }

    // Without overlap every chunk brings at least one word no earlier chunk held, unless the text has none.
    private static void AssertNoChunkAddsNothing(IReadOnlyList<TextSegment> words, IReadOnlyList<TextChunk> chunks, string context)
    {
        for (var i = 1; i < chunks.Count; i++)
        {
            var previousEnd = chunks[i - 1].EndOffset;
            Assert.True(
                words.Any(w => w.Start >= Math.Max(previousEnd, chunks[i].StartOffset) && w.End <= chunks[i].EndOffset),
                $"chunk {i} {chunks[i]} adds no word; {context}");
        }
    }

    private static int WordsInside(IReadOnlyList<TextSegment> words, TextChunk chunk) =>
        words.Count(w => w.Start >= chunk.StartOffset && w.End <= chunk.EndOffset);

    private static bool SplitsPair(string text, int offset) =>
        offset > 0 && offset < text.Length && char.IsHighSurrogate(text[offset - 1]) && char.IsLowSurrogate(text[offset]);

    private static bool IsValidUtf16(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]))
            {
                if (i + 1 == text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return false;
                }

                i++;
            }
            else if (char.IsLowSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    // Sentences of 1 to 45 words in the script (a few borrowed from others), ended as the script ends them, joined by
    // spaces, tabs, line feeds, CR LF, blank lines or nothing, some as markdown headings.
    private static string GenerateText(Random random, string script)
    {
        var builder = new StringBuilder();
        if (random.Next(10) == 0)
        {
            builder.Append(' ', random.Next(1, 4));
        }

        var sentences = random.Next(0, 20);
        for (var s = 0; s < sentences; s++)
        {
            var language = script == "mixed" ? RandomKey(random) : script;
            var heading = random.Next(10) == 0;
            if (heading)
            {
                builder.Append('#', random.Next(1, 7)).Append(' ');
            }

            var closeUp = language is "chinese" or "japanese";
            var count = random.Next(1, 46);
            for (var w = 0; w < count; w++)
            {
                if (w > 0 && !closeUp)
                {
                    builder.Append(random.Next(12) == 0 ? "  " : " ");
                }

                var vocabulary = Vocabulary[random.Next(8) == 0 ? RandomKey(random) : language];
                builder.Append(vocabulary[random.Next(vocabulary.Length)]);
                if (random.Next(12) == 0)
                {
                    builder.Append(closeUp ? "、" : random.Next(2) == 0 ? "," : ";");
                }
            }

            builder.Append(language switch
            {
                "chinese" or "japanese" => random.Next(4) == 0 ? "" : "。",
                "arabic" => random.Next(3) == 0 ? "؟" : ".",
                _ => random.Next(6) switch { 0 => "", 1 => "!", 2 => "?", 3 => "...", _ => "." },
            });
            // Only CJK sentences run on without a space: elsewhere "end.Next" would be one ICU word across a sentence
            // boundary, which Elasticsearch's sentence chunks cut through.
            builder.Append(heading ? "\n" : random.Next(10) switch
            {
                0 => "\n",
                1 => "\n\n",
                2 => "\r\n",
                3 => "\t ",
                4 when closeUp => "",
                _ => " ",
            });
        }

        return builder.ToString();
    }

    private static string RandomKey(Random random) => Vocabulary.Keys.ElementAt(random.Next(Vocabulary.Count));

    // A stable seed per script (string.GetHashCode is randomized per process).
    private static int HashCode(string text) => text.Aggregate(17, (hash, c) => unchecked((hash * 31) + c));

    private static string Escape(string text) => text.Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal);
}
