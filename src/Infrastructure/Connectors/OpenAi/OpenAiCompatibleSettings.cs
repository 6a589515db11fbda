using System.Text.Json.Nodes;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Infrastructure.Connectors.OpenAi;

/// <summary>
/// Typed settings of an OpenAI-compatible endpoint (<c>openai</c>, <c>mistral</c>, <c>groq</c>, <c>deepseek</c>,
/// <c>azureopenai</c>); which of them a service accepts is its <see cref="OpenAiCompatibleProfile"/>'s business.
/// </summary>
public sealed record OpenAiCompatibleSettings : EndpointSettings
{
    /// <summary>The service's profile (setting names, defaults, URLs).</summary>
    public required OpenAiCompatibleProfile Profile { get; init; }

    /// <summary>The provider's model (<c>model_id</c>, or Mistral's <c>model</c>); null for Azure, whose deployment names it.</summary>
    public string? ModelId { get; init; }

    /// <summary>The API key (secret).</summary>
    public string? ApiKey { get; init; }

    /// <summary>Azure's Microsoft Entra token (secret), instead of an API key.</summary>
    public string? EntraId { get; init; }

    /// <summary>The tenant's URL: the provider's full request URL, or its base URL.</summary>
    public string? Url { get; init; }

    /// <summary>OpenAI's organization.</summary>
    public string? OrganizationId { get; init; }

    /// <summary>Azure's resource name.</summary>
    public string? ResourceName { get; init; }

    /// <summary>Azure's deployment.</summary>
    public string? DeploymentId { get; init; }

    /// <summary>Azure's API version.</summary>
    public string? ApiVersion { get; init; }

    /// <summary>The embedding size: the tenant's, or what the probe of a new endpoint found.</summary>
    public int? Dimensions { get; init; }

    /// <summary>Whether the tenant set <see cref="Dimensions"/> (then requests ask the provider for that size).</summary>
    public bool DimensionsSetByUser { get; init; }

    /// <summary>The vector similarity (<c>cosine</c>, <c>dot_product</c>, <c>l2_norm</c>).</summary>
    public string? Similarity { get; init; }

    /// <summary>The model's input limit, as the tenant states it.</summary>
    public int? MaxInputTokens { get; init; }

    /// <summary>The outbound rate; null where the service has no <c>rate_limit</c> setting (unthrottled).</summary>
    public int? RequestsPerMinute { get; init; }

    /// <summary>The task settings' <c>user</c>.</summary>
    public string? User => TaskSettings["user"] is JsonValue user && user.TryGetValue<string>(out var text) ? text : null;

    /// <summary>The secret values (for redaction).</summary>
    public IReadOnlyList<string> SecretValues => [.. new[] { ApiKey, EntraId }.OfType<string>()];

    /// <inheritdoc />
    public override JsonObject ToServiceSettings()
    {
        var json = new JsonObject();
        Add(Profile.ModelKey, ModelId);
        Add("resource_name", ResourceName);
        Add("deployment_id", DeploymentId);
        Add("api_version", ApiVersion);
        Add("url", Url);
        Add("organization_id", OrganizationId);
        Add("similarity", Similarity);
        if (Dimensions is { } dimensions)
        {
            json["dimensions"] = dimensions;
            json[OpenAiCompatibleService.DimensionsSetByUserKey] = DimensionsSetByUser;
        }

        if (MaxInputTokens is { } maxInputTokens)
        {
            json["max_input_tokens"] = maxInputTokens;
        }

        if (RequestsPerMinute is { } rpm)
        {
            json[RateLimitSetting.Key] = RateLimitSetting.ToJson(rpm);
        }

        Add("api_key", ApiKey);
        Add("entra_id", EntraId);
        return json;

        void Add(string key, string? value)
        {
            if (value is not null)
            {
                json[key] = value;
            }
        }
    }
}
