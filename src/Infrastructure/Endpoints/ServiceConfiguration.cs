using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;

namespace WebConsole.Infrastructure.Endpoints;

/// <summary>The kinds of setting fields, with Elasticsearch's <c>_services</c> names.</summary>
public enum SettingFieldType
{
    /// <summary><c>str</c>.</summary>
    Text,

    /// <summary><c>int</c>: a whole number.</summary>
    Number,

    /// <summary><c>bool</c>.</summary>
    Boolean,

    /// <summary><c>map</c>: a JSON object.</summary>
    Map,

    /// <summary><c>list</c>.</summary>
    List,
}

/// <summary>One setting of a service's configuration schema.</summary>
/// <param name="Label">Short label for forms.</param>
/// <param name="Description">Help text.</param>
/// <param name="Required">Whether creation needs it.</param>
/// <param name="Sensitive">Whether it is a secret (never echoed).</param>
/// <param name="Updatable">Whether <c>_update</c> may change it.</param>
/// <param name="Type">The value's kind.</param>
/// <param name="DefaultValue">The value used when absent; null when none.</param>
/// <param name="SupportedTaskTypes">The task types the setting applies to.</param>
public sealed record ServiceSettingField(
    string Label,
    string Description,
    bool Required,
    bool Sensitive,
    bool Updatable,
    SettingFieldType Type,
    JsonNode? DefaultValue,
    IReadOnlyList<TaskType> SupportedTaskTypes)
{
    /// <summary>The wire name of <see cref="Type"/>.</summary>
    public string TypeName => Type switch
    {
        SettingFieldType.Text => "str",
        SettingFieldType.Number => "int",
        SettingFieldType.Boolean => "bool",
        SettingFieldType.Map => "map",
        _ => "list",
    };
}

/// <summary>A service's configuration schema as <c>GET /_inference/_services</c> answers it.</summary>
/// <param name="Service">The service name.</param>
/// <param name="Name">A display name.</param>
/// <param name="TaskTypes">Supported task types.</param>
/// <param name="Fields">The service settings by key, in display order.</param>
public sealed record ServiceConfiguration(
    string Service,
    string Name,
    IReadOnlyList<TaskType> TaskTypes,
    IReadOnlyList<KeyValuePair<string, ServiceSettingField>> Fields)
{
    /// <summary>The JSON of <c>_services</c>, optionally restricted to fields that apply to one task type.</summary>
    public JsonObject ToJson(TaskType? taskType = null)
    {
        var configurations = new JsonObject();
        foreach (var (key, field) in Fields)
        {
            if (taskType is { } only && !field.SupportedTaskTypes.Contains(only))
            {
                continue;
            }

            configurations[key] = new JsonObject
            {
                ["description"] = field.Description,
                ["label"] = field.Label,
                ["required"] = field.Required,
                ["sensitive"] = field.Sensitive,
                ["updatable"] = field.Updatable,
                ["type"] = field.TypeName,
                ["default_value"] = field.DefaultValue?.DeepClone(),
                ["supported_task_types"] = new JsonArray([.. field.SupportedTaskTypes.Select(t => (JsonNode)t.ToWireName())]),
            };
        }

        return new JsonObject
        {
            ["service"] = Service,
            ["name"] = Name,
            ["task_types"] = new JsonArray([.. TaskTypes.Select(t => (JsonNode)t.ToWireName())]),
            ["configurations"] = configurations,
        };
    }
}
