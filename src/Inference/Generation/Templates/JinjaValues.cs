using System.Collections;
using System.Globalization;
using System.Text;
using WebConsole.Inference.Abstractions;

namespace WebConsole.Inference.Generation.Templates;

/// <summary>Jinja's undefined value: renders as nothing, is false, and passes <c>is defined</c> checks as missing.</summary>
internal sealed class JinjaUndefined
{
    public static readonly JinjaUndefined Instance = new();

    private JinjaUndefined()
    {
    }
}

/// <summary>A <c>namespace()</c>: the one object templates may assign attributes on (across loop scopes).</summary>
internal sealed class JinjaNamespace() : Dictionary<string, object?>(StringComparer.Ordinal);

/// <summary>A callable value: a global function, a macro or a bound method.</summary>
internal sealed class JinjaFunction(Func<List<object?>, Dictionary<string, object?>, object?> body)
{
    public object? Invoke(List<object?> positional, Dictionary<string, object?> named) => body(positional, named);
}

/// <summary>Values are null (none), <see cref="JinjaUndefined"/>, bool, long, double, string, lists and string-keyed dictionaries.</summary>
internal static class JinjaValues
{
    public static bool IsTrue(object? value) => value switch
    {
        null or JinjaUndefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        ICollection c => c.Count > 0,
        _ => true,
    };

    /// <summary>Python's <c>str()</c>, which is what <c>{{ }}</c> prints.</summary>
    public static string ToText(object? value) => value switch
    {
        JinjaUndefined => string.Empty,
        string s => s,
        _ => Repr(value, topLevel: true),
    };

    public static string Repr(object? value, bool topLevel = false) => value switch
    {
        null => "None",
        JinjaUndefined => string.Empty,
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FormatDouble(d),
        string s => topLevel ? s : "'" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'",
        IDictionary<string, object?> map => "{" + string.Join(", ", map.Select(p => Repr(p.Key) + ": " + Repr(p.Value))) + "}",
        IList list => "[" + string.Join(", ", list.Cast<object?>().Select(item => Repr(item))) + "]",
        JinjaFunction => "<function>",
        _ => value.ToString() ?? string.Empty,
    };

    public static string FormatDouble(double d) =>
        double.IsInteger(d) && Math.Abs(d) < 1e16 ? d.ToString("0.0", CultureInfo.InvariantCulture) : d.ToString("R", CultureInfo.InvariantCulture);

    public static IEnumerable<object?> Iterate(object? value) => value switch
    {
        null or JinjaUndefined => [],
        string s => EnumerateText(s),
        IDictionary<string, object?> map => map.Keys,
        IList list => list.Cast<object?>(),
        _ => throw new JinjaException($"{Repr(value)} is not iterable."),
    };

    public static bool AreEqual(object? left, object? right)
    {
        if (IsNumber(left) && IsNumber(right))
        {
            return ToDouble(left) == ToDouble(right);
        }

        return (left, right) switch
        {
            (null, null) => true,
            (JinjaUndefined, JinjaUndefined) => true,
            (string a, string b) => string.Equals(a, b, StringComparison.Ordinal),
            (IList a, IList b) => a.Count == b.Count && Enumerable.Range(0, a.Count).All(i => AreEqual(a[i], b[i])),
            _ => Equals(left, right),
        };
    }

    public static object? Binary(string op, object? left, object? right)
    {
        switch (op)
        {
            case "==":
                return AreEqual(left, right);
            case "!=":
                return !AreEqual(left, right);
            case "<" or ">" or "<=" or ">=":
                var comparison = Compare(left, right);
                return op switch { "<" => comparison < 0, ">" => comparison > 0, "<=" => comparison <= 0, _ => comparison >= 0 };
            case "in":
                return Contains(right, left);
            case "not in":
                return !Contains(right, left);
            case "~":
                return ToText(left) + ToText(right);
            case "+" when left is string || right is string:
                return ToText(left) + ToText(right);
            case "+" when left is IList a && right is IList b:
                return a.Cast<object?>().Concat(b.Cast<object?>()).ToList();
            case "*" when left is string text && right is long times:
                return string.Concat(Enumerable.Repeat(text, (int)Math.Max(0, times)));
        }

        if (!IsNumber(left) || !IsNumber(right))
        {
            throw new JinjaException($"Unsupported operands for {op}: {Repr(left)} and {Repr(right)}.");
        }

        if (left is long x && right is long y && op is not ("/" or "**"))
        {
            return op switch
            {
                "+" => x + y,
                "-" => x - y,
                "*" => x * y,
                "//" => y == 0 ? throw new JinjaException("Division by zero.") : (long)Math.Floor((double)x / y),
                "%" => y == 0 ? throw new JinjaException("Division by zero.") : ((x % y) + y) % y,
                _ => throw new JinjaException($"Unknown operator {op}."),
            };
        }

        var l = ToDouble(left);
        var r = ToDouble(right);
        return op switch
        {
            "+" => l + r,
            "-" => l - r,
            "*" => l * r,
            "/" => l / r,
            "//" => Math.Floor(l / r),
            "%" => l - (r * Math.Floor(l / r)),
            "**" => left is long && right is long && r >= 0 ? (object)(long)Math.Pow(l, r) : Math.Pow(l, r),
            _ => throw new JinjaException($"Unknown operator {op}."),
        };
    }

