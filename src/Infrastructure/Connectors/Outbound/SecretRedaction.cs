namespace WebConsole.Infrastructure.Connectors.Outbound;

/// <summary>Keeps credentials out of log lines and error messages.</summary>
public static class SecretRedaction
{
    /// <summary>Headers that carry credentials with every provider; their values are never logged.</summary>
    public static IReadOnlyList<string> CredentialHeaders { get; } = ["Authorization", "api-key", "x-api-key", "x-goog-api-key", "Proxy-Authorization"];

    /// <summary>What a redacted secret reads as.</summary>
    public const string Mask = "[REDACTED]";

    /// <summary>
    /// <paramref name="text"/> with every occurrence of each secret (4 characters or longer, and its Bearer/Basic forms
    /// alike) replaced by <see cref="Mask"/>.
    /// </summary>
    public static string Redact(string text, IEnumerable<string?>? secrets)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (secrets is null)
        {
            return text;
        }

        foreach (var secret in secrets.Where(s => s is { Length: >= 4 }).OrderByDescending(s => s!.Length))
        {
            text = text.Replace(secret!, Mask, StringComparison.Ordinal);
        }

        return text;
    }

    /// <summary>A URI for logs and errors: scheme, host, port and path only (query strings may carry keys).</summary>
    public static string DescribeUri(Uri? uri) =>
        uri is null ? "-" : uri.IsAbsoluteUri ? uri.GetLeftPart(UriPartial.Path) : uri.OriginalString.Split('?')[0];
}
