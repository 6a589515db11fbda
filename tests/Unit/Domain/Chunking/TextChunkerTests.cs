using WebConsole.Domain.Chunking;
using WebConsole.Infrastructure.Text;

namespace WebConsole.Unit.Domain.Chunking;

/// <summary>
/// Chunking examples worked out by hand from Elasticsearch's chunker rules, run on the real ICU segmenter. Where a
/// vector comes from Elasticsearch's own tests the test says so.
/// </summary>
public sealed class TextChunkerTests
{
    // The contract's check vector; Elasticsearch's SemanticTextChunkingLegacyFormatIT (ported from
    // 25_semantic_text_field_mapping_chunking_bwc.yml) asserts the same three highlights for it.
    private const string ContractText =
        "Elasticsearch is an open source, distributed, RESTful, search engine which is built on top of Lucene internally" +
        " and enjoys all the features it provides.";

    private static readonly IcuTextSegmenter Segmenter = new();

    private readonly TextChunker _chunker = new(Segmenter);

    [Fact]
    public void Contract_check_vector_word_10_overlap_1_gives_exactly_the_three_elasticsearch_chunks()
    {
        var chunks = _chunker.Chunk(ContractText, ChunkingSettings.Word(10, 1));

        Assert.Equal(
            [
                "Elasticsearch is an open source, distributed, RESTful, search engine which",
                " which is built on top of Lucene internally and enjoys",
                " enjoys all the features it provides.",
            ],
            Texts(ContractText, chunks));
        Assert.Equal([new TextChunk(0, 74), new TextChunk(68, 122), new TextChunk(115, 152)], chunks);
    }

    [Fact]
    public void Word_chunking_splits_hyphenated_words_as_icu_does_and_keeps_the_tail_after_the_overlap()
    {
        // Elasticsearch's SHORT_TEXT in the same integration test: ICU counts "open-source" as two words, so the
        // 16 words give a full window of 10 and a tail that repeats the overlap word.
        const string text = "Elasticsearch is a free, open-source search engine and analytics tool that stores and indexes data.";

        var chunks = _chunker.Chunk(text, ChunkingSettings.Word(10, 1));

        Assert.Equal(
            ["Elasticsearch is a free, open-source search engine and analytics", " analytics tool that stores and indexes data."],
            Texts(text, chunks));
    }

    [Theory]
    [InlineData(4, 10, 4)]
    [InlineData(23, 10, 2)]
    [InlineData(50, 20, 10)]
    [InlineData(73, 15, 3)]
    [InlineData(120, 10, 0)]
    public void Word_windows_hold_max_words_and_start_where_the_word_before_their_first_word_ends(int words, int max, int overlap)
    {
        var text = string.Join(' ', Enumerable.Range(0, words));

        var chunks = Texts(text, _chunker.Chunk(text, ChunkingSettings.Word(max, overlap)));

        // Window i holds words [i*step, i*step + max); all but the first open with the space before their first word.
        var step = max - overlap;
        var expected = new List<string>();
        for (var first = 0; ; first += step)
        {
            var end = Math.Min(first + max, words);
            expected.Add((first > 0 ? " " : "") + string.Join(' ', Enumerable.Range(first, end - first)));
            if (end == words)
            {
                break;
            }
        }

        Assert.Equal(expected, chunks);
    }

    [Fact]
    public void Punctuation_and_whitespace_after_a_window_open_the_next_window()
    {
        // Elasticsearch's WordBoundaryChunkerTests.testPunctuation, with a window of one word and no overlap.
        Assert.Equal(["Comma", ", separated"], Windows("Comma, separated", 1, 0));
        Assert.Equal(["Mme", ". Thénardier"], Windows("Mme. Thénardier", 1, 0));
        Assert.Equal(["Won't", " you", " chunk"], Windows("Won't you chunk", 1, 0));
        Assert.Equal(["Won't you chunk"], Windows("Won't you chunk", 10, 0));
    }

    [Fact]
    public void An_empty_text_gives_one_empty_chunk_with_every_strategy_as_elasticsearch_does()
    {
        foreach (var settings in AllStrategies())
        {
            Assert.Equal([new TextChunk(0, 0)], _chunker.Chunk("", settings));
        }
    }

    [Theory]
    [InlineData("   ")]
    [InlineData(". ")]
    [InlineData(" , ")]
    [InlineData("😀 👍🏽 🇩🇪")]
    public void A_text_without_words_is_one_chunk_with_every_strategy(string text)
    {
        foreach (var settings in AllStrategies())
        {
            Assert.Equal([new TextChunk(0, text.Length)], _chunker.Chunk(text, settings));
        }
    }

    [Fact]
    public void None_returns_the_whole_input_as_one_chunk()
    {
        var text = string.Concat(Enumerable.Repeat(ContractText + "\n\n", 20));

        Assert.Equal([new TextChunk(0, text.Length)], _chunker.Chunk(text, ChunkingSettings.None));
    }

