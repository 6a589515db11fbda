using System.Globalization;
using System.Text;

namespace WebConsole.Inference.Generation.Templates;

internal enum SegmentKind
{
    Text,
    Output,
    Statement,
}

internal sealed record Segment(SegmentKind Kind, string Content);

internal enum TokenKind
{
    Name,
    String,
    Integer,
    Float,
    Operator,
    End,
}

internal readonly record struct Token(TokenKind Kind, string Text, object? Value = null);

/// <summary>
/// Splits a template into text, <c>{{ }}</c> and <c>{% %}</c> segments with Jinja's whitespace control and the
/// <c>trim_blocks</c> / <c>lstrip_blocks</c> settings Hugging Face renders chat templates with (transformers in Python
/// and @huggingface/jinja both use them), and splits tag contents into expression tokens.
/// </summary>
internal static class JinjaLexer
{
    private enum RawType
    {
        Text,
        Verbatim,
        Output,
        Statement,
        Comment,
    }

    private sealed record Raw(RawType Type, string Content, bool TrimLeft = false, bool TrimRight = false, bool KeepLeft = false)
    {
        public bool IsTag => Type is RawType.Output or RawType.Statement or RawType.Comment;

        public bool IsBlockOrComment => Type is RawType.Statement or RawType.Comment;
    }

    public static List<Segment> Segments(string source)
    {
        List<Raw> raws = [];
        var position = 0;
        var text = new StringBuilder();
        while (position < source.Length)
        {
            var open = source.IndexOf('{', position);
            if (open < 0 || open + 1 >= source.Length)
            {
                text.Append(source, position, source.Length - position);
                break;
            }

            var next = source[open + 1];
            if (next is not ('{' or '%' or '#'))
            {
                text.Append(source, position, open + 1 - position);
                position = open + 1;
                continue;
            }

            text.Append(source, position, open - position);
            raws.Add(new Raw(RawType.Text, text.ToString()));
            text.Clear();

            var contentStart = open + 2;
            var trimLeft = contentStart < source.Length && source[contentStart] == '-';
            var keepLeft = contentStart < source.Length && source[contentStart] == '+';
            if (trimLeft || keepLeft)
            {
                contentStart++;
            }

            var close = next switch { '{' => "}}", '%' => "%}", _ => "#}" };
            var end = next == '#' ? source.IndexOf(close, contentStart, StringComparison.Ordinal) : FindClose(source, contentStart, close);
            if (end < 0)
            {
                throw new JinjaException($"Unclosed tag at offset {open}.");
            }

            var contentEnd = end;
            var trimRight = contentEnd > contentStart && source[contentEnd - 1] == '-';
            if (trimRight)
            {
                contentEnd--;
            }

            var content = source[contentStart..contentEnd].Trim();
            var type = next switch { '{' => RawType.Output, '%' => RawType.Statement, _ => RawType.Comment };
            if (type == RawType.Statement && content == "raw")
            {
                // {% raw %}...{% endraw %}: the body is text, tags and all.
                var endRaw = source.IndexOf("endraw", end, StringComparison.Ordinal);
                var rawOpen = endRaw < 0 ? -1 : source.LastIndexOf("{%", endRaw, StringComparison.Ordinal);
                var rawClose = endRaw < 0 ? -1 : source.IndexOf("%}", endRaw, StringComparison.Ordinal);
                if (rawOpen < 0 || rawClose < 0)
                {
                    throw new JinjaException("Unclosed raw block.");
                }

                raws.Add(new Raw(RawType.Verbatim, source[(end + 2)..rawOpen]));
                position = rawClose + 2;
                continue;
            }

            raws.Add(new Raw(type, content, trimLeft, trimRight, keepLeft));
            position = end + 2;
        }

        raws.Add(new Raw(RawType.Text, text.ToString()));

        List<Segment> segments = [];
        for (var i = 0; i < raws.Count; i++)
        {
            var raw = raws[i];
            switch (raw.Type)
            {
                case RawType.Output:
                    segments.Add(new Segment(SegmentKind.Output, raw.Content));
                    continue;
                case RawType.Statement:
                    segments.Add(new Segment(SegmentKind.Statement, raw.Content));
                    continue;
                case RawType.Comment:
                    continue;
                case RawType.Verbatim:
                    segments.Add(new Segment(SegmentKind.Text, raw.Content));
                    continue;
            }

            var value = raw.Content;
            if (i > 0 && raws[i - 1] is { IsTag: true } previous)
            {
                if (previous.TrimRight)
                {
                    value = value.TrimStart();
                }
                else if (previous.IsBlockOrComment)
                {
                    // trim_blocks: the first newline after a block tag or comment goes.
                    value = value.StartsWith("\r\n", StringComparison.Ordinal) ? value[2..] : value.StartsWith('\n') ? value[1..] : value;
                }
            }

            if (i + 1 < raws.Count && raws[i + 1] is { IsTag: true } following)
            {
                if (following.TrimLeft)
                {
                    value = value.TrimEnd();
                }
                else if (following.IsBlockOrComment && !following.KeepLeft && AtLineStart(raw.Content, i == 0))
                {
                    // lstrip_blocks: spaces and tabs between the line start and a block tag go.
                    value = value.TrimEnd(' ', '\t');
                }
            }

            if (value.Length > 0)
            {
                segments.Add(new Segment(SegmentKind.Text, value));
            }
        }

        return segments;
    }

