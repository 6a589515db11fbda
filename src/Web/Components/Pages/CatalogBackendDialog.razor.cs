using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Components;
using Radzen;
using WebConsole.Domain;
using WebConsole.Domain.Endpoints;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Web.Apis.Management;

namespace WebConsole.Web.Components.Pages;

/// <summary>
/// The operator's editor of a catalog model's backend: an embedded model of the catalog model's task type, or an upstream
/// service whose form is generated from its <c>_services</c> schema (the fields that apply to the task type; sensitive ones
/// masked, and left empty to keep a stored secret of the same service). Closing answers the saved
/// <see cref="CatalogModelView"/>, or null when cancelled.
/// </summary>
public sealed partial class CatalogBackendDialog
{
    private readonly object _form = new();
    private readonly List<string> _errors = [];
    private readonly Dictionary<string, string?> _texts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _flags = new(StringComparer.Ordinal);
    private List<string> _embeddedModels = [];
    private List<string> _services = [];
    private bool _upstream;
    private string? _embeddedModelId;
    private string? _service;
    private string? _taskSettings;
    private bool _busy;

    [Parameter, EditorRequired]
    public CallerIdentity Caller { get; set; } = default!;

    /// <summary>The catalog model whose backend is edited.</summary>
    [Parameter, EditorRequired]
    public CatalogModelView Model { get; set; } = default!;

    [Inject]
    private DialogService Dialogs { get; set; } = default!;

    [Inject]
    private CatalogManagement Management { get; set; } = default!;

    [Inject]
    private ModelManagement Models { get; set; } = default!;

    private IReadOnlyList<KeyValuePair<string, ServiceSettingField>> Fields =>
        Management.UpstreamServices(Model.Model.TaskType).FirstOrDefault(s => s.Name == _service) is { } service
            ? [.. service.Configuration.Fields.Where(f => f.Value.SupportedTaskTypes.Contains(Model.Model.TaskType))]
            : [];

    protected override async Task OnInitializedAsync()
    {
        var taskType = Model.Model.TaskType;
        _services = [.. Management.UpstreamServices(taskType).Select(s => s.Name)];

        // Listing reads every model folder: off the circuit's thread.
        var models = await Task.Run(() => Models.List());
        _embeddedModels = [.. models
            .Where(m => m.TaskType is { } t && TaskTypes.TryParse(t, out var modelTask) && ElasticInferenceService.Serves(modelTask, taskType))
            .Select(m => m.ModelId)];

        switch (Model.Backend)
        {
            case { Kind: "upstream" } upstream:
                _upstream = true;
                _service = upstream.Service;
                foreach (var (key, value) in upstream.ServiceSettings ?? [])
                {
                    if (value?.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
                    {
                        _flags[key] = value.GetValue<bool>();
                    }
                    else
                    {
                        _texts[key] = value?.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value?.ToJsonString();
                    }
                }

                _taskSettings = upstream.TaskSettings is { Count: > 0 } task ? task.ToJsonString() : null;
                break;
            case { Kind: "embedded", Assigned: true } embedded:
                _embeddedModelId = embedded.EmbeddedModelId;
                _service = _services.FirstOrDefault();
                break;
            default:
                _service = _services.FirstOrDefault();
                break;
        }
    }

    private void ServiceChanged(string? service)
    {
        _service = service;
        _texts.Clear();
        _flags.Clear();
    }

    private string? Text(string key) => _texts.GetValueOrDefault(key);

    private bool Flag(string key) => _flags.GetValueOrDefault(key);

    private static string? Default(ServiceSettingField field) => field.DefaultValue?.ToJsonString();

    private string SecretPlaceholder(string key) =>
        Model.Backend is { Kind: "upstream" } stored && stored.Service == _service && stored.SecretFields.Contains(key)
            ? "stored: leave empty to keep it"
            : string.Empty;

    private async Task SaveAsync(object _)
    {
        _errors.Clear();
        _busy = true;
        try
        {
            var saved = _upstream
                ? await Management.AssignUpstreamAsync(Caller, Model.Model.Id, new UpstreamBackendInput(_service, BuildSettings(), ParseObject(_taskSettings, "task_settings")))
                : await Management.AssignEmbeddedAsync(Caller, Model.Model.Id, _embeddedModelId);
            Dialogs.Close(saved);
        }
        catch (DomainValidationException ex)
        {
            _errors.AddRange(ex.Errors);
        }
        catch (Exception ex) when (ex is ResourceNotFoundException or ManagementAccessDeniedException)
        {
            _errors.Add(ex.Message);
        }
        finally
        {
            _busy = false;
        }
    }

    // The form's values as service settings: empty fields are left out (the service applies its defaults, a stored secret
    // stays); numbers and JSON fields are parsed, with a message naming the field.
    private JsonObject BuildSettings()
    {
        var settings = new JsonObject();
        foreach (var (key, field) in Fields)
        {
            if (field.Type == SettingFieldType.Boolean)
            {
                if (_flags.TryGetValue(key, out var flag))
                {
                    settings[key] = flag;
                }

                continue;
            }

            if (string.IsNullOrWhiteSpace(_texts.GetValueOrDefault(key)))
            {
                continue;
            }

            var text = _texts[key]!.Trim();
            settings[key] = field.Type switch
            {
                SettingFieldType.Number => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number)
                    ? JsonValue.Create(number)
                    : throw new DomainValidationException($"[{key}] must be a whole number, got [{text}]"),
                SettingFieldType.Map or SettingFieldType.List => ParseJson(text, key),
                _ => JsonValue.Create(text),
            };
        }

        return settings;
    }

    private static JsonObject? ParseObject(string? text, string key) =>
        string.IsNullOrWhiteSpace(text) ? null
            : ParseJson(text, key) as JsonObject ?? throw new DomainValidationException($"[{key}] must be a JSON object");

    private static JsonNode? ParseJson(string text, string key)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException ex)
        {
            throw new DomainValidationException($"[{key}] is not valid JSON: {ex.Message}", ex);
        }
    }
}
