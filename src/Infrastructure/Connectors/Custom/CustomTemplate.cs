using System.Text;

namespace WebConsole.Infrastructure.Connectors.Custom;

/// <summary>
/// A text with <c>${name}</c> placeholders (a name runs to the first <c>}</c> and holds no line break, as in
/// Elasticsearch), split once into literal parts and placeholders. Rendering is a single pass: a value is never scanned
/// for placeholders again, so an input that happens to contain <c>${api_key}</c> cannot pull a secret into the request.
/// Immutable and thread-safe.
/// </summary>
public sealed class CustomTemplate
{
    private readonly IReadOnlyList<(string Text, bool IsPlaceholder)> _parts;

    private CustomTemplate(string source, string field, IReadOnlyList<(string Text, bool IsPlaceholder)> parts)
    {
        Source = source;
        Field = field;
        _parts = parts;
    }

    /// <summary>The template as written.</summary>
    public string Source { get; }

    /// <summary>Which setting the template is (<c>request</c>, <c>url</c>, <c>header.X</c>, ...), for error messages.</summary>
    public string Field { get; }

    /// <summary>The placeholder names, in order of appearance (repeats included).</summary>
    public IEnumerable<string> Placeholders => _parts.Where(p => p.IsPlaceholder).Select(p => p.Text);

    /// <summary>Splits <paramref name="source"/> into literal text and placeholders.</summary>
    public static CustomTemplate Parse(string source, string field)
    {
        ArgumentNullException.ThrowIfNull(source);
        var parts = new List<(string, bool)>();
        var literal = new StringBuilder();
        var position = 0;
        while (position < source.Length)
        {
            var start = source.IndexOf("${", position, StringComparison.Ordinal);
            if (start < 0)
            {
                break;
            }

            var end = source.IndexOf('}', start + 2);
            var lineBreak = source.IndexOfAny(['\n', '\r'], start + 2);
            if (end < 0 || (lineBreak >= 0 && lineBreak < end))
            {
                // Not a placeholder: keep "${" as text and look further on.
                literal.Append(source, position, start + 2 - position);
                position = start + 2;
                continue;
            }

            literal.Append(source, position, start - position);
            if (literal.Length > 0)
            {
                parts.Add((literal.ToString(), false));
                literal.Clear();
            }

            parts.Add((source[(start + 2)..end], true));
            position = end + 1;
        }

        literal.Append(source, position, source.Length - position);
        if (literal.Length > 0)
        {
            parts.Add((literal.ToString(), false));
        }

        return new CustomTemplate(source, field, parts);
    }

    /// <summary>
    /// The first placeholder that <paramref name="isKnown"/> does not know, as Elasticsearch's message names it:
    /// <c>Found placeholder [${x}] in field [request] after replacement call</c>; null when all are known.
    /// </summary>
    public string? FindUnknown(Func<string, bool> isKnown)
    {
        ArgumentNullException.ThrowIfNull(isKnown);
        return Placeholders.FirstOrDefault(name => !isKnown(name)) is { } unknown ? UnknownMessage(unknown) : null;
    }

    /// <summary>
    /// Replaces every placeholder with its value from <paramref name="values"/>; a placeholder without a value throws
    /// <see cref="CustomTemplateException"/> naming it.
    /// </summary>
    public string Render(IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var text = new StringBuilder(Source.Length + 64);
        foreach (var (part, isPlaceholder) in _parts)
        {
            if (!isPlaceholder)
            {
                text.Append(part);
            }
            else if (values.TryGetValue(part, out var value))
            {
                text.Append(value);
            }
            else
            {
                throw new CustomTemplateException(part, UnknownMessage(part));
            }
        }

        return text.ToString();
    }

    private string UnknownMessage(string name) => $"Found placeholder [${{{name}}}] in field [{Field}] after replacement call";
}

/// <summary>A template has a placeholder that nothing fills.</summary>
public sealed class CustomTemplateException(string placeholder, string message) : Exception(message)
{
    /// <summary>The placeholder's name, without <c>${</c> and <c>}</c>.</summary>
    public string Placeholder { get; } = placeholder;
}
