using System.Globalization;
using System.Text;
using System.Text.Json;

namespace WebConsole.Infrastructure.Connectors.Custom;

/// <summary>
/// The subset of JSONPath the <c>custom</c> service's response parsers use: <c>$</c> followed by <c>.field</c>,
/// <c>[*]</c> and <c>[n]</c> steps. Unlike JSONPath, a wildcard keeps the nesting of what it gathers
/// (<c>$.data[*].embedding[*]</c> is a list of lists, one per item of <c>data</c>), as Elasticsearch's extractor does, so
/// the parsers can tell one input's embedding from the next. Immutable and thread-safe.
/// </summary>
public sealed class JsonPath
{
    private readonly IReadOnlyList<Step> _steps;

    private JsonPath(string text, IReadOnlyList<Step> steps)
    {
        Text = text;
        _steps = steps;
    }

    /// <summary>The path as written.</summary>
    public string Text { get; }

    /// <summary>Parses a path; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static JsonPath Parse(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var text = path.Trim();
        if (!text.StartsWith('$'))
        {
            throw new FormatException($"Path [{text}] must start with a dollar sign ($)");
        }

        var steps = new List<Step>();
        var position = 1;
        while (position < text.Length)
        {
            if (text[position] == '.')
            {
                var end = position + 1;
                while (end < text.Length && text[end] is not ('.' or '['))
                {
                    end++;
                }

                if (end == position + 1)
                {
                    throw new FormatException($"Path [{text}] has an empty field name at position [{position}]");
                }

                steps.Add(Step.Field(text[(position + 1)..end]));
                position = end;
            }
            else if (text[position] == '[')
            {
                var close = text.IndexOf(']', position);
                if (close < 0)
                {
                    throw new FormatException($"Path [{text}] has an unclosed [ at position [{position}]");
                }

                var inside = text[(position + 1)..close];
                if (inside == "*")
                {
                    steps.Add(Step.Wildcard);
                }
                else if (int.TryParse(inside, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    steps.Add(Step.Index(index));
                }
                else
                {
                    throw new FormatException($"Path [{text}] has an invalid array step [{inside}]; use [*] or a non-negative index");
                }

                position = close + 1;
            }
            else
            {
                throw new FormatException($"Path [{text}] is invalid at position [{position}]; fields must be delimited by a dot");
            }
        }

        return new JsonPath(text, steps);
    }

    /// <summary>
    /// What the path selects in <paramref name="root"/>; throws <see cref="CustomResponseException"/> where the document does
    /// not have the path's shape (a missing field, a step into the wrong kind of value, an index past the end).
    /// </summary>
    public JsonPathValue Evaluate(JsonElement root) => Navigate(root, 0, new StringBuilder("$"));

    /// <inheritdoc />
    public override string ToString() => Text;

    private JsonPathValue Navigate(JsonElement current, int stepIndex, StringBuilder at)
    {
        if (stepIndex == _steps.Count)
        {
            return JsonPathValue.Of(current, at.ToString());
        }

        var step = _steps[stepIndex];
        var length = at.Length;
        try
        {
            switch (step.Kind)
            {
                case StepKind.Field:
                    at.Append('.').Append(step.Name);
                    if (current.ValueKind != JsonValueKind.Object)
                    {
                        throw new CustomResponseException(
                            $"Field [{at}] cannot be read: the value at [{at.ToString(0, length)}] is {Describe(current.ValueKind)}, not an object");
                    }

                    if (!current.TryGetProperty(step.Name!, out var field) || field.ValueKind == JsonValueKind.Null)
                    {
                        throw new CustomResponseException($"Unable to find field [{at}] in the response");
                    }

                    return Navigate(field, stepIndex + 1, at);
                case StepKind.Index:
                    at.Append('[').Append(step.Position.ToString(CultureInfo.InvariantCulture)).Append(']');
                    if (current.ValueKind != JsonValueKind.Array)
                    {
                        throw new CustomResponseException(
                            $"Element [{at}] cannot be read: the value at [{at.ToString(0, length)}] is {Describe(current.ValueKind)}, not a list");
                    }

                    if (step.Position >= current.GetArrayLength())
                    {
                        throw new CustomResponseException(
                            $"Index [{step.Position}] of [{at.ToString(0, length)}] is out of bounds for a list of size [{current.GetArrayLength()}]");
                    }

                    return Navigate(current[step.Position], stepIndex + 1, at);
                default:
                    at.Append("[*]");
                    if (current.ValueKind != JsonValueKind.Array)
                    {
                        throw new CustomResponseException(
                            $"Path [{at}] expects a list at [{at.ToString(0, length)}] but found {Describe(current.ValueKind)}");
                    }

                    var items = new List<JsonPathValue>(current.GetArrayLength());
                    foreach (var item in current.EnumerateArray())
                    {
                        // As Elasticsearch's extractor: null items are left out of what a wildcard gathers.
                        if (item.ValueKind != JsonValueKind.Null)
                        {
                            items.Add(Navigate(item, stepIndex + 1, at));
                        }
                    }

                    return JsonPathValue.Of(items, at.ToString());
            }
        }
        finally
        {
            at.Length = length;
        }
    }

