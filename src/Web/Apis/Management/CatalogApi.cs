using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using WebConsole.Domain;
using WebConsole.Domain.Catalog;
using WebConsole.Domain.Endpoints;
using WebConsole.Web.Security;

namespace WebConsole.Web.Apis.Management;

/// <summary>
/// <c>/api/catalog</c>: the managed service's catalog with each model's end of life and backend, and the operator's
/// assignment of backends (<c>PUT</c>/<c>DELETE /api/catalog/{id}/backend</c>). Secrets are accepted, never answered.
/// </summary>
internal static class CatalogApi
{
    public static RouteGroupBuilder MapCatalogApi(this RouteGroupBuilder api)
    {
        api.MapGet("/catalog", ListAsync).RequireAuthorization(Policies.MonitorInference);
        api.MapGet("/catalog/{id}", GetAsync).RequireAuthorization(Policies.MonitorInference);
        api.MapPut("/catalog/{id}/backend", AssignAsync).Accepts<AssignBackendRequest>("application/json").RequireAuthorization(Policies.PlatformOperator);
        api.MapDelete("/catalog/{id}/backend", RemoveAsync).RequireAuthorization(Policies.PlatformOperator);
        return api;
    }

    private static async Task<Ok<CatalogModelResponse[]>> ListAsync(HttpContext context, CatalogManagement catalog) =>
        TypedResults.Ok((await catalog.ListAsync(ManagementApi.Caller(context), context.RequestAborted)).Select(CatalogModelResponse.From).ToArray());

    private static async Task<Ok<CatalogModelResponse>> GetAsync(string id, HttpContext context, CatalogManagement catalog) =>
        TypedResults.Ok(CatalogModelResponse.From(await catalog.GetAsync(ManagementApi.Caller(context), id, context.RequestAborted)));

    private static async Task<Ok<CatalogModelResponse>> AssignAsync(string id, HttpContext context, CatalogManagement catalog)
    {
        var body = (await ManagementApi.ReadBodyAsync<JsonNode>(context)) as JsonObject
            ?? throw new DomainValidationException("[body] must be a JSON object");
        var caller = ManagementApi.Caller(context);
        var unknown = body.Select(p => p.Key).Where(k => k is not ("embedded_model_id" or "service" or "service_settings" or "task_settings")).ToArray();
        if (unknown.Length > 0)
        {
            throw new DomainValidationException($"[body] unknown fields [{string.Join(", ", unknown)}]; give [embedded_model_id], or [service] with [service_settings] and [task_settings]");
        }

        CatalogModelView view;
        if (body.ContainsKey("embedded_model_id"))
        {
            if (body.ContainsKey("service") || body.ContainsKey("service_settings") || body.ContainsKey("task_settings"))
            {
                throw new DomainValidationException("[embedded_model_id] cannot be given together with [service], [service_settings] or [task_settings]");
            }

            view = await catalog.AssignEmbeddedAsync(caller, id, Text(body, "embedded_model_id"), context.RequestAborted);
        }
        else
        {
            view = await catalog.AssignUpstreamAsync(
                caller, id, new UpstreamBackendInput(Text(body, "service"), Object(body, "service_settings"), Object(body, "task_settings")), context.RequestAborted);
        }

        return TypedResults.Ok(CatalogModelResponse.From(view));
    }

    private static async Task<NoContent> RemoveAsync(string id, HttpContext context, CatalogManagement catalog)
    {
        await catalog.RemoveBackendAsync(ManagementApi.Caller(context), id, context.RequestAborted);
        return TypedResults.NoContent();
    }

    private static string? Text(JsonObject body, string key) => body[key] switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        _ => throw new DomainValidationException($"[{key}] must be a string"),
    };

    private static JsonObject? Object(JsonObject body, string key) => body[key] switch
    {
        null => null,
        JsonObject map => map.DeepClone().AsObject(),
        _ => throw new DomainValidationException($"[{key}] must be a JSON object"),
    };
}

