using System.Collections;
using System.Globalization;

namespace WebConsole.Inference.Generation.Templates;

/// <summary>The filters, tests, methods and globals chat templates use (transformers' set: Jinja's builtins plus raise_exception, strftime_now, tojson).</summary>
internal static class JinjaBuiltins
{
    public static object? Filter(string name, object? value, List<object?> arguments, Dictionary<string, object?> named)
    {
        object? Argument(int index, string key, object? fallback = null) =>
            index < arguments.Count ? arguments[index] : named.TryGetValue(key, out var given) ? given : fallback;

        switch (name)
        {
            case "length" or "count":
                return value switch
                {
                    string s => (long)s.Length,
                    ICollection c => (long)c.Count,
                    null or JinjaUndefined => 0L,
                    _ => throw new JinjaException($"{JinjaValues.Repr(value)} has no length."),
                };
            case "tojson":
                return JinjaValues.ToJson(value, Argument(0, "indent") is long indent ? (int)indent : null);
            case "trim":
                return JinjaValues.ToText(value).Trim();
            case "upper":
                return JinjaValues.ToText(value).ToUpperInvariant();
            case "lower":
                return JinjaValues.ToText(value).ToLowerInvariant();
            case "capitalize":
                return Capitalize(JinjaValues.ToText(value));
            case "title":
                return CultureInfo.InvariantCulture.TextInfo.ToTitleCase(JinjaValues.ToText(value).ToLowerInvariant());
            case "string":
                return JinjaValues.ToText(value);
            case "safe" or "e" or "escape" when name == "safe":
                return value;
            case "int":
                return value switch
                {
                    long l => l,
                    double d => (long)d,
                    bool b => b ? 1L : 0L,
                    string s when long.TryParse(s.Trim(), CultureInfo.InvariantCulture, out var parsed) => parsed,
                    _ => 0L,
                };
            case "float":
                return JinjaValues.ToDouble(value);
            case "abs":
                return value is long al ? Math.Abs(al) : Math.Abs(JinjaValues.ToDouble(value));
            case "round":
                return Math.Round(JinjaValues.ToDouble(value), Argument(0, "precision") is long digits ? (int)digits : 0, MidpointRounding.ToEven);
            case "default" or "d":
                var useOnFalse = JinjaValues.IsTrue(Argument(1, "boolean", false));
                return value is JinjaUndefined || (useOnFalse && !JinjaValues.IsTrue(value)) ? Argument(0, "default_value", string.Empty) : value;
            case "first":
                return JinjaValues.Iterate(value).DefaultIfEmpty(JinjaUndefined.Instance).First();
            case "last":
                return JinjaValues.Iterate(value).DefaultIfEmpty(JinjaUndefined.Instance).Last();
            case "list":
                return JinjaValues.Iterate(value).ToList();
            case "reverse":
                return value is string rs ? new string([.. rs.Reverse()]) : JinjaValues.Iterate(value).Reverse().ToList();
            case "unique":
                List<object?> unique = [];
                foreach (var item in JinjaValues.Iterate(value))
                {
                    if (!unique.Any(u => JinjaValues.AreEqual(u, item)))
                    {
                        unique.Add(item);
                    }
                }

                return unique;
            case "join":
                var attribute = Argument(1, "attribute") as string;
                return string.Join(
                    JinjaValues.ToText(Argument(0, "d", string.Empty)),
                    JinjaValues.Iterate(value).Select(item => JinjaValues.ToText(attribute is null ? item : JinjaValues.Member(item, attribute))));
            case "replace":
                return JinjaValues.ToText(value).Replace(JinjaValues.ToText(Argument(0, "old")), JinjaValues.ToText(Argument(1, "new")), StringComparison.Ordinal);
            case "items":
                return value is IDictionary<string, object?> map ? map.Select(p => (object?)new List<object?> { p.Key, p.Value }).ToList() : [];
            case "map":
                if (Argument(0, "attribute") is string mapped && !named.ContainsKey("attribute") && arguments.Count > 0)
                {
                    return JinjaValues.Iterate(value).Select(item => Filter(mapped, item, arguments.Skip(1).ToList(), [])).ToList();
                }

                var key = named.TryGetValue("attribute", out var attr) ? attr : Argument(0, "attribute");
                return JinjaValues.Iterate(value).Select(item => JinjaValues.Member(item, key)).ToList();
            case "selectattr" or "rejectattr":
                var select = name == "selectattr";
                var member = Argument(0, "attribute");
                var test = arguments.Count > 1 ? JinjaValues.ToText(arguments[1]) : null;
                var testArguments = arguments.Skip(2).ToList();
                return JinjaValues.Iterate(value).Where(item =>
                {
                    var field = JinjaValues.Member(item, member);
                    var passed = test is null ? JinjaValues.IsTrue(field) : Test(test, field, testArguments);
                    return passed == select;
                }).ToList();
            case "select" or "reject":
                var keep = name == "select";
                var check = arguments.Count > 0 ? JinjaValues.ToText(arguments[0]) : null;
                return JinjaValues.Iterate(value).Where(item =>
                    (check is null ? JinjaValues.IsTrue(item) : Test(check, item, arguments.Skip(1).ToList())) == keep).ToList();
            case "indent":
                var width = Argument(0, "width", 4L) is long w ? (int)w : 4;
                var pad = new string(' ', width);
                var lines = JinjaValues.ToText(value).Split('\n');
                var indentFirst = JinjaValues.IsTrue(Argument(1, "first", false));
                return string.Join('\n', lines.Select((line, i) => (i == 0 && !indentFirst) || line.Length == 0 ? line : pad + line));
            case "sort":
                var sorted = JinjaValues.Iterate(value).ToList();
                sorted.Sort((a, b) => JinjaValues.AreEqual(a, b) ? 0 : JinjaValues.IsTrue(JinjaValues.Binary("<", a, b)) ? -1 : 1);
                return sorted;
            case "dictsort":
                return value is IDictionary<string, object?> dictionary
                    ? dictionary.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (object?)new List<object?> { p.Key, p.Value }).ToList()
                    : [];
            default:
                throw new JinjaException($"Unknown filter '{name}'.");
        }
    }

    public static bool Test(string name, object? value, List<object?> arguments) => name switch
    {
        "defined" => value is not JinjaUndefined,
        "undefined" => value is JinjaUndefined,
        "none" => value is null,
        "string" => value is string,
        "number" => value is long or double,
        "integer" => value is long,
        "float" => value is double,
        "boolean" => value is bool,
        "true" => value is true,
        "false" => value is false,
        "mapping" => value is IDictionary<string, object?>,
        "sequence" or "iterable" => value is string or IList or IDictionary<string, object?>,
        "callable" => value is JinjaFunction,
        "odd" => value is long odd && odd % 2 != 0,
        "even" => value is long even && even % 2 == 0,
        "divisibleby" => value is long dividend && arguments.FirstOrDefault() is long divisor && divisor != 0 && dividend % divisor == 0,
        "equalto" or "eq" or "==" or "sameas" => JinjaValues.AreEqual(value, arguments.FirstOrDefault()),
        "ne" or "!=" => !JinjaValues.AreEqual(value, arguments.FirstOrDefault()),
        "in" => JinjaValues.IsTrue(JinjaValues.Binary("in", value, arguments.FirstOrDefault())),
        "lower" => value is string lower && !lower.Any(char.IsUpper),
        "upper" => value is string upper && !upper.Any(char.IsLower),
        _ => throw new JinjaException($"Unknown test '{name}'."),
    };

    public static object? StringMethod(string text, string name) => name switch
    {
        "startswith" => Method(args => Prefixes(args).Any(p => text.StartsWith(p, StringComparison.Ordinal))),
        "endswith" => Method(args => Prefixes(args).Any(p => text.EndsWith(p, StringComparison.Ordinal))),
        "strip" => Method(args => args.Count > 0 && args[0] is string chars ? text.Trim(chars.ToCharArray()) : text.Trim()),
        "lstrip" => Method(args => args.Count > 0 && args[0] is string chars ? text.TrimStart(chars.ToCharArray()) : text.TrimStart()),
        "rstrip" => Method(args => args.Count > 0 && args[0] is string chars ? text.TrimEnd(chars.ToCharArray()) : text.TrimEnd()),
        "upper" => Method(_ => text.ToUpperInvariant()),
        "lower" => Method(_ => text.ToLowerInvariant()),
        "title" => Method(_ => CultureInfo.InvariantCulture.TextInfo.ToTitleCase(text.ToLowerInvariant())),
        "capitalize" => Method(_ => Capitalize(text)),
        "replace" => Method(args => text.Replace(JinjaValues.ToText(args[0]), JinjaValues.ToText(args[1]), StringComparison.Ordinal)),
        "find" => Method(args => (long)text.IndexOf(JinjaValues.ToText(args[0]), StringComparison.Ordinal)),
        "count" => Method(args => (long)CountOccurrences(text, JinjaValues.ToText(args[0]))),
        "isdigit" => Method(_ => text.Length > 0 && text.All(char.IsDigit)),
        "isspace" => Method(_ => text.Length > 0 && text.All(char.IsWhiteSpace)),
        "join" => Method(args => string.Join(text, JinjaValues.Iterate(args[0]).Select(JinjaValues.ToText))),
        "split" => Method(args =>
        {
            if (args.Count == 0 || args[0] is null)
            {
                return text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(s => (object?)s).ToList();
            }

            var separator = JinjaValues.ToText(args[0]);
            var limit = args.Count > 1 && args[1] is long max && max >= 0 ? (int)max + 1 : int.MaxValue;
            return text.Split(separator, limit).Select(s => (object?)s).ToList();
        }),
        _ => JinjaUndefined.Instance,
    };

    public static object? DictionaryMethod(IDictionary<string, object?> map, string name) => name switch
    {
        "items" => Method(_ => map.Select(p => (object?)new List<object?> { p.Key, p.Value }).ToList()),
        "keys" => Method(_ => map.Keys.Select(k => (object?)k).ToList()),
        "values" => Method(_ => map.Values.ToList()),
        "get" => Method(args => args.Count > 0 && args[0] is string key && map.TryGetValue(key, out var value) ? value : args.Count > 1 ? args[1] : null),
        _ => JinjaUndefined.Instance,
    };

    public static object? ListMethod(IList list, string name) => name switch
    {
        "index" => Method(args => (long)list.Cast<object?>().ToList().FindIndex(item => JinjaValues.AreEqual(item, args[0]))),
        "count" => Method(args => (long)list.Cast<object?>().Count(item => JinjaValues.AreEqual(item, args[0]))),
        "append" => Method(args =>
        {
            list.Add(args[0]);
            return null;
        }),
        _ => JinjaUndefined.Instance,
    };

    /// <summary>Globals every render sees.</summary>
    public static void AddGlobals(Scope scope, TimeProvider timeProvider)
    {
        scope.Set("range", new JinjaFunction((args, _) =>
        {
            var numbers = args.Select(a => a is long l ? l : (long)JinjaValues.ToDouble(a)).ToList();
            var (start, stop, step) = numbers.Count switch
            {
                1 => (0L, numbers[0], 1L),
                2 => (numbers[0], numbers[1], 1L),
                _ => (numbers[0], numbers[1], numbers[2]),
            };
            List<object?> result = [];
            for (var i = start; step > 0 ? i < stop : i > stop; i += step)
            {
                result.Add(i);
            }

            return result;
        }));
        scope.Set("namespace", new JinjaFunction((_, named) =>
        {
            var ns = new JinjaNamespace();
            foreach (var (key, value) in named)
            {
                ns[key] = value;
            }

            return ns;
        }));
        scope.Set("dict", new JinjaFunction((_, named) => new Dictionary<string, object?>(named, StringComparer.Ordinal)));
        scope.Set("raise_exception", new JinjaFunction((args, _) => throw TemplateErrors.Raised(args.Count > 0 ? JinjaValues.ToText(args[0]) : "error")));
        scope.Set("strftime_now", new JinjaFunction((args, _) => StrFTime(timeProvider.GetLocalNow(), JinjaValues.ToText(args.FirstOrDefault()))));
    }

    private static JinjaFunction Method(Func<List<object?>, object?> body) => new((args, _) => body(args));

    private static IEnumerable<string> Prefixes(List<object?> args) =>
        args.Count == 0 ? [] : args[0] is IList list ? list.Cast<object?>().Select(JinjaValues.ToText) : [JinjaValues.ToText(args[0])];

    private static string Capitalize(string text) =>
        text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..].ToLowerInvariant();

    private static int CountOccurrences(string text, string part)
    {
        if (part.Length == 0)
        {
            return text.Length + 1;
        }

        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static string StrFTime(DateTimeOffset now, string format)
    {
        var builder = new System.Text.StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                builder.Append(format[i]);
                continue;
            }

            var code = format[++i];
            builder.Append(code switch
            {
                'd' => now.ToString("dd", CultureInfo.InvariantCulture),
                'm' => now.ToString("MM", CultureInfo.InvariantCulture),
                'Y' => now.ToString("yyyy", CultureInfo.InvariantCulture),
                'y' => now.ToString("yy", CultureInfo.InvariantCulture),
                'b' => now.ToString("MMM", CultureInfo.InvariantCulture),
                'B' => now.ToString("MMMM", CultureInfo.InvariantCulture),
                'a' => now.ToString("ddd", CultureInfo.InvariantCulture),
                'A' => now.ToString("dddd", CultureInfo.InvariantCulture),
                'H' => now.ToString("HH", CultureInfo.InvariantCulture),
                'M' => now.ToString("mm", CultureInfo.InvariantCulture),
                'S' => now.ToString("ss", CultureInfo.InvariantCulture),
                '%' => "%",
                _ => "%" + code,
            });
        }

        return builder.ToString();
    }
}
