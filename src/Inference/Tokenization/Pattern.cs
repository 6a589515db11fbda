using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace WebConsole.Inference.Tokenization;

/// <summary>
/// A tokenizer.json pattern (<c>{"String": ...}</c> or <c>{"Regex": ...}</c>, written for Oniguruma) compiled for .NET.
/// .NET's regex sees UTF-16 units, so astral characters are matched through a stand-in string in which each surrogate
/// half is replaced by a BMP character of the code point's category (lengths, hence offsets, stay the same).
/// </summary>
internal sealed class Pattern
{
    private static readonly ConcurrentDictionary<string, Regex> Cache = new(StringComparer.Ordinal);

    private Pattern(Regex regex, bool isString)
    {
        Regex = regex;
        IsString = isString;
    }

    public Regex Regex { get; }

    /// <summary>Whether the pattern was a literal string (the reference splits those differently).</summary>
    public bool IsString { get; }

    public static Pattern Create(JsonElement config)
    {
        if (config.Str("String") is { } literal)
        {
            return new Pattern(Compile(Regex.Escape(literal)), isString: true);
        }

        if (config.Str("Regex") is { } regex)
        {
            return new Pattern(Compile(Translate(regex)), isString: false);
        }

        throw new NotSupportedException("tokenizer.json pattern has neither String nor Regex.");
    }

    public static Regex Compile(string pattern) =>
        Cache.GetOrAdd(pattern, p => new Regex(p, RegexOptions.Compiled | RegexOptions.CultureInvariant));

    /// <summary>The matches of the pattern as (index, length) pairs in UTF-16 units of <paramref name="text"/>.</summary>
    public List<(int Index, int Length)> Matches(string text) => Matches(Regex, text);

    public static List<(int Index, int Length)> Matches(Regex regex, string text)
    {
        var (subject, map) = StandIn(text);
        var result = new List<(int, int)>();
        foreach (var match in regex.EnumerateMatches(subject))
        {
            if (map is null)
            {
                result.Add((match.Index, match.Length));
            }
            else
            {
                var start = map[match.Index];
                result.Add((start, map[match.Index + match.Length] - start));
            }
        }

        return result;
    }

    public AlignedText Replace(AlignedText text, string content)
    {
        var matches = Matches(text.Text);
        if (matches.Count == 0)
        {
            return text;
        }

        var builder = new AlignedBuilder(text.Length);
        var last = 0;
        foreach (var (index, length) in matches)
        {
            builder.Append(text, last, index);
            var (start, end) = text.Span(index, index + length);
            builder.Append(content, start, end);
            last = index + length;
        }

        builder.Append(text, last, text.Length);
        return builder.Build();
    }