    internal static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private enum StepKind
    {
        Field,
        Index,
        Wildcard,
    }

    private sealed record Step(StepKind Kind, string? Name, int Position)
    {
        public static readonly Step Wildcard = new(StepKind.Wildcard, null, 0);

        public static Step Field(string name) => new(StepKind.Field, name, 0);

        public static Step Index(int position) => new(StepKind.Index, null, position);
    }
}

/// <summary>
/// What a <see cref="JsonPath"/> selected: one JSON value, or the list a wildcard gathered (whose items are again
/// values or lists). A JSON array reached without a wildcard is read as a list too.
/// </summary>
public sealed class JsonPathValue
{
    private readonly JsonElement _element;
    private readonly IReadOnlyList<JsonPathValue>? _items;

    private JsonPathValue(JsonElement element, IReadOnlyList<JsonPathValue>? items, string location)
    {
        _element = element;
        _items = items;
        Location = location;
    }

    /// <summary>Where in the document the value was found, as a path (for error messages).</summary>
    public string Location { get; }

    /// <summary>The items when this is a list (gathered by a wildcard or a JSON array); otherwise null.</summary>
    public IReadOnlyList<JsonPathValue>? Items => _items
        ?? (_element.ValueKind == JsonValueKind.Array
            ? [.. _element.EnumerateArray().Select((e, i) => new JsonPathValue(e, null, $"{Location}[{i}]"))]
            : null);

    /// <summary>The JSON kind: <see cref="JsonValueKind.Array"/> for gathered lists.</summary>
    public JsonValueKind Kind => _items is null ? _element.ValueKind : JsonValueKind.Array;

    internal static JsonPathValue Of(JsonElement element, string location) => new(element, null, location);

    internal static JsonPathValue Of(IReadOnlyList<JsonPathValue> items, string location) => new(default, items, location);

    /// <summary>The list's items; throws <see cref="CustomResponseException"/> when this is not a list.</summary>
    public IReadOnlyList<JsonPathValue> AsList() => Items
        ?? throw new CustomResponseException($"Extracted field [{Location}] is {JsonPath.Describe(Kind)}, expected a list");

    /// <summary>The number; throws <see cref="CustomResponseException"/> when this is not a number.</summary>
    public double AsNumber() => Kind == JsonValueKind.Number
        ? _element.GetDouble()
        : throw new CustomResponseException($"Unable to convert field [{Location}] of type [{Type}] to a number");

    /// <summary>A whole number in the range of <see cref="int"/>; throws <see cref="CustomResponseException"/> otherwise.</summary>
    public int AsInt32() => Kind == JsonValueKind.Number && _element.TryGetInt32(out var value)
        ? value
        : throw new CustomResponseException($"Unable to convert field [{Location}] of type [{Type}] to an integer");

    /// <summary>The string; throws <see cref="CustomResponseException"/> when this is not a string.</summary>
    public string AsString() => Kind == JsonValueKind.String
        ? _element.GetString()!
        : throw new CustomResponseException($"Unable to convert field [{Location}] of type [{Type}] to a string");

    /// <summary>A string as is, a number as its JSON text (token ids); throws for other kinds.</summary>
    public string AsToken() => Kind switch
    {
        JsonValueKind.String => _element.GetString()!,
        JsonValueKind.Number => _element.GetRawText(),
        _ => throw new CustomResponseException($"Unable to convert field [{Location}] of type [{Type}] to a token"),
    };

    private string Type => Kind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "list",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };
}

/// <summary>A provider's response does not have the shape the endpoint's <c>json_parser</c> describes.</summary>
public sealed class CustomResponseException(string message) : Exception(message);