    public static object? Member(object? target, object? key)
    {
        switch (target)
        {
            case IDictionary<string, object?> map when key is string name:
                if (map.TryGetValue(name, out var value))
                {
                    return value;
                }

                return target is JinjaNamespace ? JinjaUndefined.Instance : JinjaBuiltins.DictionaryMethod(map, name);
            case IList list when key is long index:
                var at = index < 0 ? list.Count + index : index;
                return at >= 0 && at < list.Count ? list[(int)at] : JinjaUndefined.Instance;
            case IList list when key is string name:
                return JinjaBuiltins.ListMethod(list, name);
            case string text when key is long index:
                var position = index < 0 ? text.Length + index : index;
                return position >= 0 && position < text.Length ? text[(int)position].ToString() : JinjaUndefined.Instance;
            case string text when key is string name:
                return JinjaBuiltins.StringMethod(text, name);
            default:
                return JinjaUndefined.Instance;
        }
    }

    public static object? Slice(object? target, object? start, object? stop, object? step)
    {
        var items = target switch
        {
            string s => s.Select(c => (object?)c.ToString()).ToList(),
            IList list => list.Cast<object?>().ToList(),
            _ => throw new JinjaException($"{Repr(target)} cannot be sliced."),
        };

        var stride = step is long st ? st : 1;
        if (stride == 0)
        {
            throw new JinjaException("Slice step cannot be zero.");
        }

        var count = items.Count;
        long Clamp(object? bound, long fallback)
        {
            if (bound is not long value)
            {
                return fallback;
            }

            if (value < 0)
            {
                value += count;
            }

            return stride > 0 ? Math.Clamp(value, 0, count) : Math.Clamp(value, -1, count - 1);
        }

        var from = Clamp(start, stride > 0 ? 0 : count - 1);
        var to = Clamp(stop, stride > 0 ? count : -1);
        List<object?> result = [];
        for (var i = from; stride > 0 ? i < to : i > to; i += stride)
        {
            result.Add(items[(int)i]);
        }

        return target is string ? string.Concat(result.Cast<string>()) : result;
    }

    public static bool IsNumber(object? value) => value is long or double or bool;

    public static double ToDouble(object? value) => value switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => 0,
    };

    /// <summary><c>tojson</c> as Python's json.dumps(ensure_ascii=False): ", " and ": " separators unless indented.</summary>
    public static string ToJson(object? value, int? indent)
    {
        var builder = new StringBuilder();
        WriteJson(builder, value, indent, 0);
        return builder.ToString();
    }

    private static void WriteJson(StringBuilder builder, object? value, int? indent, int depth)
    {
        switch (value)
        {
            case null or JinjaUndefined:
                builder.Append("null");
                break;
            case bool b:
                builder.Append(b ? "true" : "false");
                break;
            case long l:
                builder.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                builder.Append(FormatDouble(d));
                break;
            case string s:
                WriteJsonString(builder, s);
                break;
            case IDictionary<string, object?> map:
                WriteJsonContainer(builder, '{', '}', map.Select(p => (Action)(() =>
                {
                    WriteJsonString(builder, p.Key);
                    builder.Append(": ");
                    WriteJson(builder, p.Value, indent, depth + 1);
                })).ToList(), indent, depth);
                break;
            case IList list:
                WriteJsonContainer(builder, '[', ']', list.Cast<object?>().Select(item => (Action)(() => WriteJson(builder, item, indent, depth + 1))).ToList(), indent, depth);
                break;
            default:
                WriteJsonString(builder, ToText(value));
                break;
        }
    }

    private static void WriteJsonContainer(StringBuilder builder, char open, char close, List<Action> items, int? indent, int depth)
    {
        builder.Append(open);
        if (items.Count == 0)
        {
            builder.Append(close);
            return;
        }

        for (var i = 0; i < items.Count; i++)
        {
            if (indent is { } size)
            {
                builder.Append(i == 0 ? "\n" : ",\n").Append(' ', size * (depth + 1));
            }
            else if (i > 0)
            {
                builder.Append(", ");
            }

            items[i]();
        }

        if (indent is { } width)
        {
            builder.Append('\n').Append(' ', width * depth);
        }

        builder.Append(close);
    }

    private static void WriteJsonString(StringBuilder builder, string text)
    {
        builder.Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case '\b': builder.Append("\\b"); break;
                case '\f': builder.Append("\\f"); break;
                case < ' ': builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)); break;
                default: builder.Append(c); break;
            }
        }

        builder.Append('"');
    }

    private static IEnumerable<object?> EnumerateText(string text)
    {
        var enumerator = StringInfo.GetTextElementEnumerator(text);
        while (enumerator.MoveNext())
        {
            yield return enumerator.GetTextElement();
        }
    }

    private static int Compare(object? left, object? right)
    {
        if (IsNumber(left) && IsNumber(right))
        {
            return ToDouble(left).CompareTo(ToDouble(right));
        }

        if (left is string a && right is string b)
        {
            return string.CompareOrdinal(a, b);
        }

        throw new JinjaException($"Cannot compare {Repr(left)} and {Repr(right)}.");
    }

    private static bool Contains(object? container, object? item) => container switch
    {
        string text => item is string part ? text.Contains(part, StringComparison.Ordinal) : throw new JinjaException("'in <string>' needs a string."),
        IDictionary<string, object?> map => item is string key && map.ContainsKey(key),
        IList list => list.Cast<object?>().Any(element => AreEqual(element, item)),
        null or JinjaUndefined => false,
        _ => throw new JinjaException($"{Repr(container)} is not a container."),
    };
}

/// <summary>Thrown by a template's <c>raise_exception()</c>: the conversation is not one the model accepts (HTTP 400).</summary>
internal static class TemplateErrors
{
    public static InferenceInputException Raised(string message) => new($"The model's chat template rejected the conversation: {message}");
}
