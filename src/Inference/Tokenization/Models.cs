using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace WebConsole.Inference.Tokenization;

/// <summary>One token on its way through the pipeline; offsets are into the original string.</summary>
internal readonly record struct Token(int Id, string Value, int Start, int End);

/// <summary>A tokenizer.json model: turns one pre-tokenized word into tokens.</summary>
internal abstract class TokenizerModel
{
    protected TokenizerModel(Dictionary<string, int> vocab)
    {
        Vocab = vocab;
        Lookup = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public Dictionary<string, int> Vocab { get; }

    protected Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> Lookup { get; }

    public int? UnkId { get; protected init; }

    public string? UnkToken { get; protected init; }

    /// <summary>Whether runs of unknown tokens collapse into one (per the reference, across a section's words).</summary>
    public bool FuseUnk { get; protected init; }

    public abstract void Tokenize(AlignedText word, List<Token> output);

    public static TokenizerModel Create(JsonElement config)
    {
        var type = config.Str("type");
        if (type is null && config.TryGetProperty("vocab", out var v))
        {
            type = v.ValueKind == JsonValueKind.Array ? "Unigram" : config.TryGetProperty("merges", out _) ? "BPE" : "WordPiece";
        }

        return type switch
        {
            "WordPiece" => new WordPieceModel(config),
            "BPE" => new BpeModel(config),
            "Unigram" => new UnigramModel(config),
            _ => throw new NotSupportedException($"tokenizer.json model '{type}' is not supported."),
        };
    }

    protected static Dictionary<string, int> ReadVocab(JsonElement vocab)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocab.EnumerateObject())
        {
            result[entry.Name] = entry.Value.GetInt32();
        }

        return result;
    }
}

/// <summary>Greedy longest-match-first WordPiece (BERT).</summary>
internal sealed class WordPieceModel : TokenizerModel
{
    private readonly string _prefix;
    private readonly int _maxChars;

    public WordPieceModel(JsonElement config)
        : base(ReadVocab(config.GetProperty("vocab")))
    {
        UnkToken = config.Str("unk_token") ?? "[UNK]";
        UnkId = Vocab.TryGetValue(UnkToken, out var unk) ? unk : null;
        _prefix = config.Str("continuing_subword_prefix") ?? "##";
        _maxChars = config.Int("max_input_chars_per_word") ?? 100;
        FuseUnk = config.Bool("fuse_unk") ?? false;
    }

    public override void Tokenize(AlignedText word, List<Token> output)
    {
        var s = word.Text;
        var (wordStart, wordEnd) = word.Span(0, word.Length);
        var codePoints = 0;
        foreach (var _ in s.EnumerateRunes())
        {
            codePoints++;
        }

        if (codePoints > _maxChars)
        {
            output.Add(new Token(UnkId ?? -1, UnkToken!, wordStart, wordEnd));
            return;
        }

        var first = output.Count;
        Span<char> buffer = s.Length + _prefix.Length <= 512 ? stackalloc char[s.Length + _prefix.Length] : new char[s.Length + _prefix.Length];
        _prefix.AsSpan().CopyTo(buffer);
        var start = 0;
        while (start < s.Length)
        {
            var end = s.Length;
            var found = -1;
            while (start < end)
            {
                scoped ReadOnlySpan<char> candidate;
                if (start > 0)
                {
                    s.AsSpan(start, end - start).CopyTo(buffer[_prefix.Length..]);
                    candidate = buffer[..(_prefix.Length + end - start)];
                }
                else
                {
                    candidate = s.AsSpan(0, end);
                }

                if (Lookup.TryGetValue(candidate, out var id))
                {
                    found = id;
                    break;
                }

                // Step back one code point.
                end -= end >= 2 && char.IsLowSurrogate(s[end - 1]) && char.IsHighSurrogate(s[end - 2]) ? 2 : 1;
            }

            if (found < 0)
            {
                output.RemoveRange(first, output.Count - first);
                output.Add(new Token(UnkId ?? -1, UnkToken!, wordStart, wordEnd));
                return;
            }

            var (ts, te) = word.Span(start, end);
            var value = start > 0 ? string.Concat(_prefix, s.AsSpan(start, end - start)) : s[..end];
            output.Add(new Token(found, value, ts, te));
            start = end;
        }
    }
}

/// <summary>Byte-pair encoding: merges by rank over code points (byte-level or SentencePiece style), with byte fallback.</summary>
internal sealed class BpeModel : TokenizerModel
{
    private const int CacheCapacity = 50_000;
    private readonly Dictionary<long, (int Rank, int Id)> _merges;
    private readonly bool _byteFallback;
    private readonly bool _ignoreMerges;
    private readonly int[] _byteIds;
    private readonly ConcurrentDictionary<string, (int Id, int Start, int End)[]> _cache = new(StringComparer.Ordinal);

