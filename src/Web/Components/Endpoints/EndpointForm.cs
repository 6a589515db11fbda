using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using WebConsole.Domain.Chunking;
using WebConsole.Domain.Endpoints;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Web.Components.Endpoints;

/// <summary>One service setting of the add-endpoint form, from the service's <c>_services</c> schema.</summary>
public sealed class EndpointFormField(string key, ServiceSettingField schema)
{
    /// <summary>The setting's key, e.g. <c>model_id</c>.</summary>
    public string Key { get; } = key;

    /// <summary>Its schema: label, description, required, sensitive, type and default.</summary>
    public ServiceSettingField Schema { get; } = schema;

    /// <summary>The value typed (text, number, JSON of maps and lists), the default to begin with.</summary>
    public string Text { get; set; } = schema.DefaultValue is JsonValue value && schema.Type is not SettingFieldType.Boolean
        ? value.ToJsonString().Trim('"')
        : schema.DefaultValue is { } other && schema.Type is SettingFieldType.Map or SettingFieldType.List ? other.ToJsonString() : string.Empty;

    /// <summary>The value of a boolean setting.</summary>
    public bool Checked { get; set; } = schema.DefaultValue is JsonValue flag && flag.TryGetValue<bool>(out var on) && on;

    /// <summary>The input's element id (for its label).</summary>
    public string InputId => $"endpoint-field-{Key}";
}

/// <summary>
/// The add-endpoint flyout's state: service, then task type, then the fields of the service's configuration schema for
/// that task type (adaptive allocations and chunking settings with their own inputs). It builds the body of
/// <c>PUT /_inference/{id}</c> and places the server's validation message beside the field it names.
/// </summary>
public sealed partial class EndpointForm
{
    /// <summary>The key of the inference id input's errors.</summary>
    public const string InferenceIdKey = "inference_id";

    /// <summary>The key of adaptive allocations (the elasticsearch service's map setting), shown as three inputs.</summary>
    public const string AdaptiveKey = "adaptive_allocations";

    /// <summary>Prefix of the chunking inputs' error keys.</summary>
    public const string ChunkingPrefix = "chunking.";

    private static readonly string[] ChunkingKeys =
        [ChunkingSettings.StrategyKey, ChunkingSettings.MaxChunkSizeKey, ChunkingSettings.OverlapKey, ChunkingSettings.SentenceOverlapKey];

    private static readonly string[] AdaptiveKeys = ["enabled", "min_number_of_allocations", "max_number_of_allocations"];

    private readonly IReadOnlyList<IInferenceService> _services;
    private readonly Dictionary<string, string> _errors = new(StringComparer.Ordinal);

    /// <summary>A form over the registered services.</summary>
    public EndpointForm(IReadOnlyList<IInferenceService> services) => _services = services;

    /// <summary>The services offered.</summary>
    public IReadOnlyList<IInferenceService> Services => _services;

    /// <summary>The endpoint id to create.</summary>
    public string InferenceId { get; set; } = string.Empty;

    /// <summary>The chosen service, null until chosen.</summary>
    public string? Service { get; private set; }

    /// <summary>The chosen task type's wire name, null until chosen.</summary>
    public string? TaskType { get; private set; }

    /// <summary>The fields of the chosen service and task type, adaptive allocations excluded (see <see cref="HasAdaptive"/>).</summary>
    public IReadOnlyList<EndpointFormField> Fields { get; private set; } = [];

    /// <summary>Whether the service has adaptive allocations.</summary>
    public bool HasAdaptive { get; private set; }

    /// <summary>Adaptive allocations on (then the fixed number of allocations is not sent).</summary>
    public bool AdaptiveEnabled { get; set; }

    /// <summary>Adaptive allocations' minimum.</summary>
    public string AdaptiveMin { get; set; } = "0";

    /// <summary>Adaptive allocations' maximum.</summary>
    public string AdaptiveMax { get; set; } = "4";

    /// <summary>Whether the task type chunks its inputs (text and sparse embedding).</summary>
    public bool SupportsChunking => TaskType is not null && TaskTypes.TryParse(TaskType, out var t) && t.SupportsChunking();

    /// <summary>Custom chunking settings instead of the default (sentence, 250 words, overlap 1).</summary>
    public bool CustomChunking { get; set; }

    /// <summary>The chunking strategy.</summary>
    public string ChunkingStrategy { get; set; } = "sentence";

