using System.Text.RegularExpressions;

namespace WebConsole.Domain.Endpoints;

/// <summary>
/// An inference endpoint id, following Elasticsearch's id rules: lowercase letters, digits, hyphens, underscores and
/// dots, starting and ending with a letter or digit. Reserved (built-in) ids carry a leading dot.
/// </summary>
public readonly partial record struct InferenceId
{
    /// <summary>Longest id accepted; bounded so the id can be indexed on every database.</summary>
    public const int MaxLength = 256;

    private InferenceId(string value) => Value = value;

    /// <summary>The id as clients write it.</summary>
    public string Value { get; }

    /// <summary>Whether this is a reserved (built-in) id: it starts with a dot.</summary>
    public bool IsReserved => Value is ['.', ..];

    /// <summary>Validates an id; throws <see cref="DomainValidationException"/> with Elasticsearch's message.</summary>
    public static InferenceId Parse(string? value) =>
        TryParse(value, out var id)
            ? id
            : throw new DomainValidationException(
                $"Invalid inference_id; '{value}' can contain lowercase alphanumeric (a-z and 0-9), hyphens or underscores; must start and end with alphanumeric");

    /// <summary>Validates an id; false when it breaks the rules.</summary>
    public static bool TryParse(string? value, out InferenceId id)
    {
        id = default;
        if (value is null || value.Length > MaxLength)
        {
            return false;
        }

        var body = value.StartsWith('.') ? value[1..] : value;
        if (!IdPattern().IsMatch(body))
        {
            return false;
        }

        id = new InferenceId(value);
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => Value ?? string.Empty;

    [GeneratedRegex(@"^[a-z0-9](?:[a-z0-9_\-.]*[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();
}
