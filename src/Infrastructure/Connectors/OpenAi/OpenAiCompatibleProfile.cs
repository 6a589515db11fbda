using WebConsole.Domain.Endpoints;

namespace WebConsole.Infrastructure.Connectors.OpenAi;

/// <summary>
/// What sets one OpenAI-compatible service apart: its settings (as Elasticsearch names them for that service), default
/// URLs and rates, and its dialect of the wire format.
/// </summary>
public sealed record OpenAiCompatibleProfile
{
    /// <summary>The wire name, e.g. <c>mistral</c>.</summary>
    public required string Service { get; init; }

    /// <summary>The display name of <c>_services</c>.</summary>
    public required string DisplayName { get; init; }

    /// <summary>The task types Elasticsearch gives the service.</summary>
    public required IReadOnlyList<TaskType> TaskTypes { get; init; }

    /// <summary>The model setting's key: <c>model_id</c>, or <c>model</c> (Mistral).</summary>
    public string ModelKey { get; init; } = "model_id";

    /// <summary>Whether the tenant may set <c>url</c> (OpenAI, DeepSeek).</summary>
    public bool HasUrl { get; init; }

    /// <summary>Whether <c>organization_id</c> exists (OpenAI).</summary>
    public bool HasOrganization { get; init; }

    /// <summary>Whether the tenant may ask for <c>dimensions</c>, which requests then carry (OpenAI, Azure).</summary>
    public bool HasDimensions { get; init; }

    /// <summary>Whether task settings take <c>user</c> (OpenAI, Azure).</summary>
    public bool HasUserTaskSetting { get; init; }

    /// <summary>Default <c>rate_limit.requests_per_minute</c> by task type; null when the service has no such setting.</summary>
    public IReadOnlyDictionary<TaskType, int>? DefaultRateLimits { get; init; }

    /// <summary>The provider's base URL (paths such as <c>/chat/completions</c> follow); null for Azure.</summary>
    public Uri? DefaultBaseUrl { get; init; }

    /// <summary>Whether the output cap goes out as <c>max_completion_tokens</c> rather than <c>max_tokens</c>.</summary>
    public bool UsesMaxCompletionTokens { get; init; }

    /// <summary>Whether streams ask for the final usage chunk (<c>stream_options.include_usage</c>).</summary>
    public bool RequestsStreamUsage { get; init; } = true;

    /// <summary>Whether chat goes through the official OpenAI package (OpenAI and Azure) rather than typed models.</summary>
    public bool UsesOfficialClient { get; init; }

    /// <summary>Azure OpenAI: resource, deployment and API version instead of a model and URL; <c>api-key</c> or Entra auth.</summary>
    public bool IsAzure { get; init; }
}
