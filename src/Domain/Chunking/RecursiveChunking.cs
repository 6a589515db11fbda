using System.Text.RegularExpressions;
using WebConsole.Domain.Text;

namespace WebConsole.Domain.Chunking;

/// <summary>
/// The <c>recursive</c> strategy, as Elasticsearch's <c>RecursiveChunker</c>. A span over the word budget is split
/// before every match of the first separator (the separator opens the following piece), adjacent pieces are merged
/// greedily while their summed word counts fit, and every merged piece still over the budget is split again with the
/// next separator. Past the last separator, a span is cut by <see cref="SentenceChunking"/> without overlap.
/// </summary>
internal static class RecursiveChunking
{
    // Separators are user-supplied regular expressions; a pathological one must not hold a request thread.
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(2);

    private readonly record struct Piece(int Start, int End, int WordCount);

    public static List<TextChunk> Split(ITextSegmenter segmenter, string text, IReadOnlyList<string> separators, int maxWords)
    {
        var chunks = new List<TextChunk>();
        if (text.Length == 0)
        {
            chunks.Add(new TextChunk(0, 0));
            return chunks;
        }

        var breaks = WordBreaks.Of(segmenter, text);
        var patterns = new Regex?[separators.Count];

        // An explicit stack instead of recursion: pieces are pushed in reverse so they pop in text order.
        var pending = new Stack<(Piece Piece, int SeparatorIndex)>();
        pending.Push((new Piece(0, text.Length, breaks.CountWords(0, text.Length)), 0));
        while (pending.Count > 0)
        {
            var (piece, separatorIndex) = pending.Pop();
            if (piece.WordCount <= maxWords)
            {
                chunks.Add(new TextChunk(piece.Start, piece.End));
                continue;
            }

            if (separatorIndex >= separators.Count)
            {
                var span = text[piece.Start..piece.End];
                foreach (var chunk in SentenceChunking.Split(segmenter, span, maxWords, includePrecedingSentence: false))
                {
                    chunks.Add(new TextChunk(piece.Start + chunk.StartOffset, piece.Start + chunk.EndOffset));
                }

                continue;
            }

            var pattern = patterns[separatorIndex] ??= Compile(separators[separatorIndex]);
            var merged = Merge(SplitBefore(text, piece, pattern, breaks), maxWords);
            for (var i = merged.Count - 1; i >= 0; i--)
            {
                pending.Push((merged[i], separatorIndex + 1));
            }
        }

        return chunks;
    }

    private static Regex Compile(string separator)
    {
        try
        {
            return new Regex(separator, RegexOptions.Multiline | RegexOptions.CultureInvariant, MatchTimeout);
        }
        catch (ArgumentException e)
        {
            throw new DomainValidationException($"Recursive chunking settings separator [{separator}] is not a valid regular expression", e);
        }
    }

    // The piece cut before every match. The pattern sees only the piece, as a Java matcher limited to a region does:
    // ^ matches at its start and lookbehinds do not reach before it.
    private static List<Piece> SplitBefore(string text, Piece piece, Regex pattern, WordBreaks breaks)
    {
        var pieces = new List<Piece>();
        var start = piece.Start;
        try
        {
            for (var match = pattern.Match(text, piece.Start, piece.End - piece.Start); match.Success; match = match.NextMatch())
            {
                // A cut never splits a surrogate pair (an empty match may fall between its halves).
                var cut = match.Index;
                if (cut > start && !SplitsSurrogatePair(text, cut))
                {
                    pieces.Add(new Piece(start, cut, breaks.CountWords(start, cut)));
                    start = cut;
                }
            }
        }
        catch (RegexMatchTimeoutException e)
        {
            throw new DomainValidationException(
                $"Recursive chunking settings separator [{pattern}] took longer than {MatchTimeout.TotalSeconds} seconds to match", e);
        }

        if (start < piece.End)
        {
            pieces.Add(new Piece(start, piece.End, breaks.CountWords(start, piece.End)));
        }

        return pieces;
    }

    private static bool SplitsSurrogatePair(string text, int index) =>
        index > 0 && index < text.Length && char.IsHighSurrogate(text[index - 1]) && char.IsLowSurrogate(text[index]);

    // Adjacent pieces joined while their word counts (as counted separately) add up to no more than the budget.
    private static List<Piece> Merge(List<Piece> pieces, int maxWords)
    {
        if (pieces.Count < 2)
        {
            return pieces;
        }

        var merged = new List<Piece>();
        var current = pieces[0];
        for (var i = 1; i < pieces.Count; i++)
        {
            var next = pieces[i];
            if (current.WordCount + next.WordCount <= maxWords)
            {
                current = new Piece(current.Start, next.End, current.WordCount + next.WordCount);
            }
            else
            {
                merged.Add(current);
                current = next;
            }
        }

        merged.Add(current);
        return merged;
    }
}