    /// <summary>The chunks' maximum size in words.</summary>
    public string MaxChunkSize { get; set; } = "250";

    /// <summary>Word overlap (word strategy).</summary>
    public string Overlap { get; set; } = "100";

    /// <summary>Sentence overlap (sentence strategy).</summary>
    public string SentenceOverlap { get; set; } = "1";

    /// <summary>The task types of the chosen service.</summary>
    public IReadOnlyList<string> TaskTypeOptions =>
        _services.FirstOrDefault(s => s.Name == Service)?.SupportedTaskTypes.Select(t => t.ToWireName()).ToList() ?? [];

    /// <summary>The strategies offered.</summary>
    public static IReadOnlyList<string> ChunkingStrategies { get; } = ["sentence", "word", "recursive", "none"];

    /// <summary>An error not tied to one field.</summary>
    public string? GeneralError { get; private set; }

    /// <summary>Chooses the service: the task type is chosen again (its only one preselected).</summary>
    public void SelectService(string? service)
    {
        Service = _services.Any(s => s.Name == service) ? service : null;
        var options = TaskTypeOptions;
        SelectTaskType(options.Count == 1 ? options[0] : null);
    }

    /// <summary>Chooses the task type: the fields are those of the service that apply to it, with their defaults.</summary>
    public void SelectTaskType(string? taskType)
    {
        ClearErrors();
        TaskType = TaskTypeOptions.Contains(taskType ?? string.Empty) ? taskType : null;
        var service = _services.FirstOrDefault(s => s.Name == Service);
        if (service is null || TaskType is null || !TaskTypes.TryParse(TaskType, out var parsed))
        {
            Fields = [];
            HasAdaptive = false;
            return;
        }

        var applicable = service.Configuration.Fields.Where(f => f.Value.SupportedTaskTypes.Contains(parsed)).ToList();
        HasAdaptive = applicable.Any(f => f.Key == AdaptiveKey);
        Fields = [.. applicable.Where(f => f.Key != AdaptiveKey).Select(f => new EndpointFormField(f.Key, f.Value))];
        CustomChunking = false;
    }

    /// <summary>
    /// Turns the form into the update form of a stored endpoint: only the settings <c>_update</c> may change (maps aside,
    /// adaptive allocations apart), every one empty, and an empty one is left as it is.
    /// </summary>
    public void StartUpdate(string service, string taskType)
    {
        SelectService(service);
        SelectTaskType(taskType);
        Fields = [.. Fields.Where(f => f.Schema.Updatable && f.Schema.Type is SettingFieldType.Text or SettingFieldType.Number)];
        foreach (var field in Fields)
        {
            field.Text = string.Empty;
        }

        HasAdaptive = HasAdaptive && _services.First(s => s.Name == service).Configuration.Fields.Any(f => f.Key == AdaptiveKey && f.Value.Updatable);
    }

    /// <summary>The body of <c>PUT /_inference/{id}/_update</c> from the values given; null when nothing is to change.</summary>
    public JsonObject? BuildUpdateBody()
    {
        ClearErrors();
        var settings = new JsonObject();
        foreach (var field in Fields)
        {
            if (Value(field) is { } value)
            {
                settings[field.Key] = value;
            }
        }

        if (HasAdaptive && AdaptiveEnabled)
        {
            settings.Remove("num_allocations");
            settings[AdaptiveKey] = new JsonObject
            {
                ["enabled"] = true,
                ["min_number_of_allocations"] = Number(AdaptiveMin),
                ["max_number_of_allocations"] = Number(AdaptiveMax),
            };
        }

        if (settings.Count == 0)
        {
            GeneralError = "Nothing to change: fill in the settings to update.";
            return null;
        }

        return _errors.Count == 0 ? new JsonObject { ["service_settings"] = settings } : null;
    }

    /// <summary>The error shown beside a field (<see cref="InferenceIdKey"/>, a setting key, or a chunking key with <see cref="ChunkingPrefix"/>).</summary>
    public string? ErrorOf(string key) => _errors.GetValueOrDefault(key);

    /// <summary>Every field error, by key.</summary>
    public IReadOnlyDictionary<string, string> Errors => _errors;

    /// <summary>Forgets the errors (before a new submit).</summary>
    public void ClearErrors()
    {
        _errors.Clear();
        GeneralError = null;
    }