    public BpeModel(JsonElement config)
        : base(ReadVocab(config.GetProperty("vocab")))
    {
        UnkToken = config.Str("unk_token");
        UnkId = UnkToken is not null && Vocab.TryGetValue(UnkToken, out var unk) ? unk : null;
        FuseUnk = config.Bool("fuse_unk") ?? false;
        _byteFallback = config.Bool("byte_fallback") ?? false;
        _ignoreMerges = config.Bool("ignore_merges") ?? false;
        _byteIds = new int[256];
        for (var b = 0; b < 256; b++)
        {
            _byteIds[b] = Vocab.TryGetValue($"<0x{b:X2}>", out var id) ? id : -1;
        }

        var merges = config.GetProperty("merges");
        _merges = new Dictionary<long, (int, int)>(merges.GetArrayLength());
        var rank = 0;
        foreach (var merge in merges.EnumerateArray())
        {
            string left, right;
            if (merge.ValueKind == JsonValueKind.Array)
            {
                left = merge[0].GetString()!;
                right = merge[1].GetString()!;
            }
            else
            {
                var parts = merge.GetString()!.Split(' ');
                left = parts[0];
                right = parts.Length > 1 ? parts[1] : string.Empty;
            }

            // A merge whose parts or result are not in the vocabulary can never apply to known symbols.
            if (Vocab.TryGetValue(left, out var l) && Vocab.TryGetValue(right, out var r) && Vocab.TryGetValue(left + right, out var m))
            {
                _merges.TryAdd(Key(l, r), (rank, m));
            }

            rank++;
        }
    }

    /// <summary>Added tokens join the vocabulary as the reference does (they can be whole words under ignore_merges).</summary>
    public void AddToken(string content, int id) => Vocab.TryAdd(content, id);

    public override void Tokenize(AlignedText word, List<Token> output)
    {
        var s = word.Text;
        if (s.Length == 0)
        {
            return;
        }

        if (_ignoreMerges && Lookup.TryGetValue(s, out var whole))
        {
            var (ws, we) = word.Span(0, s.Length);
            output.Add(new Token(whole, s, ws, we));
            return;
        }

        if (!_cache.TryGetValue(s, out var pieces))
        {
            pieces = Merge(s);
            if (s.Length < 256)
            {
                if (_cache.Count >= CacheCapacity)
                {
                    _cache.Clear();
                }

                _cache.TryAdd(s, pieces);
            }
        }

        foreach (var (id, start, end) in pieces)
        {
            var (ts, te) = word.Span(start, end);
            if (id >= 0)
            {
                output.Add(new Token(id, s[start..end], ts, te));
                continue;
            }

            // Unknown symbol: bytes when every byte token exists, else the unknown token, else nothing.
            if (_byteFallback)
            {
                var bytes = Encoding.UTF8.GetBytes(s[start..end]);
                if (bytes.All(b => _byteIds[b] >= 0))
                {
                    foreach (var b in bytes)
                    {
                        output.Add(new Token(_byteIds[b], $"<0x{b:X2}>", ts, te));
                    }

                    continue;
                }
            }

            if (UnkToken is not null)
            {
                output.Add(new Token(UnkId ?? -1, UnkToken, ts, te));
            }
        }
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    private (int Id, int Start, int End)[] Merge(string s)
    {
        // Symbols are code points; unknown ones keep id -1 and never merge.
        var count = 0;
        var ids = new int[s.Length];
        var starts = new int[s.Length + 1];
        for (var i = 0; i < s.Length;)
        {
            var n = char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? 2 : 1;
            ids[count] = Lookup.TryGetValue(s.AsSpan(i, n), out var id) ? id : -1;
            starts[count] = i;
            count++;
            i += n;
        }

        starts[count] = s.Length;
        var next = new int[count];
        var prev = new int[count];
        var ends = new int[count];
        for (var i = 0; i < count; i++)
        {
            next[i] = i + 1 < count ? i + 1 : -1;
            prev[i] = i - 1;
            ends[i] = starts[i + 1];
        }

        if (count > 1)
        {
            // Lowest rank first; ties go to the leftmost pair, as in the reference's queue.
            var queue = new PriorityQueue<(int Left, int Right, int Id), (int Rank, int Position)>();
            for (var i = 0; i + 1 < count; i++)
            {
                Enqueue(queue, ids, starts, i, i + 1);
            }

            while (queue.TryDequeue(out var item, out _))
            {
                var (left, right, merged) = item;
                if (ids[left] == int.MinValue || ids[right] == int.MinValue || next[left] != right
                    || !_merges.TryGetValue(Key(ids[left], ids[right]), out var m) || m.Id != merged)
                {
                    continue;
                }

                ids[left] = merged;
                ends[left] = ends[right];
                ids[right] = int.MinValue;
                next[left] = next[right];
                if (next[right] >= 0)
                {
                    prev[next[right]] = left;
                }

                if (prev[left] >= 0)
                {
                    Enqueue(queue, ids, starts, prev[left], left);
                }

                if (next[left] >= 0)
                {
                    Enqueue(queue, ids, starts, left, next[left]);
                }
            }
        }

        var result = new List<(int, int, int)>(count);
        for (var i = 0; i >= 0 && i < count; i = next[i])
        {
            result.Add((ids[i], starts[i], ends[i]));
        }

        return [.. result];
    }

    private void Enqueue(PriorityQueue<(int, int, int), (int, int)> queue, int[] ids, int[] starts, int left, int right)
    {
        if (ids[left] >= 0 && ids[right] >= 0 && _merges.TryGetValue(Key(ids[left], ids[right]), out var m))
        {
            queue.Enqueue((left, right, m.Id), (m.Rank, starts[left]));
        }
    }
}

/// <summary>Unigram (SentencePiece) with Viterbi over code points; unknown characters score min - 10.</summary>
internal sealed class UnigramModel : TokenizerModel
{
    private readonly double[] _scores;
    private readonly string[] _pieces;
    private readonly double _unkScore;
    private readonly int _maxPieceLength;