    [Fact]
    public void Sentences_are_packed_greedily_up_to_the_word_budget()
    {
        var s1 = Sentence("One", 8);
        var s2 = Sentence("Two", 8);
        var s3 = Sentence("Three", 8);
        var s4 = Sentence("Four", 5);
        var text = s1 + s2 + s3 + s4.TrimEnd();

        var chunks = Texts(text, _chunker.Chunk(text, ChunkingSettings.Sentence(20, 0)));

        // 8 + 8 fit in 20, a third sentence would make 24; 8 + 5 fit.
        Assert.Equal([s1 + s2, s3 + s4.TrimEnd()], chunks);
    }

    [Fact]
    public void With_sentence_overlap_each_chunk_opens_with_the_previous_sentence()
    {
        var s1 = Sentence("One", 8);
        var s2 = Sentence("Two", 8);
        var s3 = Sentence("Three", 8);
        var s4 = Sentence("Four", 5);
        var text = s1 + s2 + s3 + s4.TrimEnd();

        var chunks = Texts(text, _chunker.Chunk(text, ChunkingSettings.Sentence(20, 1)));

        // After s1+s2 (16), s3 starts a chunk carrying s2 (8 + 8 = 16); s4 would make 21, so the next carries s3.
        Assert.Equal([s1 + s2, s2 + s3, s3 + s4.TrimEnd()], chunks);
    }

    [Fact]
    public void The_carried_sentence_is_cut_to_its_last_min_of_half_the_budget_and_20_words()
    {
        const string s1 = "One two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen. ";
        const string s2 = "Alpha beta gamma delta epsilon zeta eta theta.";

        var chunks = Texts(s1 + s2, _chunker.Chunk(s1 + s2, ChunkingSettings.Sentence(20, 1)));

        // 15 + 8 words pass 20; carrying all 15 would too, so only the last min(20 / 2, 20) = 10 words come along
        // and the chunk starts at the sixth word (Elasticsearch skips the space after the last skipped word).
        Assert.Equal([s1, "six seven eight nine ten eleven twelve thirteen fourteen fifteen. " + s2], chunks);
    }

    [Fact]
    public void A_sentence_longer_than_the_budget_is_split_on_words_with_an_overlap_of_min_20_and_half_the_budget()
    {
        var words = Enumerable.Range(1, 35).Select(i => $"w{i}").ToArray();
        var text = Capitalize(string.Join(' ', words)) + ".";

        var chunks = Texts(text, _chunker.Chunk(text, ChunkingSettings.Sentence(20, 0)));

        // Windows of 20 words overlapping by min(20, (20 - 1) / 2) = 9, so advancing by 11: w1-w20, w12-w31, w23-w35.
        Assert.Equal(
            [
                Capitalize(string.Join(' ', words[..20])),
                " " + string.Join(' ', words[11..31]),
                " " + string.Join(' ', words[22..]) + ".",
            ],
            chunks);
    }

    [Fact]
    public void The_last_window_of_a_split_sentence_keeps_taking_the_sentences_that_follow()
    {
        var words = Enumerable.Range(1, 35).Select(i => $"w{i}").ToArray();
        var longSentence = Capitalize(string.Join(' ', words)) + ". ";
        const string shortSentence = "Short one here now ok.";
        var text = longSentence + shortSentence;

        var chunks = Texts(text, _chunker.Chunk(text, ChunkingSettings.Sentence(20, 0)));

        // The last window holds 13 words (9 overlapping + w32..w35); the 5 words after it still fit in 20.
        Assert.Equal(" " + string.Join(' ', words[22..]) + ". " + shortSentence, chunks[^1]);
        Assert.Equal(3, chunks.Count);
    }

    [Fact]
    public void Short_long_short_sentences_with_overlap_give_elasticsearchs_five_chunks()
    {
        // Elasticsearch's SentenceBoundaryChunkerTests.testShortLongShortSentences_WithOverlap: sentences of 15, 30,
        // 20 and 5 words, budget 40. Worked out by hand:
        // - 15 + 30 passes 40: chunk 1 is sentence A. All of A is carried (15 <= 20) but A + B = 45 is over the budget,
        //   so it is split in windows of 40 overlapping by min(20, 39 / 2) = 19: chunk 2 holds A and B's first 25 words,
        //   and the open window starts after B's word 6 and holds 24 words.
        // - 24 + 20 passes 40: chunk 3 is that window; B (30 words) is cut to its last 20 words before C: 40 words.
        // - 40 + 5 passes 40: chunk 4; C (20) + D (5) fit, so the last chunk is C and D.
        string[] sentences = [Numbered(0, 15), Numbered(1, 30), Numbered(2, 20), Numbered(3, 5)];
        var text = string.Concat(sentences);

        var chunks = Texts(text, _chunker.Chunk(text, ChunkingSettings.Sentence(40, 1)));

        Assert.Equal(
            [
                sentences[0],
                sentences[0] + "SStart1 " + string.Join(' ', Enumerable.Range(1, 24)),
                " " + string.Join(' ', Enumerable.Range(6, 24)) + ". ",
                string.Join(' ', Enumerable.Range(10, 20)) + ". " + sentences[2],
                sentences[2] + sentences[3],
            ],
            chunks);
    }

