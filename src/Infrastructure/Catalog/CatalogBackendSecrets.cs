using System.Text.Json.Nodes;
using WebConsole.Infrastructure.Secrets;

namespace WebConsole.Infrastructure.Catalog;

/// <summary>
/// Keeps the operator's credentials of upstream backends out of the stored and shown settings: the secret fields move into
/// one blob encrypted under their own purpose (a blob copied into a tenant endpoint's secrets does not decrypt there).
/// Thread-safe.
/// </summary>
public sealed class CatalogBackendSecrets(ISecretProtector protector)
{
    /// <summary>The purpose the secrets are protected under.</summary>
    public const string Purpose = "WebConsole.CatalogBackend.v1";

    /// <summary>The settings without <paramref name="secretFields"/>, and those fields as a protected blob (null when none).</summary>
    public (JsonObject Settings, string? Secrets) Split(JsonObject serviceSettings, IEnumerable<string> secretFields)
    {
        ArgumentNullException.ThrowIfNull(serviceSettings);
        ArgumentNullException.ThrowIfNull(secretFields);
        var settings = serviceSettings.DeepClone().AsObject();
        var secrets = new JsonObject();
        foreach (var name in secretFields)
        {
            if (settings.Remove(name, out var value))
            {
                secrets[name] = value;
            }
        }

        return (settings, secrets.Count == 0 ? null : protector.Protect(secrets.ToJsonString(), Purpose));
    }

    /// <summary>The settings with their secrets restored, for the connector that calls the provider; never show the result.</summary>
    public JsonObject Merge(string? serviceSettings, string? secrets)
    {
        var settings = string.IsNullOrWhiteSpace(serviceSettings) ? [] : JsonNode.Parse(serviceSettings)!.AsObject();
        if (secrets is not null && JsonNode.Parse(protector.Unprotect(secrets, Purpose)) is JsonObject restored)
        {
            foreach (var (name, value) in restored)
            {
                settings[name] = value?.DeepClone();
            }
        }

        return settings;
    }
}