    public UnigramModel(JsonElement config)
        : base(new Dictionary<string, int>(StringComparer.Ordinal))
    {
        var vocab = config.GetProperty("vocab");
        var n = vocab.GetArrayLength();
        _scores = new double[n];
        _pieces = new string[n];
        var i = 0;
        foreach (var entry in vocab.EnumerateArray())
        {
            _pieces[i] = entry[0].GetString()!;
            _scores[i] = entry[1].GetDouble();
            Vocab.TryAdd(_pieces[i], i);
            _maxPieceLength = Math.Max(_maxPieceLength, _pieces[i].Length);
            i++;
        }

        UnkId = config.Int("unk_id");
        UnkToken = UnkId is { } u ? _pieces[u] : null;
        _unkScore = (n > 0 ? _scores.Min() : 0) - 10;
        if (UnkId is { } unk)
        {
            _scores[unk] = _unkScore;
        }

        FuseUnk = true;
        _byteFallback = config.Bool("byte_fallback") ?? false;
        _byteIds = [.. Enumerable.Range(0, 256).Select(b => Vocab.TryGetValue($"<0x{b:X2}>", out var id) ? id : -1)];
    }

    private readonly bool _byteFallback;
    private readonly int[] _byteIds;

    public override void Tokenize(AlignedText word, List<Token> output)
    {
        var s = word.Text;
        if (s.Length == 0)
        {
            return;
        }

        // Positions are UTF-16 indexes at code point boundaries; best[e] = best path ending at e.
        var best = new double[s.Length + 1];
        var from = new int[s.Length + 1];
        var via = new int[s.Length + 1];
        var reached = new bool[s.Length + 1];
        reached[0] = true;
        for (var b = 0; b < s.Length;)
        {
            var n = char.IsHighSurrogate(s[b]) && b + 1 < s.Length && char.IsLowSurrogate(s[b + 1]) ? 2 : 1;
            if (reached[b])
            {
                var hasSingle = false;
                for (var e = b + 1; e <= s.Length && e - b <= _maxPieceLength; e++)
                {
                    if (e < s.Length && char.IsLowSurrogate(s[e]) && char.IsHighSurrogate(s[e - 1]))
                    {
                        continue;
                    }

                    if (Lookup.TryGetValue(s.AsSpan(b, e - b), out var id))
                    {
                        Relax(b, e, id, _scores[id]);
                        hasSingle |= e - b == n;
                    }
                }

                if (!hasSingle)
                {
                    Relax(b, b + n, UnkId ?? -1, _unkScore);
                }
            }

            b += n;
        }

        var path = new List<(int Start, int End, int Id)>();
        for (var e = s.Length; e > 0; e = from[e])
        {
            path.Add((from[e], e, via[e]));
        }

        path.Reverse();
        for (var k = 0; k < path.Count; k++)
        {
            var (start, end, id) = path[k];
            if (_byteFallback && id == UnkId)
            {
                // Hugging Face: a run of unknown characters becomes its UTF-8 bytes when every byte token exists.
                while (k + 1 < path.Count && path[k + 1].Id == UnkId)
                {
                    end = path[++k].End;
                }

                var bytes = Encoding.UTF8.GetBytes(s[start..end]);
                var (us, ue) = word.Span(start, end);
                if (bytes.All(b => _byteIds[b] >= 0))
                {
                    foreach (var b in bytes)
                    {
                        output.Add(new Token(_byteIds[b], $"<0x{b:X2}>", us, ue));
                    }

                    continue;
                }

                output.Add(new Token(id, s[start..end], us, ue));
                continue;
            }

            var (ts, te) = word.Span(start, end);
            output.Add(new Token(id, s[start..end], ts, te));
        }

        void Relax(int b, int e, int id, double score)
        {
            var total = best[b] + score;
            // Strictly greater keeps the earliest-inserted (leftmost-starting) candidate on ties, like the reference.
            if (!reached[e] || total > best[e] || (total == best[e] && b < from[e]))
            {
                best[e] = total;
                from[e] = b;
                via[e] = id;
                reached[e] = true;
            }
        }
    }
}