    [Fact]
    public void A_line_after_a_line_without_a_full_stop_counts_one_word_more_as_in_elasticsearch()
    {
        // Elasticsearch counts a span's words from the word boundary before it, so the last word of a line that ends
        // without punctuation is counted again in the next line: 10 + 10 words count as 10 + 11 and need two chunks.
        var first = string.Join(' ', Enumerable.Range(1, 10).Select(i => $"alpha{i}")) + "\n";
        var second = string.Join(' ', Enumerable.Range(1, 10).Select(i => $"beta{i}"));

        var chunks = Texts(first + second, _chunker.Chunk(first + second, ChunkingSettings.Sentence(20, 0)));

        Assert.Equal([first, second], chunks);
    }

    [Fact]
    public void Markdown_splits_at_headings_first()
    {
        const string text = "# Title\nAlpha beta gamma delta.\n## First\nOne two three four five six.\n## Second\nRed green blue.";

        var markdown = Texts(text, _chunker.Chunk(text, ChunkingSettings.Recursive(10, SeparatorGroup.Markdown)));
        var plaintext = Texts(text, _chunker.Chunk(text, ChunkingSettings.Recursive(10, SeparatorGroup.Plaintext)));

        // 16 words in all: split before each "\n## " the sections (5, 8 and 5 words as Elasticsearch counts them)
        // cannot be merged in pairs. Split by lines instead, headings end up with the section before them.
        Assert.Equal(
            ["# Title\nAlpha beta gamma delta.", "\n## First\nOne two three four five six.", "\n## Second\nRed green blue."],
            markdown);
        Assert.Equal(
            ["# Title\nAlpha beta gamma delta.\n## First", "\nOne two three four five six.\n## Second", "\nRed green blue."],
            plaintext);
    }

    [Fact]
    public void Markdown_headings_of_every_level_open_a_chunk_when_sections_do_not_fit_together()
    {
        // Elasticsearch's RecursiveChunkerTests.testMarkdownChunking with ATX headings: sections of 11 words, budget 15.
        string[] headings = ["# Header\n", "## Header\n", "### Header\n", "#### Header\n", "##### Header\n", "###### Header\n"];
        var sections = headings.Select((heading, i) => (i == 0 ? "" : "\n") + heading + TenWords).ToArray();
        var text = string.Concat(sections);

        var chunks = Texts(text, _chunker.Chunk(text, ChunkingSettings.Recursive(15, SeparatorGroup.Markdown)));

        Assert.Equal(sections, chunks);
    }

    [Fact]
    public void Pieces_are_merged_while_their_word_counts_fit_in_the_budget()
    {
        // Elasticsearch's RecursiveChunkerTests.testChunkInputRequiresOneSplitWithMerges: three 10-word sentences
        // separated by a tab, budget 20: the first two merge, the third stays alone.
        var text = TenWords + "\t" + TenWords + "\t" + TenWords;

        var chunks = Texts(text, _chunker.Chunk(text, ChunkingSettings.Recursive(20, ["\t", "\f"])));

        Assert.Equal([TenWords + "\t" + TenWords, "\t" + TenWords], chunks);
    }

    [Fact]
    public void Custom_separators_are_regular_expressions_tried_in_order()
    {
        // Elasticsearch's RecursiveChunkerTests.testChunkWithRegexSeparator: single line feeds first, then double ones.
        var text = TenWords + "\n" + TenWords + "\n" + TenWords + "\n\n" + TenWords;
        string[] separators = [@"(?<!\n)\n(?!\n)", @"(?<!\n)\n\n(?!\n)"];

        var chunks = Texts(text, _chunker.Chunk(text, ChunkingSettings.Recursive(10, separators)));

        Assert.Equal([TenWords, "\n" + TenWords, "\n" + TenWords, "\n\n" + TenWords], chunks);
    }

    [Fact]
    public void Splitting_stops_once_a_piece_fits_even_if_later_separators_occur_in_it()
    {
        // Elasticsearch's testChunkInputDoesNotSplitWhenNoLongerExceedingMaxChunkSize with separators \n, \t, #.
        var text = TenWords + "\t" + TenWords + "\n" + TenWords + "#" + TenWords + "\t" + TenWords;

        var chunks = Texts(text, _chunker.Chunk(text, ChunkingSettings.Recursive(25, ["\n", "\t", "#"])));

        Assert.Equal([TenWords + "\t" + TenWords, "\n" + TenWords + "#" + TenWords, "\t" + TenWords], chunks);
    }

