using System.Text.Json;
using System.Text.Json.Nodes;
using WebConsole.Domain;

namespace WebConsole.Infrastructure.Secrets;

/// <summary>Service settings split for storage: the JSON that may be shown, and the encrypted secret fields.</summary>
/// <param name="ServiceSettings">The settings without secret fields, a JSON object.</param>
/// <param name="SecretSettings">The secret fields as one protected blob; null when the settings held none.</param>
public sealed record ProtectedServiceSettings(string ServiceSettings, string? SecretSettings);

/// <summary>
/// Keeps secret fields of a service's settings (<c>api_key</c> and the like) out of the stored and returned settings:
/// <see cref="Split"/> moves them into one blob encrypted under <see cref="SecretPurposes.ServiceSettings"/>,
/// <see cref="Merge"/> puts them back for the connector that needs them. Thread-safe.
/// </summary>
public sealed class ServiceSettingsSecrets(ISecretProtector protector)
{
    private readonly ISecretProtector _protector = protector;

    /// <summary>
    /// Splits <paramref name="serviceSettings"/> (a JSON object) into the non-secret settings and the protected secrets;
    /// fields named in <paramref name="secretFields"/> (ordinal names) are the secrets.
    /// </summary>
    public ProtectedServiceSettings Split(string serviceSettings, IReadOnlyCollection<string> secretFields)
    {
        ArgumentNullException.ThrowIfNull(secretFields);
        var settings = ParseObject(serviceSettings, "service_settings");
        var secrets = new JsonObject();
        foreach (var name in secretFields)
        {
            if (settings.Remove(name, out var value))
            {
                secrets[name] = value;
            }
        }

        var protectedSecrets = secrets.Count == 0
            ? null
            : _protector.Protect(secrets.ToJsonString(), SecretPurposes.ServiceSettings);
        return new ProtectedServiceSettings(settings.ToJsonString(), protectedSecrets);
    }

    /// <summary>
    /// The settings with their secret fields restored, for the code that calls the provider; never return the result to
    /// a client. A secret field wins over a non-secret one of the same name.
    /// </summary>
    public string Merge(string serviceSettings, string? secretSettings)
    {
        var settings = ParseObject(serviceSettings, "service_settings");
        foreach (var (name, value) in ReadSecrets(secretSettings))
        {
            settings[name] = value?.DeepClone();
        }

        return settings.ToJsonString();
    }

    /// <summary>The secret fields alone (empty when <paramref name="secretSettings"/> is null).</summary>
    public JsonObject ReadSecrets(string? secretSettings)
    {
        if (secretSettings is null)
        {
            return [];
        }

        var json = _protector.Unprotect(secretSettings, SecretPurposes.ServiceSettings);
        return ParseObject(json, "secret_settings");
    }

    private static JsonObject ParseObject(string json, string name)
    {
        try
        {
            return JsonNode.Parse(string.IsNullOrWhiteSpace(json) ? "{}" : json) as JsonObject
                ?? throw new DomainValidationException($"[{name}] must be a JSON object");
        }
        catch (JsonException ex)
        {
            throw new DomainValidationException($"[{name}] must be a JSON object", ex);
        }
    }
}
