using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace WebConsole.Infrastructure.Endpoints;

/// <summary>
/// Reads settings out of a JSON object the way Elasticsearch's ServiceUtils do: each read removes the key, so what is
/// left at the end is unknown and <see cref="ThrowIfNotEmpty"/> rejects it by name.
/// </summary>
public sealed class JsonSettings
{
    private readonly JsonObject _map;
    private readonly string _section;

    /// <summary>Wraps a copy of <paramref name="map"/> (the original is left as it was).</summary>
    public JsonSettings(JsonObject? map, string section)
    {
        _map = map?.DeepClone().AsObject() ?? [];
        _section = section;
    }

    /// <summary>Whether a key is present.</summary>
    public bool Has(string key) => _map.ContainsKey(key);

    /// <summary>A required string; 400 naming it when absent.</summary>
    public string RequiredString(string key) =>
        OptionalString(key) ?? throw InferenceApiException.MissingSetting(key, _section);

    /// <summary>An optional string; 400 when not a string.</summary>
    public string? OptionalString(string key)
    {
        if (!_map.Remove(key, out var node) || node is null)
        {
            return null;
        }

        if (node.GetValueKind() != JsonValueKind.String || node.GetValue<string>() is not { Length: > 0 } text)
        {
            throw InferenceApiException.BadRequest($"[{_section}] Invalid value [{node.ToJsonString()}]. [{key}] must be a non-empty string");
        }

        return text;
    }

    /// <summary>An optional integer; 400 when not a whole number.</summary>
    public int? OptionalInt(string key)
    {
        if (!_map.Remove(key, out var node) || node is null)
        {
            return null;
        }

        if (node.GetValueKind() == JsonValueKind.Number && node.AsValue().TryGetValue<int>(out var number))
        {
            return number;
        }

        if (node.GetValueKind() == JsonValueKind.String && int.TryParse(node.GetValue<string>(), NumberStyles.Integer, CultureInfo.InvariantCulture, out number))
        {
            return number;
        }

        throw InferenceApiException.BadRequest($"[{_section}] Invalid value [{node.ToJsonString()}]. [{key}] must be an integer");
    }

    /// <summary>An optional boolean; 400 when not a boolean.</summary>
    public bool? OptionalBool(string key)
    {
        if (!_map.Remove(key, out var node) || node is null)
        {
            return null;
        }

        return node.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String when bool.TryParse(node.GetValue<string>(), out var parsed) => parsed,
            _ => throw InferenceApiException.BadRequest($"[{_section}] Invalid value [{node.ToJsonString()}]. [{key}] must be a boolean"),
        };
    }

    /// <summary>An optional nested object, to be read with its own <see cref="JsonSettings"/>.</summary>
    public JsonSettings? OptionalObject(string key)
    {
        if (!_map.Remove(key, out var node) || node is null)
        {
            return null;
        }

        return node is JsonObject nested
            ? new JsonSettings(nested, key)
            : throw InferenceApiException.BadRequest($"[{_section}] Invalid value [{node.ToJsonString()}]. [{key}] must be an object");
    }

    /// <summary>
    /// 400 <c>Configuration contains settings [{k=v}] unknown to the [svc] service</c> when keys are left over.
    /// </summary>
    public void ThrowIfNotEmpty(string service)
    {
        if (_map.Count > 0)
        {
            throw InferenceApiException.UnknownSettings(service, _map.Select(p => KeyValuePair.Create(p.Key, Describe(p.Value))));
        }
    }

    /// <summary>A value as Java's Map.toString writes it (strings bare).</summary>
    public static string Describe(JsonNode? value) =>
        value is null ? "null"
        : value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>()
        : value.ToJsonString();
}