/// <summary>
/// <c>PUT /api/catalog/{id}/backend</c>: <c>{"embedded_model_id": "..."}</c>, or <c>{"service": "openai", "service_settings":
/// {...}, "task_settings": {...}}</c> (an upstream service with the operator's credentials).
/// </summary>
public sealed record AssignBackendRequest(
    [property: JsonPropertyName("embedded_model_id")] string? EmbeddedModelId,
    [property: JsonPropertyName("service")] string? Service,
    [property: JsonPropertyName("service_settings")] JsonObject? ServiceSettings,
    [property: JsonPropertyName("task_settings")] JsonObject? TaskSettings);

/// <summary>A titled link.</summary>
public sealed record CatalogLinkResponse(
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("url")] string? Url);

/// <summary>What serves a catalog model; never its secrets, at most the names of the secret fields (operators only).</summary>
public sealed record CatalogBackendResponse(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("assigned")] bool Assigned,
    [property: JsonPropertyName("embedded_model_id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? EmbeddedModelId,
    [property: JsonPropertyName("service"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Service,
    [property: JsonPropertyName("service_settings"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonObject? ServiceSettings,
    [property: JsonPropertyName("task_settings"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonObject? TaskSettings,
    [property: JsonPropertyName("secret_fields")] IReadOnlyList<string> SecretFields,
    [property: JsonPropertyName("updated_at")] DateTimeOffset? UpdatedAt)
{
    public static CatalogBackendResponse From(CatalogBackendView view) =>
        new(view.Kind, view.Assigned, view.EmbeddedModelId, view.Service, view.ServiceSettings, view.TaskSettings, view.SecretFields, view.UpdatedAt);
}

/// <summary>One catalog model: the catalog's fields, its end of life and its backend (null when it has none).</summary>
public sealed record CatalogModelResponse(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("author")] string Author,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("task_type")] string TaskType,
    [property: JsonPropertyName("model_card")] CatalogLinkResponse ModelCard,
    [property: JsonPropertyName("provider_terms")] IReadOnlyList<CatalogLinkResponse> ProviderTerms,
    [property: JsonPropertyName("input_modalities")] IReadOnlyList<string> InputModalities,
    [property: JsonPropertyName("output_modalities")] IReadOnlyList<string> OutputModalities,
    [property: JsonPropertyName("eol_date")] string? EolDate,
    [property: JsonPropertyName("end_of_life")] bool EndOfLife,
    [property: JsonPropertyName("eol_warning")] bool EolWarning,
    [property: JsonPropertyName("days_until_eol")] int? DaysUntilEol,
    [property: JsonPropertyName("data_retention")] string DataRetention,
    [property: JsonPropertyName("used_for_training")] bool UsedForTraining,
    [property: JsonPropertyName("inference_regions")] IReadOnlyList<string> InferenceRegions,
    [property: JsonPropertyName("release_status")] string ReleaseStatus,
    [property: JsonPropertyName("stack_version")] string StackVersion,
    [property: JsonPropertyName("backend")] CatalogBackendResponse? Backend)
{
    public static CatalogModelResponse From(CatalogModelView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var m = view.Model;
        return new(
            m.Id, m.Author, m.Name, m.TaskType.ToWireName(), new CatalogLinkResponse(m.ModelCard.Title, m.ModelCard.Url),
            [.. m.ProviderTerms.Select(t => new CatalogLinkResponse(t.Title, t.Url))], m.InputModalities, m.OutputModalities,
            m.EolDate?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), view.EndOfLife, view.EolWarning, view.DaysUntilEol,
            m.DataRetention, m.UsedForTraining, m.InferenceRegions, CatalogModel.ToDisplayName(m.ReleaseStatus), m.StackVersion,
            view.Backend is { } backend ? CatalogBackendResponse.From(backend) : null);
    }
}
