using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Infrastructure.Connectors.ElasticRemote;

/// <summary>
/// Settings of an <c>elastic</c> endpoint whose upstream is another WebConsole (or Elasticsearch) installation: its base
/// <see cref="Url"/>, the <see cref="UpstreamInferenceId"/> of an endpoint there, and an API key of that installation.
/// </summary>
public sealed record RemoteElasticSettings : EndpointSettings
{
    /// <summary>The service setting that makes an <c>elastic</c> endpoint remote.</summary>
    public const string UrlKey = "url";

    /// <summary>The service setting naming the upstream's endpoint.</summary>
    public const string InferenceIdKey = "inference_id";

    /// <summary>The secret service setting: the upstream's encoded API key.</summary>
    public const string ApiKeyKey = "api_key";

    /// <summary>The other installation's base URL, e.g. <c>https://inference.example.com</c>.</summary>
    public required string Url { get; init; }

    /// <summary>The endpoint on the other installation that serves this one (of the same task type).</summary>
    public required string UpstreamInferenceId { get; init; }

    /// <summary>The encoded API key of the other installation (secret), sent as <c>Authorization: ApiKey ...</c>.</summary>
    public required string ApiKey { get; init; }

    /// <summary>The outbound rate; null when unthrottled (the upstream enforces its own limits on the key).</summary>
    public int? RequestsPerMinute { get; init; }

    /// <summary>Parses the remote form of the <c>elastic</c> service's settings (the caller saw <see cref="UrlKey"/>).</summary>
    public static RemoteElasticSettings Parse(TaskType taskType, JsonObject serviceSettings, JsonObject? taskSettings, string service)
    {
        ArgumentNullException.ThrowIfNull(serviceSettings);
        var map = new JsonSettings(serviceSettings, "service_settings");
        var url = map.RequiredString(UrlKey);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps)
            || !string.IsNullOrEmpty(parsed.Query) || !string.IsNullOrEmpty(parsed.Fragment))
        {
            throw InferenceApiException.BadRequest(
                $"[service_settings] Invalid url [{url}] received for field [url]. [url] must be the absolute http or https base URL of the other installation");
        }

        if (map.Has("model_id"))
        {
            throw InferenceApiException.BadRequest(
                "[service_settings] [model_id] cannot be combined with [url]: name the other installation's endpoint with [inference_id]");
        }

        var upstream = map.RequiredString(InferenceIdKey);
        if (!InferenceId.TryParse(upstream, out _))
        {
            throw InferenceApiException.BadRequest($"[service_settings] Invalid value [{upstream}] received for field [inference_id]. It is not a valid inference id");
        }

        var apiKey = map.RequiredString(ApiKeyKey);
        int? rate = map.Has(RateLimitSetting.Key) ? RateLimitSetting.Read(map, 0, service) : null;
        map.ThrowIfNotEmpty(service);
        new JsonSettings(taskSettings, "task_settings").ThrowIfNotEmpty(service);
        return new RemoteElasticSettings
        {
            TaskType = taskType,
            Url = url.TrimEnd('/'),
            UpstreamInferenceId = upstream,
            ApiKey = apiKey,
            RequestsPerMinute = rate is > 0 ? rate : null,
        };
    }

    /// <inheritdoc />
    public override JsonObject ToServiceSettings()
    {
        var json = new JsonObject { [UrlKey] = Url, [InferenceIdKey] = UpstreamInferenceId };
        if (RequestsPerMinute is { } rpm)
        {
            json[RateLimitSetting.Key] = RateLimitSetting.ToJson(rpm);
        }

        json[ApiKeyKey] = ApiKey;
        return json;
    }
}
