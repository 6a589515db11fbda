using System.Globalization;
using System.Text;

namespace WebConsole.Inference.Tokenization;

/// <summary>
/// Text that remembers, for each UTF-16 unit, which range of the original input it came from; every normalizer and
/// pre-tokenizer step keeps it so token offsets point into the caller's string.
/// </summary>
internal sealed class AlignedText(string text, int[] starts, int[] ends)
{
    public string Text { get; } = text;

    public int[] Starts { get; } = starts;

    public int[] Ends { get; } = ends;

    public int Length => Text.Length;

    public static AlignedText FromOriginal(string text, int offset, int length)
    {
        var starts = new int[length];
        var ends = new int[length];
        for (var i = 0; i < length; i++)
        {
            // A surrogate pair maps both halves to the whole code point.
            var start = offset + i;
            var end = start + 1;
            if (char.IsHighSurrogate(text[start]) && i + 1 < length && char.IsLowSurrogate(text[start + 1]))
            {
                starts[i] = start;
                ends[i] = start + 2;
                starts[i + 1] = start;
                ends[i + 1] = start + 2;
                i++;
                continue;
            }

            starts[i] = start;
            ends[i] = end;
        }

        return new AlignedText(text.Substring(offset, length), starts, ends);
    }

    public AlignedText Slice(int start, int length) =>
        start == 0 && length == Length
            ? this
            : new AlignedText(Text.Substring(start, length), Starts.AsSpan(start, length).ToArray(), Ends.AsSpan(start, length).ToArray());

    /// <summary>Original range covered by units [start, end) of this text.</summary>
    public (int Start, int End) Span(int start, int end)
    {
        if (Length == 0)
        {
            return (0, 0);
        }

        if (end <= start)
        {
            var at = Math.Min(start, Length - 1);
            return (Starts[at], Starts[at]);
        }

        var s = int.MaxValue;
        var e = int.MinValue;
        for (var i = start; i < end; i++)
        {
            s = Math.Min(s, Starts[i]);
            e = Math.Max(e, Ends[i]);
        }

        return (s, e);
    }

    public AlignedText TrimStart(Func<int, bool> isSpace)
    {
        var i = 0;
        while (i < Length)
        {
            var rune = Rune.GetRuneAt(Text, i);
            if (!isSpace(rune.Value))
            {
                break;
            }

            i += rune.Utf16SequenceLength;
        }

        return Slice(i, Length - i);
    }

    public AlignedText TrimEnd(Func<int, bool> isSpace)
    {
        var end = Length;
        while (end > 0)
        {
            var start = char.IsLowSurrogate(Text[end - 1]) && end >= 2 && char.IsHighSurrogate(Text[end - 2]) ? end - 2 : end - 1;
            if (!isSpace(Rune.GetRuneAt(Text, start).Value))
            {
                break;
            }

            end = start;
        }

        return Slice(0, end);
    }
}

/// <summary>Builds an <see cref="AlignedText"/> one unit at a time.</summary>
internal sealed class AlignedBuilder(int capacity)
{
    private readonly StringBuilder _text = new(capacity);
    private readonly List<int> _starts = new(capacity);
    private readonly List<int> _ends = new(capacity);

    public int Length => _text.Length;

    public char this[int index] => _text[index];

    public void Append(char c, int start, int end)
    {
        _text.Append(c);
        _starts.Add(start);
        _ends.Add(end);
    }

    public void Append(string s, int start, int end)
    {
        foreach (var c in s)
        {
            Append(c, start, end);
        }
    }

    public void Append(AlignedText source, int from, int to)
    {
        _text.Append(source.Text, from, to - from);
        for (var i = from; i < to; i++)
        {
            _starts.Add(source.Starts[i]);
            _ends.Add(source.Ends[i]);
        }
    }

    public AlignedText Build() => new(_text.ToString(), [.. _starts], [.. _ends]);
}

/// <summary>Character classes as the reference (JavaScript <c>tokenizers</c>) sees them.</summary>
internal static class CharClasses
{
    /// <summary>JavaScript's <c>\s</c>: White_Space minus U+0085, plus U+FEFF.</summary>
    public static bool IsJsSpace(int cp) => cp switch
    {
        >= 0x09 and <= 0x0D or 0x20 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A) or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 or 0xFEFF => true,
        _ => false,
    };

    /// <summary>Unicode White_Space (Oniguruma's and .NET's <c>\s</c>).</summary>
    public static bool IsWhiteSpace(int cp) => cp switch
    {
        >= 0x09 and <= 0x0D or 0x20 or 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A) or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    public static UnicodeCategory Category(int cp) => CharUnicodeInfo.GetUnicodeCategory(cp);

    public static bool IsPunctuation(int cp)
    {
        if (cp is (>= 33 and <= 47) or (>= 58 and <= 64) or (>= 91 and <= 96) or (>= 123 and <= 126))
        {
            return true;
        }

        return Category(cp) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation
            or UnicodeCategory.OtherPunctuation;
    }

    public static bool IsMark(int cp) =>
        Category(cp) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;
}
