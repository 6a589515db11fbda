using System.Text;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.OpenApi;

namespace WebConsole.Web.Hosting;

/// <summary>
/// Puts the wire-compatible surfaces (<c>/_inference</c>, <c>/_ml</c>, <c>/_security</c>, <c>/v1</c>) into the OpenAPI
/// document. Their handlers read and write Elasticsearch- and OpenAI-shaped JSON themselves (the wire contract, not C#
/// types, defines those shapes), so they are excluded from API Explorer, which could only describe them as untyped; this
/// transformer lists each of their routes with its methods and path parameters from the endpoint table instead, so a new
/// route appears in the document by being mapped.
/// </summary>
internal static class OpenApiRoutes
{
    private static readonly string[] Surfaces = ["/_inference", "/_ml", "/_security", "/v1"];

    public static OpenApiOptions AddWireSurfaces(this OpenApiOptions options) => options.AddDocumentTransformer((document, context, _) =>
    {
        var endpoints = context.ApplicationServices.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();
        document.Paths ??= [];
        foreach (var endpoint in endpoints.OrderBy(e => e.RoutePattern.RawText, StringComparer.Ordinal))
        {
            var path = PathOf(endpoint.RoutePattern);
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [];
            if (!Surfaces.Any(s => path.StartsWith(s, StringComparison.Ordinal)) || methods.Count == 0)
            {
                continue;
            }

            if (!document.Paths.TryGetValue(path, out var existing) || existing is not OpenApiPathItem item)
            {
                item = new OpenApiPathItem();
                document.Paths[path] = item;
            }

            item.Operations ??= [];
            foreach (var method in methods)
            {
                item.Operations.TryAdd(HttpMethod.Parse(method), Operation(endpoint, method, path));
            }
        }

        return Task.CompletedTask;
    });

    private static OpenApiOperation Operation(RouteEndpoint endpoint, string method, string path)
    {
        var operation = new OpenApiOperation
        {
            Summary = endpoint.Metadata.GetMetadata<IEndpointSummaryMetadata>()?.Summary,
            Description = path.StartsWith("/v1", StringComparison.Ordinal)
                ? "OpenAI-compatible; `model` is the inference endpoint id. Authorization: Bearer <encoded API key>."
                : "Elasticsearch-compatible (see the wire contract). Authorization: ApiKey <base64(id:api_key)>.",
            Parameters = [.. endpoint.RoutePattern.Parameters.Select(p => (IOpenApiParameter)new OpenApiParameter
            {
                Name = p.Name,
                In = ParameterLocation.Path,
                Required = true,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            })],
            Responses = new OpenApiResponses { ["200"] = new OpenApiResponse { Description = "OK" } },
        };
        if (method is "POST" or "PUT")
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() },
            };
        }

        return operation;
    }

    /// <summary>The route as an OpenAPI path: literals kept, parameters as <c>{name}</c> without constraints.</summary>
    private static string PathOf(RoutePattern pattern)
    {
        var path = new StringBuilder();
        foreach (var segment in pattern.PathSegments)
        {
            path.Append('/');
            foreach (var part in segment.Parts)
            {
                path.Append(part switch
                {
                    RoutePatternLiteralPart literal => literal.Content,
                    RoutePatternParameterPart parameter => $"{{{parameter.Name}}}",
                    RoutePatternSeparatorPart separator => separator.Content,
                    _ => string.Empty,
                });
            }
        }

        return path.Length == 0 ? "/" : path.ToString();
    }
}