    /// <summary>
    /// The create body, or null when a value cannot be sent (its error is then beside its field). Empty values are left
    /// out, so the server's own defaults and required-setting messages apply.
    /// </summary>
    public JsonObject? BuildBody()
    {
        ClearErrors();
        if (Service is null)
        {
            _errors["service"] = "Choose a service.";
            return null;
        }

        if (TaskType is null)
        {
            _errors["task_type"] = "Choose a task type.";
            return null;
        }

        var settings = new JsonObject();
        foreach (var field in Fields)
        {
            if (HasAdaptive && AdaptiveEnabled && field.Key == "num_allocations")
            {
                continue;
            }

            if (Value(field) is { } value)
            {
                settings[field.Key] = value;
            }
        }

        if (HasAdaptive && AdaptiveEnabled)
        {
            settings[AdaptiveKey] = new JsonObject
            {
                ["enabled"] = true,
                ["min_number_of_allocations"] = Number(AdaptiveMin),
                ["max_number_of_allocations"] = Number(AdaptiveMax),
            };
        }

        var body = new JsonObject
        {
            ["service"] = Service,
            ["task_type"] = TaskType,
            ["service_settings"] = settings,
        };
        if (SupportsChunking && CustomChunking)
        {
            var chunking = new JsonObject { [ChunkingSettings.StrategyKey] = ChunkingStrategy };
            if (ChunkingStrategy != "none")
            {
                chunking[ChunkingSettings.MaxChunkSizeKey] = Number(MaxChunkSize);
                if (ChunkingStrategy == "word")
                {
                    chunking[ChunkingSettings.OverlapKey] = Number(Overlap);
                }
                else if (ChunkingStrategy == "sentence")
                {
                    chunking[ChunkingSettings.SentenceOverlapKey] = Number(SentenceOverlap);
                }
            }

            body["chunking_settings"] = chunking;
        }

        return _errors.Count == 0 ? body : null;
    }

    /// <summary>
    /// Places a server message beside the field it names: the first bracketed name that is a field of the form (the
    /// contract's messages name settings as <c>[num_threads]</c>); an id message goes to the id; any other is general.
    /// </summary>
    public void ShowServerError(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var named = Bracketed().Matches(message).Select(m => m.Groups[1].Value).ToList();
        var aboutId = message.Contains("inference_id", StringComparison.Ordinal)
            || message.Contains("inference ID", StringComparison.OrdinalIgnoreCase)
            || message.Contains($"Inference endpoint [{InferenceId}]", StringComparison.Ordinal);
        var key = named.Select(KeyOf).FirstOrDefault(k => k is not null) ?? (aboutId ? InferenceIdKey : null);
        if (key is null)
        {
            GeneralError = message;
        }
        else
        {
            _errors[key] = message;
        }
    }

    private string? KeyOf(string name)
    {
        if (Fields.Any(f => f.Key == name))
        {
            return name;
        }

        if (HasAdaptive && (name == AdaptiveKey || AdaptiveKeys.Contains(name)))
        {
            return AdaptiveKey;
        }

        return ChunkingKeys.Contains(name) ? ChunkingPrefix + name : null;
    }

    private JsonNode? Value(EndpointFormField field)
    {
        if (field.Schema.Type == SettingFieldType.Boolean)
        {
            return field.Checked;
        }

        var text = field.Text.Trim();
        if (text.Length == 0)
        {
            return null;
        }

        switch (field.Schema.Type)
        {
            case SettingFieldType.Number:
                return Number(text);
            case SettingFieldType.Map:
            case SettingFieldType.List:
                try
                {
                    var node = JsonNode.Parse(text);
                    if (field.Schema.Type == SettingFieldType.Map ? node is JsonObject : node is JsonArray)
                    {
                        return node;
                    }
                }
                catch (JsonException)
                {
                    // Reported below.
                }

                if (field.Schema.Type == SettingFieldType.List)
                {
                    return new JsonArray([.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => (JsonNode)v)]);
                }

                _errors[field.Key] = $"[{field.Key}] must be a JSON object, e.g. {{\"key\": \"value\"}}";
                return null;
            default:
                return text;
        }
    }

    // A whole number as the REST body would carry it (parsed JSON, so the services read it as any integer type); any
    // other text is sent as typed, for the server's message.
    private static JsonNode? Number(string text) =>
        long.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var number)
            ? JsonNode.Parse(number.ToString(CultureInfo.InvariantCulture))
            : string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    [GeneratedRegex(@"\[([a-z_][a-z0-9_]*)\]")]
    private static partial Regex Bracketed();
}
