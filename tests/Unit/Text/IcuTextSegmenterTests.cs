using WebConsole.Domain.Text;
using WebConsole.Infrastructure.Text;

namespace WebConsole.Unit.Text;

public sealed class IcuTextSegmenterTests
{
    private const string MixedText = "WebConsole serves models. 它支持中文句子。日本語の文も分割できます。Is it fast? Yes!";

    // The contract's check sentence for word chunking (max 10, overlap 1 gives exactly 3 chunks).
    private const string ContractCheckSentence =
        "Elasticsearch is an open source, distributed, RESTful, search engine which is built on top of Lucene " +
        "internally and enjoys all the features it provides.";

    private readonly IcuTextSegmenter _segmenter = new();

    [Fact]
    public void Mixed_english_chinese_japanese_text_splits_into_its_five_sentences()
    {
        var sentences = Texts(MixedText, _segmenter.SplitSentences(MixedText));

        // ICU breaks after the ideographic full stop even with no space after it; trailing spaces stay with their sentence.
        Assert.Equal(
            ["WebConsole serves models. ", "它支持中文句子。", "日本語の文も分割できます。", "Is it fast? ", "Yes!"],
            sentences);
    }

    [Fact]
    public void Mixed_text_splits_into_words_with_chinese_and_japanese_split_by_dictionary()
    {
        var words = Texts(MixedText, _segmenter.SplitWords(MixedText));

        // 它/支持/中文/句子 = it/support/Chinese/sentence; 日本語/の/文/も/分割/でき/ます = Japanese/'s/sentence/also/split/can/(polite).
        Assert.Equal(
            ["WebConsole", "serves", "models", "它", "支持", "中文", "句子", "日本語", "の", "文", "も", "分割", "でき", "ます",
             "Is", "it", "fast", "Yes"],
            words);
        Assert.Equal(18, _segmenter.CountWords(MixedText));
    }

    [Fact]
    public void Contract_check_sentence_has_24_words_so_word_chunking_by_10_with_overlap_1_gives_3_chunks()
    {
        var words = _segmenter.SplitWords(ContractCheckSentence);

        Assert.Equal(24, words.Count);
        Assert.Equal(24, _segmenter.CountWords(ContractCheckSentence));
        Assert.Equal(
            ["Elasticsearch", "is", "an", "open", "source", "distributed", "RESTful", "search", "engine", "which", "is",
             "built", "on", "top", "of", "Lucene", "internally", "and", "enjoys", "all", "the", "features", "it", "provides"],
            Texts(ContractCheckSentence, words));
        var sentence = Assert.Single(_segmenter.SplitSentences(ContractCheckSentence));
        Assert.Equal(new TextSegment(0, ContractCheckSentence.Length), sentence);
    }

    [Fact]
    public void Word_offsets_are_utf16_code_units_that_round_trip_to_the_text()
    {
        var words = _segmenter.SplitWords(MixedText);

        Assert.Equal(new TextSegment(0, 10), words[0]);
        Assert.Equal(new TextSegment(26, 27), words[3]); // 它, after "models. "
        Assert.Equal(new TextSegment(59, 62), words[^1]);
        foreach (var word in words)
        {
            Assert.Equal(MixedText.Substring(word.Start, word.Length), word.GetText(MixedText));
            Assert.Equal(word.GetText(MixedText), word.AsSpan(MixedText).ToString());
        }

        // Words are in order and do not overlap.
        Assert.All(words.Zip(words.Skip(1)), pair => Assert.True(pair.First.End <= pair.Second.Start));
    }

    [Fact]
    public void Sentences_tile_the_text_from_start_to_end()
    {
        var sentences = _segmenter.SplitSentences(MixedText);

        Assert.Equal(0, sentences[0].Start);
        Assert.Equal(MixedText.Length, sentences[^1].End);
        Assert.All(sentences.Zip(sentences.Skip(1)), pair => Assert.Equal(pair.First.End, pair.Second.Start));
        Assert.Equal(MixedText, string.Concat(sentences.Select(s => s.GetText(MixedText))));
    }