    /// <summary>
    /// Replaces each surrogate pair by one BMP character of the code point's general category, so classes and
    /// quantifiers count code points as Oniguruma does; <c>map</c> (null when nothing changed) turns stand-in indexes
    /// back into indexes of <paramref name="text"/>.
    /// </summary>
    public static (string Subject, int[]? Map) StandIn(string text)
    {
        var first = text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        if (first < 0)
        {
            return (text, null);
        }

        var chars = new char[text.Length];
        var map = new int[text.Length + 1];
        var n = 0;
        for (var i = 0; i < text.Length; i++)
        {
            map[n] = i;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                chars[n++] = Representative(CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1])));
                i++;
            }
            else
            {
                chars[n++] = text[i];
            }
        }

        map[n] = text.Length;
        return (new string(chars, 0, n), map);
    }

    private static char Representative(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter => 'A',
        UnicodeCategory.LowercaseLetter => 'a',
        UnicodeCategory.TitlecaseLetter => 'ǅ',
        UnicodeCategory.ModifierLetter => 'ʰ',
        UnicodeCategory.OtherLetter => 'ª',
        UnicodeCategory.NonSpacingMark => '\u0300',
        UnicodeCategory.SpacingCombiningMark => '\u0903',
        UnicodeCategory.EnclosingMark => '\u20DD',
        UnicodeCategory.DecimalDigitNumber => '0',
        UnicodeCategory.LetterNumber => 'Ⅰ',
        UnicodeCategory.OtherNumber => '²',
        UnicodeCategory.OtherPunctuation => '!',
        UnicodeCategory.Format => '\u200B',
        UnicodeCategory.PrivateUse => '\uE000',
        UnicodeCategory.MathSymbol => '+',
        UnicodeCategory.CurrencySymbol => '$',
        UnicodeCategory.ModifierSymbol => '^',
        UnicodeCategory.OtherSymbol => '©',
        UnicodeCategory.OtherNotAssigned => '\u0378',
        _ => '©',
    };

    /// <summary>
    /// Rewrites an Oniguruma pattern for .NET the way the reference rewrites it for JavaScript: <c>(?i:...)</c> folds
    /// ASCII letters only, <c>\s</c>/<c>\d</c> are Unicode (the .NET defaults), <c>\h</c> is a hex digit, possessive
    /// quantifiers become ordinary ones, and <c>.</c> excludes only <c>\n</c>.
    /// </summary>
    public static string Translate(string pattern)
    {
        var output = new StringBuilder(pattern.Length + 16);
        var foldStack = new Stack<bool>();
        var fold = false;
        var inClass = false;
        var lastWasQuantifier = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                var next = pattern[i + 1];
                if (next is 'p' or 'P' && i + 2 < pattern.Length && pattern[i + 2] == '{')
                {
                    var close = pattern.IndexOf('}', i);
                    output.Append(pattern, i, close - i + 1);
                    i = close;
                }
                else if (next == 'h')
                {
                    output.Append(inClass ? "0-9A-Fa-f" : "[0-9A-Fa-f]");
                    i++;
                }
                else if (next == 'x' && i + 2 < pattern.Length && pattern[i + 2] == '{')
                {
                    var close = pattern.IndexOf('}', i);
                    var cp = Convert.ToInt32(pattern.Substring(i + 3, close - i - 3), 16);
                    output.Append(Regex.Escape(char.ConvertFromUtf32(cp)));
                    i = close;
                }
                else
                {
                    output.Append(c).Append(next);
                    i++;
                }

                lastWasQuantifier = false;
                continue;
            }

            if (inClass)
            {
                if (c == ']')
                {
                    inClass = false;
                }

                output.Append(c);
                continue;
            }

            switch (c)
            {
                case '[':
                    inClass = true;
                    output.Append(c);
                    if (i + 1 < pattern.Length && pattern[i + 1] == '^')
                    {
                        output.Append('^');
                        i++;
                    }

                    if (i + 1 < pattern.Length && pattern[i + 1] == ']')
                    {
                        output.Append("\\]");
                        i++;
                    }

                    lastWasQuantifier = false;
                    break;
                case '(':
                    foldStack.Push(fold);
                    if (pattern.AsSpan(i).StartsWith("(?i:"))
                    {
                        fold = true;
                        output.Append("(?:");
                        i += 3;
                    }
                    else if (pattern.AsSpan(i).StartsWith("(?>"))
                    {
                        output.Append("(?:");
                        i += 2;
                    }
                    else
                    {
                        output.Append(c);
                    }

                    lastWasQuantifier = false;
                    break;
                case ')':
                    fold = foldStack.Count > 0 && foldStack.Pop();
                    output.Append(c);
                    lastWasQuantifier = false;
                    break;
                case '.':
                    output.Append("[^\\n]");
                    lastWasQuantifier = false;
                    break;
                case '+':
                    if (!lastWasQuantifier)
                    {
                        output.Append(c);
                        lastWasQuantifier = true;
                    }

                    break;
                case '*' or '?':
                    output.Append(c);
                    lastWasQuantifier = c != '?' || !lastWasQuantifier;
                    break;
                case '}':
                    output.Append(c);
                    lastWasQuantifier = true;
                    break;
                default:
                    output.Append(fold && char.IsAsciiLetter(c) ? $"[{char.ToLowerInvariant(c)}{char.ToUpperInvariant(c)}]" : c);
                    lastWasQuantifier = false;
                    break;
            }
        }

        return output.ToString();
    }
}
