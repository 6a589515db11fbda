using System.Globalization;
using System.Text;
using System.Text.Json;

namespace WebConsole.Inference.Tokenization;

/// <summary>A tokenizer.json normalizer: rewrites text while keeping the alignment to the original.</summary>
internal abstract class Normalizer
{
    public abstract AlignedText Normalize(AlignedText text);

    public string Normalize(string text) => Normalize(AlignedText.FromOriginal(text, 0, text.Length)).Text;

    public static Normalizer? Create(JsonElement config)
    {
        if (config.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var type = config.GetProperty("type").GetString();
        return type switch
        {
            "BertNormalizer" => new BertNormalizer(
                config.Bool("clean_text") ?? true,
                config.Bool("handle_chinese_chars") ?? true,
                config.Bool("strip_accents"),
                config.Bool("lowercase") ?? true),
            "Sequence" => new SequenceNormalizer([.. config.GetProperty("normalizers").EnumerateArray().Select(Create).OfType<Normalizer>()]),
            "NFC" => new UnicodeNormalizer(NormalizationForm.FormC),
            "NFD" => new UnicodeNormalizer(NormalizationForm.FormD),
            "NFKC" => new UnicodeNormalizer(NormalizationForm.FormKC),
            "NFKD" => new UnicodeNormalizer(NormalizationForm.FormKD),
            "Lowercase" => new LowercaseNormalizer(),
            "StripAccents" => new StripAccentsNormalizer(),
            "Strip" => new StripNormalizer(config.Bool("strip_left") ?? false, config.Bool("strip_right") ?? false),
            "Prepend" => new PrependNormalizer(config.GetProperty("prepend").GetString() ?? string.Empty),
            "Replace" => new ReplaceNormalizer(Pattern.Create(config.GetProperty("pattern")), config.Str("content") ?? string.Empty),
            "Precompiled" => new PrecompiledNormalizer(),
            _ => throw new NotSupportedException($"tokenizer.json normalizer '{type}' is not supported."),
        };
    }

    /// <summary>Lowercases like JavaScript's <c>toLowerCase</c> (full mappings: İ and final sigma), keeping alignment.</summary>
    public static AlignedText Lowercase(AlignedText text)
    {
        var builder = new AlignedBuilder(text.Length);
        var s = text.Text;
        Span<char> buffer = stackalloc char[2];
        for (var i = 0; i < s.Length;)
        {
            var c = s[i];
            if (!char.IsSurrogate(c) && c != '\u0130' && c != '\u03A3')
            {
                builder.Append(char.ToLowerInvariant(c), text.Starts[i], text.Ends[i]);
                i++;
                continue;
            }

            var rune = Rune.GetRuneAt(s, i);
            var n = rune.Utf16SequenceLength;
            var (start, end) = (text.Starts[i], text.Ends[i + n - 1]);
            if (rune.Value == 0x130)
            {
                builder.Append("i\u0307", start, end);
            }
            else if (rune.Value == 0x3A3)
            {
                builder.Append(IsFinalSigma(s, i) ? 'ς' : 'σ', start, end);
            }
            else
            {
                var lower = Rune.ToLowerInvariant(rune);
                var written = lower.EncodeToUtf16(buffer);
                for (var k = 0; k < written; k++)
                {
                    builder.Append(buffer[k], start, end);
                }
            }

            i += n;
        }

        return builder.Build();
    }

    // Unicode's Final_Sigma context: a cased letter before (skipping case-ignorables) and none after.
    private static bool IsFinalSigma(string s, int index)
    {
        var before = false;
        for (var i = index - 1; i >= 0; i--)
        {
            if (char.IsLowSurrogate(s[i]) && i > 0)
            {
                i--;
            }

            var cp = Rune.GetRuneAt(s, i).Value;
            if (IsCaseIgnorable(cp))
            {
                continue;
            }

            before = IsCased(cp);
            break;
        }

        if (!before)
        {
            return false;
        }

        for (var i = index + 1; i < s.Length;)
        {
            var rune = Rune.GetRuneAt(s, i);
            i += rune.Utf16SequenceLength;
            if (IsCaseIgnorable(rune.Value))
            {
                continue;
            }

            return !IsCased(rune.Value);
        }

        return true;
    }

    private static bool IsCased(int cp) =>
        CharUnicodeInfo.GetUnicodeCategory(cp) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter;

    private static bool IsCaseIgnorable(int cp) =>
        cp is '\'' or '.' or ':' or '^' or '`' or 0xB7 or 0x2019 or 0x2018 or 0x2024 or 0xAD
        || CharUnicodeInfo.GetUnicodeCategory(cp) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format
            or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol;

    // Single BMP characters are most clusters (CJK, Hangul, precomposed letters); their forms are cached so ICU is
    // called once per character and form rather than once per occurrence.
    private static readonly string?[][] CharForms = [new string?[65536], new string?[65536], new string?[65536], new string?[65536]];

    private static string NormalizeChar(char c, NormalizationForm form)
    {
        var table = CharForms[form switch { NormalizationForm.FormC => 0, NormalizationForm.FormD => 1, NormalizationForm.FormKC => 2, _ => 3 }];
        return table[c] ??= NormalizeCluster(c.ToString(), form);
    }

    private static string NormalizeCluster(string cluster, NormalizationForm form) =>
        cluster.IsNormalized(form) ? cluster : cluster.Normalize(form);

    /// <summary>
    /// Applies a Unicode normalization form. Clusters (a starter and its marks) are normalized one by one so each output
    /// unit maps to its cluster; where that differs from normalizing the whole string (rare: e.g. conjoining jamo), the
    /// whole-string result wins and alignment falls back to proportional positions.
    /// </summary>
    public static AlignedText Normalize(AlignedText text, NormalizationForm form)
    {
        if (text.Text.IsNormalized(form))
        {
            return text;
        }

        var whole = text.Text.Normalize(form);
        var builder = new AlignedBuilder(whole.Length);
        var s = text.Text;
        // Below these, characters are stable under the form and never combine with a following mark.
        var stableBelow = form is NormalizationForm.FormC or NormalizationForm.FormD ? '\u00C0' : '\u00A0';
        var i = 0;
        while (i < s.Length)
        {
            if (s[i] < stableBelow && (i + 1 == s.Length || s[i + 1] < '\u0300'))
            {
                builder.Append(text, i, i + 1);
                i++;
                continue;
            }

            var start = i;
            i += Rune.GetRuneAt(s, i).Utf16SequenceLength;
            while (i < s.Length)
            {
                var rune = Rune.GetRuneAt(s, i);
                if (!CharClasses.IsMark(rune.Value))
                {
                    break;
                }

                i += rune.Utf16SequenceLength;
            }

            var normalized = i - start == 1 ? NormalizeChar(s[start], form) : NormalizeCluster(s.Substring(start, i - start), form);
            var cluster = i - start == 1 && normalized.Length == 1 && normalized[0] == s[start] ? normalized : s.Substring(start, i - start);
            var (os, oe) = text.Span(start, i);
            if (normalized == cluster)
            {
                builder.Append(text, start, i);
            }
            else
            {
                builder.Append(normalized, os, oe);
            }
        }

        var result = builder.Build();
        if (result.Text == whole)
        {
            return result;
        }

        var starts = new int[whole.Length];
        var ends = new int[whole.Length];
        for (var k = 0; k < whole.Length; k++)
        {
            var at = Math.Min(text.Length - 1, (int)((long)k * text.Length / Math.Max(1, whole.Length)));
            starts[k] = text.Starts[at];
            ends[k] = text.Ends[at];
        }

        return new AlignedText(whole, starts, ends);
    }
}

internal sealed class SequenceNormalizer(Normalizer[] normalizers) : Normalizer
{
    public override AlignedText Normalize(AlignedText text)
    {
        foreach (var normalizer in normalizers)
        {
            text = normalizer.Normalize(text);
        }

        return text;
    }
}

internal sealed class UnicodeNormalizer(NormalizationForm form) : Normalizer
{
    public override AlignedText Normalize(AlignedText text) => Normalize(text, form);
}

internal sealed class LowercaseNormalizer : Normalizer
{
    public override AlignedText Normalize(AlignedText text) => Lowercase(text);
}

/// <summary>Removes combining marks (the reference removes \p{M} without decomposing first).</summary>
internal sealed class StripAccentsNormalizer : Normalizer
{
    public override AlignedText Normalize(AlignedText text) => RemoveMarks(text, markOnly: false);

