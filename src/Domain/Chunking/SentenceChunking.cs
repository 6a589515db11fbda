using WebConsole.Domain.Text;

namespace WebConsole.Domain.Chunking;

/// <summary>
/// The <c>sentence</c> strategy, as Elasticsearch's <c>SentenceBoundaryChunker</c>. Sentences are packed greedily
/// until the next one would pass the word budget. With overlap, a new chunk opens with the previous sentence, cut to
/// its last min(max / 2, 20) words when both would not fit. A sentence (with its carried overlap) longer than the
/// budget is split by <see cref="WordWindowChunking"/> with an overlap of min(20, (max - 1) / 2) words, and its last,
/// partly filled window goes on taking sentences.
/// </summary>
internal static class SentenceChunking
{
    public static List<TextChunk> Split(ITextSegmenter segmenter, string text, int maxWords, bool includePrecedingSentence)
    {
        var chunks = new List<TextChunk>();
        if (text.Length == 0)
        {
            chunks.Add(new TextChunk(0, 0));
            return chunks;
        }

        var breaks = WordBreaks.Of(segmenter, text);
        var chunkStart = 0;
        var chunkEnd = 0;
        var chunkWords = 0;
        var sentenceStart = 0;
        var previousSentenceStart = 0;
        var previousSentenceWords = 0;

        foreach (var sentence in segmenter.SplitSentences(text))
        {
            var sentenceEnd = sentence.End;
            var sentenceWords = breaks.CountWords(sentenceStart, sentenceEnd);

            if (chunkWords + sentenceWords > maxWords)
            {
                var nextChunkWords = sentenceWords;
                if (chunkWords > 0)
                {
                    chunks.Add(new TextChunk(chunkStart, chunkEnd));
                    if (includePrecedingSentence)
                    {
                        if (previousSentenceWords + sentenceWords > maxWords)
                        {
                            var skip = WordsToSkipInPreviousSentence(previousSentenceWords, maxWords);
                            chunkStart = breaks.SkipWords(previousSentenceStart, skip);
                            chunkWords = previousSentenceWords - skip + sentenceWords;
                        }
                        else
                        {
                            chunkStart = previousSentenceStart;
                            chunkWords = previousSentenceWords + sentenceWords;
                        }

                        nextChunkWords = chunkWords;
                    }
                    else
                    {
                        chunkStart = chunkEnd;
                        chunkWords = sentenceWords;
                    }
                }

                if (nextChunkWords > maxWords)
                {
                    // Too long even alone: cut it (with the carried overlap) into word windows; all but the last are
                    // chunks, and the last stays open for the sentences that follow.
                    var piece = text[chunkStart..sentenceEnd];
                    var windows = WordWindowChunking.Split(segmenter.SplitWords(piece), piece.Length, maxWords, LongSentenceOverlap(maxWords));
                    for (var i = 0; i < windows.Count - 1; i++)
                    {
                        var window = windows[i].Chunk;
                        chunks.Add(new TextChunk(chunkStart + window.StartOffset, chunkStart + window.EndOffset));
                    }

                    var last = windows[^1];
                    chunkStart += last.Chunk.StartOffset;
                    chunkWords = last.WordCount;
                }
            }
            else
            {
                chunkWords += sentenceWords;
            }

            if (includePrecedingSentence)
            {
                previousSentenceStart = sentenceStart;
                previousSentenceWords = sentenceWords;
            }

            sentenceStart = sentenceEnd;
            chunkEnd = sentenceEnd;
        }

        if (chunkWords > 0)
        {
            chunks.Add(new TextChunk(chunkStart, text.Length));
        }

        if (chunks.Count == 0)
        {
            // No words at all (whitespace, punctuation, emoji): the whole text is the one chunk.
            chunks.Add(new TextChunk(0, text.Length));
        }

        return chunks;
    }

    /// <summary>The most words of the previous sentence carried into the next chunk: min(max / 2, 20).</summary>
    public static int MaxOverlapWords(int maxWords) => Math.Min(maxWords / 2, 20);

    /// <summary>The word overlap between the windows of an over-long sentence: min(20, (max - 1) / 2).</summary>
    public static int LongSentenceOverlap(int maxWords) => Math.Min(20, (maxWords - 1) / 2);

    private static int WordsToSkipInPreviousSentence(int previousSentenceWords, int maxWords)
    {
        var keep = MaxOverlapWords(maxWords);
        return previousSentenceWords > keep ? previousSentenceWords - keep : 0;
    }
}
