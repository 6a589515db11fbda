using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WebConsole.Web.Health;

/// <summary><c>/healthz</c>: the database and the inference runtime, as JSON; 200 when healthy, 503 otherwise.</summary>
internal static class HealthApi
{
    public static IHealthChecksBuilder AddWebConsoleHealthChecks(this IServiceCollection services) =>
        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", tags: ["ready"])
            .AddCheck<InferenceRuntimeHealthCheck>("inference_runtime", tags: ["ready"])
            .AddCheck<TextSegmentationHealthCheck>("text_segmentation", tags: ["ready"]);

    public static IEndpointConventionBuilder MapHealthApi(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            ResponseWriter = WriteReportAsync,
            AllowCachingResponses = false,
        });

    private static Task WriteReportAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new HealthResponse(
            report.Status.ToString().ToLowerInvariant(),
            report.TotalDuration.TotalMilliseconds,
            report.Entries.Select(e => new HealthCheckResponse(
                e.Key,
                e.Value.Status.ToString().ToLowerInvariant(),
                e.Value.Description ?? e.Value.Exception?.Message,
                e.Value.Duration.TotalMilliseconds,
                e.Value.Data.Count == 0 ? null : e.Value.Data.ToDictionary(d => d.Key, d => d.Value?.ToString()))).ToList());
        return JsonSerializer.SerializeAsync(context.Response.Body, body, HealthJson.Default.HealthResponse, context.RequestAborted);
    }
}

internal sealed record HealthResponse(string Status, double DurationMs, IReadOnlyList<HealthCheckResponse> Checks);

internal sealed record HealthCheckResponse(string Name, string Status, string? Description, double DurationMs, Dictionary<string, string?>? Data);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(
    PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
[System.Text.Json.Serialization.JsonSerializable(typeof(HealthResponse))]
internal sealed partial class HealthJson : System.Text.Json.Serialization.JsonSerializerContext;