    public static AlignedText RemoveMarks(AlignedText text, bool markOnly)
    {
        var builder = new AlignedBuilder(text.Length);
        var s = text.Text;
        for (var i = 0; i < s.Length;)
        {
            var rune = Rune.GetRuneAt(s, i);
            var n = rune.Utf16SequenceLength;
            var category = CharUnicodeInfo.GetUnicodeCategory(rune.Value);
            var drop = markOnly ? category == UnicodeCategory.NonSpacingMark : CharClasses.IsMark(rune.Value);
            if (!drop)
            {
                builder.Append(text, i, i + n);
            }

            i += n;
        }

        return builder.Build();
    }
}

internal sealed class StripNormalizer(bool left, bool right) : Normalizer
{
    public override AlignedText Normalize(AlignedText text)
    {
        if (left)
        {
            text = text.TrimStart(CharClasses.IsJsSpace);
        }

        return right ? text.TrimEnd(CharClasses.IsJsSpace) : text;
    }
}

internal sealed class PrependNormalizer(string prepend) : Normalizer
{
    public override AlignedText Normalize(AlignedText text)
    {
        var builder = new AlignedBuilder(text.Length + prepend.Length);
        var (start, end) = text.Length > 0 ? (text.Starts[0], text.Ends[0]) : (0, 0);
        builder.Append(prepend, start, end);
        builder.Append(text, 0, text.Length);
        return builder.Build();
    }
}

internal sealed class ReplaceNormalizer(Pattern pattern, string content) : Normalizer
{
    public override AlignedText Normalize(AlignedText text) => pattern.Replace(text, content);
}

/// <summary>What the reference does for SentencePiece's precompiled charsmap: drop controls, map odd spaces to a space, NFKC.</summary>
internal sealed class PrecompiledNormalizer : Normalizer
{
    public override AlignedText Normalize(AlignedText text)
    {
        var builder = new AlignedBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text.Text[i];
            if (c is (>= '\u0001' and <= '\u0008') or '\u000B' or (>= '\u000E' and <= '\u001F') or '\u007F' or '\u008F' or '\u009F')
            {
                continue;
            }

            var space = c is '\u0009' or '\u000A' or '\u000C' or '\u000D' or '\u00A0' or '\u1680' or (>= '\u2000' and <= '\u200F')
                or '\u2028' or '\u2029' or '\u202F' or '\u205F' or '\u2581' or '\u3000' or '\uFEFF' or '\uFFFD';
            builder.Append(space ? ' ' : c, text.Starts[i], text.Ends[i]);
        }