    public static List<Token> Tokens(string source)
    {
        List<Token> tokens = [];
        var i = 0;
        while (i < source.Length)
        {
            var c = source[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (char.IsLetter(c) || c == '_')
            {
                var start = i;
                while (i < source.Length && (char.IsLetterOrDigit(source[i]) || source[i] == '_'))
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Name, source[start..i]));
            }
            else if (char.IsDigit(c))
            {
                var start = i;
                while (i < source.Length && (char.IsDigit(source[i]) || source[i] == '_'))
                {
                    i++;
                }

                var isFloat = false;
                if (i + 1 < source.Length && source[i] == '.' && char.IsDigit(source[i + 1]))
                {
                    isFloat = true;
                    i++;
                    while (i < source.Length && char.IsDigit(source[i]))
                    {
                        i++;
                    }
                }

                var digits = source[start..i].Replace("_", string.Empty, StringComparison.Ordinal);
                tokens.Add(isFloat
                    ? new Token(TokenKind.Float, digits, double.Parse(digits, CultureInfo.InvariantCulture))
                    : new Token(TokenKind.Integer, digits, long.Parse(digits, CultureInfo.InvariantCulture)));
            }
            else if (c is '\'' or '"')
            {
                var (value, next) = ReadString(source, i);
                tokens.Add(new Token(TokenKind.String, value, value));
                i = next;
            }
            else
            {
                var op = Operators.FirstOrDefault(o => string.CompareOrdinal(source, i, o, 0, o.Length) == 0)
                    ?? throw new JinjaException($"Unexpected character '{c}' in '{source}'.");
                tokens.Add(new Token(TokenKind.Operator, op));
                i += op.Length;
            }
        }

        tokens.Add(new Token(TokenKind.End, string.Empty));
        return tokens;
    }

    private static readonly string[] Operators =
        ["**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "|", ".", ",", ":", "(", ")", "[", "]", "{", "}"];

    private static bool AtLineStart(string rawText, bool atTemplateStart)
    {
        var newline = rawText.LastIndexOf('\n');
        var tail = newline < 0 ? rawText : rawText[(newline + 1)..];
        return (newline >= 0 || atTemplateStart) && tail.All(ch => ch is ' ' or '\t');
    }

    private static int FindClose(string source, int start, string close)
    {
        var i = start;
        while (i < source.Length - 1)
        {
            var c = source[i];
            if (c is '\'' or '"')
            {
                i = ReadString(source, i).Next;
                continue;
            }

            if (c == close[0] && source[i + 1] == close[1])
            {
                return i;
            }

            i++;
        }

        return -1;
    }

    private static (string Value, int Next) ReadString(string source, int start)
    {
        var quote = source[start];
        var builder = new StringBuilder();
        var i = start + 1;
        while (i < source.Length && source[i] != quote)
        {
            if (source[i] == '\\' && i + 1 < source.Length)
            {
                i++;
                switch (source[i])
                {
                    case 'n': builder.Append('\n'); break;
                    case 't': builder.Append('\t'); break;
                    case 'r': builder.Append('\r'); break;
                    case 'u' when i + 4 < source.Length:
                        builder.Append((char)int.Parse(source.AsSpan(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                        i += 4;
                        break;
                    default: builder.Append(source[i]); break;
                }
            }
            else
            {
                builder.Append(source[i]);
            }

            i++;
        }

        if (i >= source.Length)
        {
            throw new JinjaException("Unterminated string literal.");
        }

        return (builder.ToString(), i + 1);
    }
}

/// <summary>A template that cannot be parsed or rendered.</summary>
public sealed class JinjaException(string message) : Exception(message);