    [Fact]
    public void Emoji_surrogate_pairs_do_not_shift_or_split_offsets()
    {
        const string text = "Hi 😀 there 👍🏽! Next sentence 🎉. Done";

        var words = _segmenter.SplitWords(text);
        var sentences = _segmenter.SplitSentences(text);

        // Each emoji is two code units (👍🏽 is four: a modifier follows), so "there" starts at 6 and "Done" at 36;
        // emoji are symbols, not words.
        Assert.Equal([new(0, 2), new(6, 11), new(18, 22), new(23, 31), new(36, 40)], words);
        Assert.Equal(["Hi", "there", "Next", "sentence", "Done"], Texts(text, words));
        Assert.Equal(["Hi 😀 there 👍🏽! ", "Next sentence 🎉. ", "Done"], Texts(text, sentences));
        foreach (var boundary in words.Concat(sentences).SelectMany(s => new[] { s.Start, s.End }))
        {
            Assert.False(boundary > 0 && boundary < text.Length && char.IsLowSurrogate(text[boundary]),
                $"Offset {boundary} splits a surrogate pair.");
        }
    }

    [Fact]
    public void Emoji_after_a_surrogate_pair_heavy_prefix_keep_words_at_the_right_offsets()
    {
        const string text = "😀😀😀 abc";

        var word = Assert.Single(_segmenter.SplitWords(text));

        Assert.Equal(new TextSegment(7, 10), word);
        Assert.Equal("abc", word.GetText(text));
    }

    [Fact]
    public void Empty_text_gives_no_segments()
    {
        Assert.Empty(_segmenter.SplitSentences(string.Empty));
        Assert.Empty(_segmenter.SplitWords(string.Empty));
        Assert.Equal(0, _segmenter.CountWords(string.Empty));
    }

    [Fact]
    public void Whitespace_and_punctuation_only_text_has_no_words_but_one_sentence()
    {
        const string text = "  ...  !?  ";

        Assert.Empty(_segmenter.SplitWords(text));
        Assert.Equal([new TextSegment(0, text.Length)], _segmenter.SplitSentences(text));
    }

    [Fact]
    public void Numbers_and_contractions_are_single_words()
    {
        const string text = "It's 3.14, not 1,000.";

        Assert.Equal(["It's", "3.14", "not", "1,000"], Texts(text, _segmenter.SplitWords(text)));
    }

    [Fact]
    public void A_bcp47_locale_splits_like_the_icu_locale_id()
    {
        Assert.Equal(_segmenter.SplitWords(MixedText, "ja_JP"), _segmenter.SplitWords(MixedText, "ja-JP"));
        Assert.Equal(_segmenter.SplitSentences(MixedText), _segmenter.SplitSentences(MixedText, "en-US"));
    }

    [Fact]
    public void A_locale_that_is_not_an_identifier_is_rejected()
    {
        var error = Assert.Throws<ArgumentException>(() => _segmenter.SplitWords("text", "en US"));

        Assert.Contains("en US", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Concurrent_calls_from_many_threads_give_the_single_threaded_answers()
    {
        string[] texts = [MixedText, ContractCheckSentence, "Hi 😀 there 👍🏽! Next sentence 🎉. Done", "中文。English. 日本語。"];
        var expected = texts.Select(t => (Sentences: _segmenter.SplitSentences(t), Words: _segmenter.SplitWords(t))).ToArray();
        const int threads = 16;
        using var start = new Barrier(threads);
        var mismatches = 0;

        var workers = Enumerable.Range(0, threads).Select(worker => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < 300; i++)
            {
                var index = (worker + i) % texts.Length;
                var sentences = _segmenter.SplitSentences(texts[index]);
                var words = _segmenter.SplitWords(texts[index]);
                if (!sentences.SequenceEqual(expected[index].Sentences) || !words.SequenceEqual(expected[index].Words)
                    || _segmenter.CountWords(texts[index]) != expected[index].Words.Count)
                {
                    Interlocked.Increment(ref mismatches);
                }
            }
        })).ToList();
        workers.ForEach(t => t.Start());
        workers.ForEach(t => t.Join());

        Assert.Equal(0, mismatches);
    }

    [Fact]
    public void Segmenting_a_long_text_finds_every_sentence()
    {
        var text = string.Concat(Enumerable.Repeat("One two three. 它支持中文。", 2000));

        Assert.Equal(4000, _segmenter.SplitSentences(text).Count);
        Assert.Equal(2000 * (3 + 3), _segmenter.CountWords(text));
    }

    private static string[] Texts(string text, IEnumerable<TextSegment> segments) =>
        segments.Select(s => s.GetText(text)).ToArray();
}