    [Fact]
    public void Without_a_separator_that_applies_recursive_chunking_falls_back_to_sentences_and_then_words()
    {
        var words = Enumerable.Range(1, 25).Select(i => $"w{i}").ToArray();
        var longSentence = Capitalize(string.Join(' ', words)) + ".";
        var text = TenWords + TenWords + longSentence;

        var chunks = Texts(text, _chunker.Chunk(text, ChunkingSettings.Recursive(10, SeparatorGroup.Plaintext)));

        // No line feeds: sentences of 10 words each, then the 25-word sentence in word windows of 10 overlapping by
        // min(20, (10 - 1) / 2) = 4, without sentence overlap.
        Assert.Equal(
            [
                TenWords,
                TenWords,
                Capitalize(string.Join(' ', words[..10])),
                " " + string.Join(' ', words[6..16]),
                " " + string.Join(' ', words[12..22]),
                " " + string.Join(' ', words[18..]) + ".",
            ],
            chunks);
    }

    [Fact]
    public void Separator_matches_between_the_halves_of_a_surrogate_pair_do_not_cut_it()
    {
        var text = string.Concat(Enumerable.Repeat("word 😀 ", 30));

        // An empty pattern matches at every position, also inside the emoji's surrogate pair.
        var chunks = _chunker.Chunk(text, ChunkingSettings.Recursive(10, ["x*"]));

        Assert.True(chunks.Count > 1);
        Assert.All(chunks, chunk => Assert.False(char.IsLowSurrogate(text[chunk.StartOffset]), $"chunk starts inside a pair at {chunk.StartOffset}"));
        Assert.Equal(text, string.Concat(Texts(text, chunks)));
    }

    [Fact]
    public void Chinese_is_chunked_on_dictionary_word_boundaries_not_whitespace()
    {
        // "We go to school today to study Chinese; the search engine splits documents into vectors." - no spaces.
        const string text = "我们今天去学校学习中文，搜索引擎把文档分成向量，模型非常好。我们今天去学校学习中文。";
        var words = Segmenter.SplitWords(text);

        var chunks = _chunker.Chunk(text, ChunkingSettings.Word(10, 2));

        Assert.Single(text.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.True(words.Count > 10, $"ICU found {words.Count} words");
        Assert.True(chunks.Count > 1);
        var wordEnds = words.Select(w => w.End).ToHashSet();
        for (var i = 0; i < chunks.Count; i++)
        {
            Assert.True(i == 0 ? chunks[i].StartOffset == 0 : wordEnds.Contains(chunks[i].StartOffset), $"chunk {i} start");
            Assert.True(i == chunks.Count - 1 ? chunks[i].EndOffset == text.Length : wordEnds.Contains(chunks[i].EndOffset), $"chunk {i} end");
            var inside = words.Count(w => w.Start >= chunks[i].StartOffset && w.End <= chunks[i].EndOffset);
            Assert.True(inside <= 10 && (i == chunks.Count - 1 || inside == 10), $"chunk {i} holds {inside} words");
        }
    }

    [Fact]
    public void Settings_that_were_not_built_by_the_factories_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => _chunker.Chunk("text", default));
    }

    private const string TenWords = "This is a test sentence that has ten total words. ";

    private static IEnumerable<ChunkingSettings> AllStrategies() =>
    [
        ChunkingSettings.Word(10, 5),
        ChunkingSettings.Sentence(20, 1),
        ChunkingSettings.Sentence(20, 0),
        ChunkingSettings.Recursive(10, SeparatorGroup.Markdown),
        ChunkingSettings.None,
    ];

    private static List<string> Windows(string text, int size, int overlap) =>
        WordWindowChunking.Split(Segmenter.SplitWords(text), text.Length, size, overlap).ConvertAll(w => w.Chunk.Slice(text));

    // A sentence of the given number of words, the first being the label, ending with ". ".
    private static string Sentence(string label, int words) =>
        label + " " + string.Join(' ', Enumerable.Range(1, words - 1).Select(i => $"word{i}")) + ". ";

    // Elasticsearch's test sentences: "SStart{index} 1 2 ... {words - 1}. ".
    private static string Numbered(int index, int words) =>
        $"SStart{index} " + string.Join(' ', Enumerable.Range(1, words - 1)) + ". ";

    private static string Capitalize(string text) => char.ToUpperInvariant(text[0]) + text[1..];

    private static List<string> Texts(string text, IReadOnlyList<TextChunk> chunks) => chunks.Select(c => c.Slice(text)).ToList();
}
