using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace WebConsole.Inference.Tokenization;

/// <summary>A tokenizer.json pre-tokenizer: splits (and for byte-level, re-encodes) text into words for the model.</summary>
internal abstract class PreTokenizer
{
    /// <summary>Splits one piece; <paramref name="sectionIndex"/> is the index among the added-token sections.</summary>
    public abstract void Split(AlignedText piece, int sectionIndex, List<AlignedText> output);

    public List<AlignedText> PreTokenize(List<AlignedText> pieces, int sectionIndex)
    {
        var output = new List<AlignedText>(pieces.Count * 2);
        foreach (var piece in pieces)
        {
            Split(piece, sectionIndex, output);
        }

        return output;
    }

    public static PreTokenizer? Create(JsonElement config)
    {
        if (config.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var type = config.GetProperty("type").GetString();
        return type switch
        {
            "BertPreTokenizer" => new BertPreTokenizer(),
            "ByteLevel" => new ByteLevelPreTokenizer(config.Bool("add_prefix_space") ?? false, config.Bool("use_regex") ?? true),
            "Split" => new SplitPreTokenizer(
                Pattern.Create(config.GetProperty("pattern")),
                config.Str("behavior") ?? "Isolated",
                config.Bool("invert") ?? false),
            "Metaspace" => new MetaspacePreTokenizer(
                config.Str("replacement") ?? "\u2581",
                config.Str("str_rep") is { Length: > 0 } rep ? rep : config.Str("replacement") ?? "\u2581",
                config.Str("prepend_scheme") ?? "always"),
            "Whitespace" => new RegexPreTokenizer(Pattern.Compile(@"[A-Za-z0-9_]+|[^A-Za-z0-9_\t\n\v\f\r\p{Zs}\u2028\u2029\uFEFF]+")),
            "WhitespaceSplit" => new RegexPreTokenizer(Pattern.Compile(@"[^\t\n\v\f\r\p{Zs}\u2028\u2029\uFEFF]+")),
            "Punctuation" => new RegexPreTokenizer(Pattern.Compile(@"[^\p{P}\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E]+|[\p{P}\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E]+")),
            "Digits" => new RegexPreTokenizer(Pattern.Compile(config.Bool("individual_digits") == true ? "[^0-9]+|[0-9]" : "[^0-9]+|[0-9]+")),
            "Sequence" => new SequencePreTokenizer([.. config.GetProperty("pretokenizers").EnumerateArray().Select(Create).OfType<PreTokenizer>()]),
            "Replace" => new ReplacePreTokenizer(Pattern.Create(config.GetProperty("pattern")), config.Str("content") ?? string.Empty),
            _ => throw new NotSupportedException($"tokenizer.json pre-tokenizer '{type}' is not supported."),
        };
    }

    /// <summary>Adds the matches of <paramref name="regex"/> as pieces (text between matches is dropped).</summary>
    protected static void AddMatches(Regex regex, AlignedText piece, List<AlignedText> output)
    {
        foreach (var (index, length) in Pattern.Matches(regex, piece.Text))
        {
            if (length > 0)
            {
                output.Add(piece.Slice(index, length));
            }
        }
    }
}

internal sealed class SequencePreTokenizer(PreTokenizer[] steps) : PreTokenizer
{
    public override void Split(AlignedText piece, int sectionIndex, List<AlignedText> output)
    {
        var pieces = new List<AlignedText> { piece };
        foreach (var step in steps)
        {
            pieces = step.PreTokenize(pieces, sectionIndex);
        }

        output.AddRange(pieces);
    }
}

internal sealed class RegexPreTokenizer(Regex regex) : PreTokenizer
{
    public override void Split(AlignedText piece, int sectionIndex, List<AlignedText> output) => AddMatches(regex, piece, output);
}

internal sealed class ReplacePreTokenizer(Pattern pattern, string content) : PreTokenizer
{
    public override void Split(AlignedText piece, int sectionIndex, List<AlignedText> output) => output.Add(pattern.Replace(piece, content));
}

/// <summary>Words and single punctuation characters, after trimming (BERT's basic tokenizer).</summary>
internal sealed class BertPreTokenizer : PreTokenizer
{
    public override void Split(AlignedText piece, int sectionIndex, List<AlignedText> output)
    {
        var s = piece.Text;
        var wordStart = -1;
        for (var i = 0; i < s.Length;)
        {
            var rune = Rune.GetRuneAt(s, i);
            var n = rune.Utf16SequenceLength;
            var cp = rune.Value;
            if (CharClasses.IsJsSpace(cp) || CharClasses.IsPunctuation(cp))
            {
                if (wordStart >= 0)
                {
                    output.Add(piece.Slice(wordStart, i - wordStart));
                    wordStart = -1;
                }

                if (!CharClasses.IsJsSpace(cp))
                {
                    output.Add(piece.Slice(i, n));
                }
            }
            else if (wordStart < 0)
            {
                wordStart = i;
            }

            i += n;
        }

        if (wordStart >= 0)
        {
            output.Add(piece.Slice(wordStart, s.Length - wordStart));
        }
    }
}

/// <summary>
/// Split on a pattern. Invert keeps only matches; Removed drops them; Isolated keeps them as pieces (the reference's
/// behaviours). The reference treats the merged behaviours as Isolated; they follow Hugging Face's Rust semantics here
/// (a match joins the previous or next piece, or consecutive matches join each other).
/// </summary>
internal sealed class SplitPreTokenizer(Pattern pattern, string behavior, bool invert) : PreTokenizer
{
    public override void Split(AlignedText piece, int sectionIndex, List<AlignedText> output)
    {
        if (invert)
        {
            AddMatches(pattern.Regex, piece, output);
            return;
        }

        // Segments of the piece: (start, end, is a match).
        var segments = new List<(int Start, int End, bool Match)>();
        var previous = 0;
        foreach (var (index, length) in pattern.Matches(piece.Text))
        {
            if (index > previous)
            {
                segments.Add((previous, index, false));
            }

            if (length > 0)
            {
                segments.Add((index, index + length, true));
            }

            previous = index + length;
        }

        if (previous < piece.Length)
        {
            segments.Add((previous, piece.Length, false));
        }

        // A literal pattern is wrapped in a capture group by the reference, so JavaScript's split keeps it even for Removed.
        var merged = new List<(int Start, int End)>();
        switch (behavior.ToUpperInvariant())
        {
            case "REMOVED" when !pattern.IsString:
                merged.AddRange(segments.Where(s => !s.Match).Select(s => (s.Start, s.End)));
                break;
            case "MERGEDWITHPREVIOUS":
                // As in Rust: a match joins the piece before it unless that piece was itself a match.
                var previousMatch = false;
                foreach (var (start, end, match) in segments)
                {
                    if (match && !previousMatch && merged.Count > 0)
                    {
                        merged[^1] = (merged[^1].Start, end);
                    }
                    else
                    {
                        merged.Add((start, end));
                    }

                    previousMatch = match;
                }

                break;
            case "MERGEDWITHNEXT":
                var nextMatch = false;
                for (var i = segments.Count - 1; i >= 0; i--)
                {
                    var (start, end, match) = segments[i];
                    if (match && !nextMatch && merged.Count > 0)
                    {
                        merged[^1] = (start, merged[^1].End);
                    }
                    else
                    {
                        merged.Add((start, end));
                    }

                    nextMatch = match;
                }

                merged.Reverse();
                break;
            case "CONTIGUOUS":
                for (var i = 0; i < segments.Count; i++)
                {
                    if (segments[i].Match && i > 0 && segments[i - 1].Match && merged.Count > 0)
                    {
                        merged[^1] = (merged[^1].Start, segments[i].End);
                    }
                    else
                    {
                        merged.Add((segments[i].Start, segments[i].End));
                    }
                }

                break;
            default:
                merged.AddRange(segments.Select(s => (s.Start, s.End)));
                break;
        }

        foreach (var (start, end) in merged)
        {
            output.Add(piece.Slice(start, end - start));
        }
    }
}

/// <summary>Replaces spaces with ▁ and prepends one (the reference keeps the section whole rather than splitting on ▁).</summary>
internal sealed class MetaspacePreTokenizer(string replacement, string stringReplacement, string prependScheme) : PreTokenizer
{
    public override void Split(AlignedText piece, int sectionIndex, List<AlignedText> output)
    {
        var builder = new AlignedBuilder(piece.Length + 1);
        for (var i = 0; i < piece.Length; i++)
        {
            if (piece.Text[i] == ' ')
            {
                builder.Append(stringReplacement, piece.Starts[i], piece.Ends[i]);
            }
            else
            {
                builder.Append(piece, i, i + 1);
            }
        }

        var replaced = builder.Build();
        var prepend = !replaced.Text.StartsWith(replacement, StringComparison.Ordinal)
            && (prependScheme == "always" || (prependScheme == "first" && sectionIndex == 0));
        if (prepend)
        {
            var withPrefix = new AlignedBuilder(replaced.Length + stringReplacement.Length);
            var at = replaced.Length > 0 ? replaced.Starts[0] : 0;
            withPrefix.Append(stringReplacement, at, at);
            withPrefix.Append(replaced, 0, replaced.Length);
            replaced = withPrefix.Build();
        }

        output.Add(replaced);
    }
}

/// <summary>GPT-2's byte-level pre-tokenizer: optional regex split, then every UTF-8 byte becomes a printable character.</summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : PreTokenizer
{
    // The reference's JavaScript pattern: its \s is JavaScript's (U+FEFF in, U+0085 out).
    private static readonly Regex Gpt2 = Pattern.Compile(
        @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\t\n\v\f\r\p{Zs}\u2028\u2029\uFEFF\p{L}\p{N}]+|[\t\n\v\f\r\p{Zs}\u2028\u2029\uFEFF]+(?![^\t\n\v\f\r\p{Zs}\u2028\u2029\uFEFF])|[\t\n\v\f\r\p{Zs}\u2028\u2029\uFEFF]+");

    public static readonly char[] ByteToChar = BuildByteToChar();

    public static readonly Dictionary<char, byte> CharToByte = ByteToChar.Select((c, b) => (c, b)).ToDictionary(x => x.c, x => (byte)x.b);

    public override void Split(AlignedText piece, int sectionIndex, List<AlignedText> output)
    {
        if (addPrefixSpace && !piece.Text.StartsWith(' '))
        {
            var builder = new AlignedBuilder(piece.Length + 1);
            var at = piece.Length > 0 ? piece.Starts[0] : 0;
            builder.Append(' ', at, at);
            builder.Append(piece, 0, piece.Length);
            piece = builder.Build();
        }

        if (!useRegex)
        {
            output.Add(Encode(piece));
            return;
        }

        var words = new List<AlignedText>();
        AddMatches(Gpt2, piece, words);
        foreach (var word in words)
        {
            output.Add(Encode(word));
        }
    }

    public static AlignedText Encode(AlignedText piece)
    {
        var s = piece.Text;
        var builder = new AlignedBuilder(s.Length * 2);
        Span<byte> bytes = stackalloc byte[4];
        for (var i = 0; i < s.Length;)
        {
            var status = Rune.DecodeFromUtf16(s.AsSpan(i), out var rune, out var consumed);
            if (status != System.Buffers.OperationStatus.Done)
            {
                rune = Rune.ReplacementChar;
                consumed = 1;
            }

            var written = rune.EncodeToUtf8(bytes);
            var (start, end) = (piece.Starts[i], piece.Ends[i + consumed - 1]);
            for (var k = 0; k < written; k++)
            {
                builder.Append(ByteToChar[bytes[k]], start, end);
            }

            i += consumed;
        }

        return builder.Build();
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var n = 0;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is (>= '!' and <= '~') or (>= 0xA1 and <= 0xAC) or (>= 0xAE and <= 0xFF);
            map[b] = printable ? (char)b : (char)(256 + n++);
        }

        return map;
    }
}