        var cleaned = builder.Build();
        return Normalize(cleaned, NormalizationForm.FormKC);
    }
}

/// <summary>BERT's normalizer with the reference's exact character classes.</summary>
internal sealed class BertNormalizer(bool cleanText, bool handleChineseChars, bool? stripAccents, bool lowercase) : Normalizer
{
    public override AlignedText Normalize(AlignedText text)
    {
        if (cleanText)
        {
            text = Clean(text);
        }

        if (handleChineseChars)
        {
            text = SpaceChinese(text);
        }

        if (lowercase)
        {
            text = Lowercase(text);
            if (stripAccents != false)
            {
                text = StripAccentsNormalizer.RemoveMarks(Normalize(text, NormalizationForm.FormD), markOnly: true);
            }
        }
        else if (stripAccents == true)
        {
            text = StripAccentsNormalizer.RemoveMarks(Normalize(text, NormalizationForm.FormD), markOnly: true);
        }

        return text;
    }

    private static AlignedText Clean(AlignedText text)
    {
        var builder = new AlignedBuilder(text.Length);
        var s = text.Text;
        for (var i = 0; i < s.Length;)
        {
            var rune = Rune.GetRuneAt(s, i);
            var n = rune.Utf16SequenceLength;
            var cp = rune.Value;
            var control = cp is not ('\t' or '\n' or '\r')
                && CharUnicodeInfo.GetUnicodeCategory(cp) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate;
            if (cp is 0 or 0xFFFD || control || (char.IsSurrogate(s[i]) && n == 1))
            {
                i += n;
                continue;
            }

            if (CharClasses.IsJsSpace(cp))
            {
                builder.Append(' ', text.Starts[i], text.Ends[i + n - 1]);
            }
            else
            {
                builder.Append(text, i, i + n);
            }

            i += n;
        }

        return builder.Build();
    }

    // The reference inspects UTF-16 units, so only BMP ideographs get spaces around them.
    private static AlignedText SpaceChinese(AlignedText text)
    {
        var builder = new AlignedBuilder(text.Length + 8);
        for (var i = 0; i < text.Length; i++)
        {
            var cp = (int)text.Text[i];
            if (cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0xF900 and <= 0xFAFF))
            {
                builder.Append(' ', text.Starts[i], text.Starts[i]);
                builder.Append(text, i, i + 1);
                builder.Append(' ', text.Ends[i], text.Ends[i]);
            }
            else
            {
                builder.Append(text, i, i + 1);
            }
        }

        return builder.Build();
    }
}

internal static class JsonExtensions
{
    public static bool? Bool(this JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : null;

    public static string? Str(this JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static int? Int(this JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) ? n : null;

    public static JsonElement? Obj(this JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;
}
