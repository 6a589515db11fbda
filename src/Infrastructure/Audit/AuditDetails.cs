using System.Text.Json;
using System.Text.Json.Nodes;

namespace WebConsole.Infrastructure.Audit;

/// <summary>
/// Keeps secrets out of audit details. Callers should never pass one, but details are often a request body turned into
/// JSON, so fields whose names say "secret" are masked before anything is written.
/// </summary>
public static class AuditDetails
{
    /// <summary>What a masked value reads as.</summary>
    public const string Redacted = "[redacted]";

    // Matched as substrings of lower-cased field names: api_key, apiKey, client_secret, password, access_token, encoded ...
    private static readonly string[] SecretNameParts = ["secret", "password", "passwd", "token", "api_key", "apikey", "encoded", "credential", "authorization", "private_key"];

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>Whether a field of this name holds a secret.</summary>
    public static bool IsSecretField(string name)
    {
        var lower = name.ToLowerInvariant();
        return SecretNameParts.Any(part => lower.Contains(part, StringComparison.Ordinal));
    }

    /// <summary>Serializes <paramref name="value"/> as JSON with secret fields masked.</summary>
    public static string ToJson(object value) => Redact(JsonSerializer.SerializeToNode(value, JsonOptions)) ?? "null";

    /// <summary>
    /// Masks secret fields of a JSON details text at any depth; text that is not JSON is kept as is (it is the caller's
    /// own wording, not a request body).
    /// </summary>
    public static string? Redact(string? details)
    {
        if (string.IsNullOrWhiteSpace(details) || details.TrimStart()[0] is not ('{' or '['))
        {
            return details;
        }

        try
        {
            return Redact(JsonNode.Parse(details));
        }
        catch (JsonException)
        {
            return details;
        }
    }

    private static string? Redact(JsonNode? node)
    {
        Mask(node);
        return node?.ToJsonString();
    }

    private static void Mask(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in obj.Select(p => p.Key).ToList())
                {
                    if (IsSecretField(name) && obj[name] is not null)
                    {
                        obj[name] = Redacted;
                    }
                    else
                    {
                        Mask(obj[name]);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Mask(item);
                }

                break;
        }
    }
}
