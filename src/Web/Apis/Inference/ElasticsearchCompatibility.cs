using Microsoft.Net.Http.Headers;
using WebConsole.Web.Security;

namespace WebConsole.Web.Apis.Inference;

/// <summary>
/// What the official Elasticsearch clients need from every Elasticsearch-shaped answer: the product header they check
/// before trusting a response, and the vendor media type (<c>application/vnd.elasticsearch+json; compatible-with=9</c>)
/// accepted like <c>application/json</c>.
/// </summary>
internal static class ElasticsearchCompatibility
{
    public const string ProductHeaderValue = "Elasticsearch";

    /// <summary>
    /// Adds <c>X-Elastic-Product: Elasticsearch</c> to every answer under an Elasticsearch path (errors, 401s and 404s
    /// included), and rewrites the vendor media type of a request body to plain JSON so every JSON reader accepts it.
    /// </summary>
    public static IApplicationBuilder UseElasticsearchCompatibility(this IApplicationBuilder app) => app.Use(static (context, next) =>
    {
        if (SecurityErrors.SurfaceOf(context.Request.Path) == ErrorSurface.Elasticsearch)
        {
            // OnStarting rather than setting it now: the exception handler clears headers before writing its answer.
            context.Response.OnStarting(static state =>
            {
                ((HttpResponse)state).Headers[SecurityErrors.ElasticProductHeader] = ProductHeaderValue;
                return Task.CompletedTask;
            }, context.Response);

            if (IsElasticsearchJson(context.Request.ContentType))
            {
                context.Request.ContentType = "application/json";
            }
        }

        return next(context);
    });

    /// <summary>Whether a media type is Elasticsearch's vendor JSON (any compatible-with version).</summary>
    public static bool IsElasticsearchJson(string? contentType) =>
        contentType is not null
        && MediaTypeHeaderValue.TryParse(contentType, out var media)
        && media.MediaType.Equals("application/vnd.elasticsearch+json", StringComparison.OrdinalIgnoreCase);
}
