using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace WebConsole.Web.Security;

/// <summary>Which error shape a path answers in.</summary>
internal enum ErrorSurface
{
    /// <summary>Elasticsearch's envelope: <c>/_security</c>, <c>/_inference</c>, <c>/_ml</c> and other Elasticsearch routes.</summary>
    Elasticsearch,

    /// <summary>ProblemDetails: the management API under <c>/api</c>.</summary>
    ProblemDetails,

    /// <summary>OpenAI's error object: <c>/v1</c>.</summary>
    OpenAI,

    /// <summary>Portal pages: redirects to sign-in.</summary>
    Portal,
}

/// <summary>Writes 401 and 403 answers in the shape of the surface a request addressed.</summary>
internal static class SecurityErrors
{
    public const string ElasticProductHeader = "X-Elastic-Product";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static ErrorSurface SurfaceOf(PathString path) =>
        path.StartsWithSegments("/api") ? ErrorSurface.ProblemDetails
        : path.StartsWithSegments("/v1") ? ErrorSurface.OpenAI
        : path.StartsWithSegments("/_security") || path.StartsWithSegments("/hubs") || path.StartsWithSegments("/_inference") || path.StartsWithSegments("/_ml")
            || (path.HasValue && path.Value!.StartsWith("/_", StringComparison.Ordinal) && !path.StartsWithSegments("/_blazor")
                && !path.StartsWithSegments("/_framework") && !path.StartsWithSegments("/_content"))
            ? ErrorSurface.Elasticsearch
        : ErrorSurface.Portal;

    /// <summary>Whether a path belongs to a machine API (answers 401/403 rather than redirecting).</summary>
    public static bool IsApi(PathString path) => SurfaceOf(path) != ErrorSurface.Portal;

    public static Task WriteUnauthorizedAsync(HttpContext context, string reason)
    {
        context.Response.Headers.WWWAuthenticate = "ApiKey, Bearer realm=\"webconsole\"";
        return WriteAsync(context, StatusCodes.Status401Unauthorized, "security_exception", reason, "Unauthorized");
    }

    public static Task WriteForbiddenAsync(HttpContext context, string reason) =>
        WriteAsync(context, StatusCodes.Status403Forbidden, "security_exception", reason, "Forbidden");

    /// <summary>The Elasticsearch error envelope <c>{"error":{"root_cause":[..],"type","reason"},"status"}</c>.</summary>
    public static object Envelope(int status, string type, string reason) => new
    {
        error = new { root_cause = new[] { new { type, reason } }, type, reason },
        status,
    };

    /// <summary>An Elasticsearch error as a result for minimal APIs.</summary>
    public static JsonHttpResult<object> Elastic(int status, string type, string reason) =>
        TypedResults.Json(Envelope(status, type, reason), Json, statusCode: status);

    private static async Task WriteAsync(HttpContext context, int status, string type, string reason, string title)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = status;
        switch (SurfaceOf(context.Request.Path))
        {
            case ErrorSurface.ProblemDetails:
                var problem = new ProblemDetails { Status = status, Title = title, Detail = reason, Type = $"https://httpstatuses.io/{status}" };
                context.Response.ContentType = "application/problem+json";
                await context.Response.WriteAsync(JsonSerializer.Serialize(problem, Json), context.RequestAborted);
                break;
            case ErrorSurface.OpenAI:
                await context.Response.WriteAsJsonAsync(
                    new { error = new { message = reason, type = status == 401 ? "invalid_request_error" : "permission_error", param = (string?)null, code = status == 401 ? "invalid_api_key" : "insufficient_permissions" } },
                    Json, context.RequestAborted);
                break;
            default:
                context.Response.Headers[ElasticProductHeader] = "Elasticsearch";
                await context.Response.WriteAsJsonAsync(Envelope(status, type, reason), Json, context.RequestAborted);
                break;
        }
    }
}
