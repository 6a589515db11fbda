using System.Text.Json;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Web.Security;

namespace WebConsole.Web.Apis.Inference;

/// <summary>
/// The one writer of Elasticsearch errors for <c>/_inference</c> and <c>/_ml</c>: an <see cref="InferenceApiException"/>
/// (or any exception <see cref="InferenceApiException.From"/> maps) becomes the envelope with its status.
/// </summary>
internal static class InferenceErrors
{
    /// <summary>The envelope as a minimal-API result.</summary>
    public static IResult Result(InferenceApiException error) => SecurityErrors.Elastic(error.Status, error.Type, error.Reason);

    /// <summary>A 400 <c>status_exception</c>.</summary>
    public static IResult BadRequest(string reason) => Result(InferenceApiException.BadRequest(reason));

    /// <summary>Writes the envelope directly (for handlers that stream, before the first byte).</summary>
    public static Task WriteAsync(HttpContext context, InferenceApiException error)
    {
        ApplyHeaders(context.Response, error);
        context.Response.StatusCode = error.Status;
        context.Response.Headers[SecurityErrors.ElasticProductHeader] = "Elasticsearch";
        return context.Response.WriteAsJsonAsync(SecurityErrors.Envelope(error.Status, error.Type, error.Reason), context.RequestAborted);
    }

    /// <summary>
    /// The group filter of the Elasticsearch routes: adds <c>X-Elastic-Product</c> and turns mapped exceptions into the
    /// envelope, so handlers simply throw.
    /// </summary>
    public static async ValueTask<object?> FilterAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        context.HttpContext.Response.Headers[SecurityErrors.ElasticProductHeader] = "Elasticsearch";
        try
        {
            return await next(context);
        }
        catch (Exception ex) when (InferenceApiException.From(ex) is not null && !context.HttpContext.Response.HasStarted)
        {
            var error = InferenceApiException.From(ex)!;
            ApplyHeaders(context.HttpContext.Response, error);
            return Result(error);
        }
    }

    /// <summary>Sets the error's own headers (<c>Retry-After</c>, <c>x-ratelimit-*</c>, ...) on the response.</summary>
    public static void ApplyHeaders(HttpResponse response, InferenceApiException error)
    {
        foreach (var (name, value) in error.Headers)
        {
            response.Headers[name] = value;
        }
    }

    /// <summary>
    /// Reads a JSON object body (<c>application/json</c> or <c>application/vnd.elasticsearch+json</c>); a malformed body is
    /// 400 <c>x_content_parse_exception</c>, an empty one an empty object.
    /// </summary>
    public static async Task<System.Text.Json.Nodes.JsonObject> ReadObjectAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(request.Body);
        var text = await reader.ReadToEndAsync(cancellationToken);
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        try
        {
            return System.Text.Json.Nodes.JsonNode.Parse(text) as System.Text.Json.Nodes.JsonObject
                ?? throw new InferenceApiException(400, "x_content_parse_exception", "request body must be a JSON object");
        }
        catch (JsonException ex)
        {
            throw new InferenceApiException(400, "x_content_parse_exception", $"Failed to parse request body: {ex.Message}", ex);
        }
    }
}
