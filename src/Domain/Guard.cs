namespace WebConsole.Domain;

/// <summary>Guard clauses shared by the entities' factories.</summary>
internal static class Guard
{
    public static string NotBlank(string? value, string name, int maxLength = int.MaxValue)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new DomainValidationException($"[{name}] must not be empty");
        }

        var trimmed = value.Trim();
        if (trimmed.Length > maxLength)
        {
            throw new DomainValidationException($"[{name}] must be at most {maxLength} characters");
        }

        return trimmed;
    }

    /// <summary>
    /// A display name: not blank, at most <paramref name="maxLength"/> characters, and free of control characters and of
    /// the bidirectional overrides that make a name read differently from what it is (terminal escapes, spoofed names).
    /// </summary>
    public static string Name(string? value, string name, int maxLength)
    {
        var trimmed = NotBlank(value, name, maxLength);
        foreach (var c in trimmed)
        {
            if (char.IsControl(c) || c is >= '\u202A' and <= '\u202E' or >= '\u2066' and <= '\u2069')
            {
                throw new DomainValidationException($"[{name}] must not contain control characters (found U+{(int)c:X4})");
            }
        }

        return trimmed;
    }

    public static Guid NotEmpty(Guid value, string name)
    {
        if (value == Guid.Empty)
        {
            throw new DomainValidationException($"[{name}] must not be empty");
        }

        return value;
    }

    public static long NotNegative(long value, string name)
    {
        if (value < 0)
        {
            throw new DomainValidationException($"[{name}] must not be negative, got [{value}]");
        }

        return value;
    }

    public static decimal NotNegative(decimal value, string name)
    {
        if (value < 0)
        {
            throw new DomainValidationException($"[{name}] must not be negative, got [{value}]");
        }

        return value;
    }

    /// <summary>
    /// Times are kept in UTC: PostgreSQL's timestamptz accepts only offset zero, and comparisons stay obvious.
    /// </summary>
    public static DateTimeOffset Utc(DateTimeOffset value) => value.ToUniversalTime();

    public static string JsonObject(string? json, string name)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return "{}";
        }

        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
            {
                throw new DomainValidationException($"[{name}] must be a JSON object");
            }
        }
        catch (System.Text.Json.JsonException exception)
        {
            throw new DomainValidationException($"[{name}] must be a JSON object", exception);
        }

        return json;
    }

    public static string CurrencyCode(string? currency)
    {
        var code = NotBlank(currency, "currency").ToUpperInvariant();
        if (code.Length != 3 || !code.All(char.IsAsciiLetterUpper))
        {
            throw new DomainValidationException($"[currency] must be a three-letter ISO 4217 code, got [{currency}]");
        }

        return code;
    }
}
