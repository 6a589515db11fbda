using System.Text.Json;
using System.Text.Json.Nodes;
using WebConsole.Domain.Chunking;
using WebConsole.Domain.Endpoints;

namespace WebConsole.Infrastructure.Endpoints;

/// <summary>The wire shape of a stored endpoint (never its secrets) and conversions of chunking settings.</summary>
public static class EndpointJson
{
    /// <summary><c>{inference_id, task_type, service, service_settings, task_settings?, chunking_settings?}</c>.</summary>
    public static JsonObject ToJson(InferenceEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var json = new JsonObject
        {
            ["inference_id"] = endpoint.InferenceId.Value,
            ["task_type"] = endpoint.TaskType.ToWireName(),
            ["service"] = endpoint.Service,
            ["service_settings"] = ParseObject(endpoint.ServiceSettings),
        };
        var taskSettings = ParseObject(endpoint.TaskSettings);
        if (taskSettings.Count > 0)
        {
            json["task_settings"] = taskSettings;
        }

        if (endpoint.ChunkingSettings is { } chunking)
        {
            json["chunking_settings"] = ChunkingToJson(chunking);
        }

        return json;
    }

    /// <summary>Chunking settings as their wire object.</summary>
    public static JsonObject ChunkingToJson(ChunkingSettings chunking) =>
        JsonSerializer.SerializeToNode(chunking.ToDictionary())!.AsObject();

    /// <summary>Chunking settings from their wire object; the domain's messages on broken rules.</summary>
    public static ChunkingSettings ChunkingFromJson(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var raw = json.ToDictionary(p => p.Key, p => (object?)JsonSerializer.SerializeToElement(p.Value));
        return ChunkingSettings.FromDictionary(raw);
    }

    private static readonly string[] ModelKeys = ["model_id", "model", "deployment_id"];

    /// <summary>
    /// The model of stored service settings: <c>model_id</c>, else the name services without one use (Mistral's
    /// <c>model</c>, Azure OpenAI's <c>deployment_id</c>); null when they name none or cannot be read.
    /// </summary>
    public static string? ModelIdOf(string serviceSettings)
    {
        try
        {
            return JsonNode.Parse(serviceSettings) is JsonObject settings
                ? ModelKeys.Select(key => settings[key] is JsonValue v && v.TryGetValue<string>(out var id) ? id : null)
                    .FirstOrDefault(id => !string.IsNullOrEmpty(id))
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A stored JSON object (an empty one when blank).</summary>
    public static JsonObject ParseObject(string? json) =>
        string.IsNullOrWhiteSpace(json) ? [] : JsonNode.Parse(json) as JsonObject ?? [];
}
