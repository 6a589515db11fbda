using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Infrastructure.Connectors.Outbound;

/// <summary>
/// The <c>rate_limit</c> service setting of the third-party services (<c>{"requests_per_minute": N}</c>): how many
/// calls a minute the endpoint sends its provider; calls over it wait (<see cref="OutboundThrottle"/>).
/// </summary>
public static class RateLimitSetting
{
    /// <summary>The setting's key.</summary>
    public const string Key = "rate_limit";

    /// <summary>The nested key.</summary>
    public const string RequestsPerMinuteKey = "requests_per_minute";

    /// <summary>
    /// Reads <c>rate_limit.requests_per_minute</c> from <paramref name="map"/> (a positive integer), or
    /// <paramref name="defaultRequestsPerMinute"/> when absent; 400 naming the key when invalid or when
    /// <c>rate_limit</c> holds other keys.
    /// </summary>
    public static int Read(JsonSettings map, int defaultRequestsPerMinute, string service)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.OptionalObject(Key) is not { } rateLimit)
        {
            return defaultRequestsPerMinute;
        }

        var value = rateLimit.OptionalInt(RequestsPerMinuteKey);
        rateLimit.ThrowIfNotEmpty(service);
        return value switch
        {
            null => defaultRequestsPerMinute,
            > 0 => value.Value,
            _ => throw InferenceApiException.BadRequest(
                $"[{Key}] Invalid value [{value}]. [{RequestsPerMinuteKey}] must be a positive integer"),
        };
    }

    /// <summary>The stored form, <c>{"requests_per_minute": N}</c>.</summary>
    public static JsonObject ToJson(int requestsPerMinute) => new() { [RequestsPerMinuteKey] = requestsPerMinute };

    /// <summary>The <c>_services</c> field of the setting (updatable, as in Elasticsearch).</summary>
    public static KeyValuePair<string, ServiceSettingField> Field(IReadOnlyList<TaskType> taskTypes, string defaults) =>
        KeyValuePair.Create(Key, new ServiceSettingField(
            "Rate Limit",
            $"Limits the requests per minute the endpoint sends its provider ({{\"{RequestsPerMinuteKey}\": N}}); requests over it wait. {defaults}",
            Required: false, Sensitive: false, Updatable: true, SettingFieldType.Map, null, taskTypes));
}
