using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using WebConsole.E2E.Infrastructure;
using WebConsole.Web.Hosting;

namespace WebConsole.E2E.Security;

/// <summary>One route of the application as the route-table tests see it.</summary>
public sealed record RouteInfo(string Method, string Pattern, string SamplePath, bool IsPublic, bool DeclaresAuthorization,
    IReadOnlyList<string> Policies, bool IsPortalPage)
{
    /// <summary>Routes that need more than monitor_inference: an inference_user key is refused there.</summary>
    public bool IsManageRoute => Policies.Any(p => p is WebConsole.Web.Security.Policies.ManageInference
        or WebConsole.Web.Security.Policies.OrganizationAdmin or WebConsole.Web.Security.Policies.PlatformOperator);

    public string DisplayName { get; init; } = string.Empty;

    /// <summary>A content type the route accepts (routing answers 415 before authorization for any other).</summary>
    public string ContentType { get; init; } = "application/json";

    public override string ToString() => $"{Method} {Pattern} ({DisplayName})";
}

/// <summary>
/// The application's own route table: the composition root (AddWebConsoleWeb + UseWebConsoleWeb, exactly what Program
/// runs) is built in this process without starting it, and its endpoint data sources are read. Routes that later issues
/// add appear here without any change to the tests.
/// </summary>
public static class RouteTable
{
    // Framework endpoints that no convention reaches, named here on purpose: ASP.NET Core's StaticAssets adds this fallback
    // (only paths that look like files, served from wwwroot) when it runs from a build output; MapStaticAssets()'s
    // conventions do not apply to it.
    private static readonly HashSet<string> FrameworkPublic = new(StringComparer.Ordinal) { "Fallback {**path:file}" };

    public static IReadOnlyList<RouteInfo> Load()
    {
        var contentRoot = Path.GetDirectoryName(WebConsoleServer.WebDll)!;
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            ApplicationName = "WebConsole.Web",
            ContentRootPath = contentRoot,
            EnvironmentName = "Production",
        });
        builder.Configuration["WebConsole:DataDirectory"] = Path.Combine(Path.GetTempPath(), "webconsole-routes-" + Guid.NewGuid().ToString("N"));
        builder.AddWebConsoleWeb();
        using var app = builder.Build();
        app.UseWebConsoleWeb();

        var routes = new List<RouteInfo>();
        foreach (var endpoint in ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>())
        {
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            var authorize = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>();
            var isPublic = endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null || FrameworkPublic.Contains(endpoint.DisplayName ?? string.Empty);
            var policies = authorize.Select(a => a.Policy).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
            var isPage = endpoint.Metadata.GetMetadata<ComponentTypeMetadata>() is not null;
            foreach (var method in methods)
            {
                routes.Add(new RouteInfo(method, endpoint.RoutePattern.RawText ?? "?", SamplePath(endpoint.RoutePattern), isPublic,
                    authorize.Count > 0, policies, isPage) {
                    DisplayName = endpoint.DisplayName ?? string.Empty,
                    ContentType = endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>() is { ContentTypes.Count: > 0 } accepts ? accepts.ContentTypes[0] : "application/json",
                });
            }
        }

        return routes;
    }

    // A concrete address for a pattern: literals kept, parameters filled with a value their constraints accept.
    private static string SamplePath(RoutePattern pattern)
    {
        var segments = pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternSeparatorPart separator => separator.Content,
            RoutePatternParameterPart parameter => SampleValue(parameter),
            _ => "x",
        })));
        return "/" + string.Join("/", segments);
    }

    private static string SampleValue(RoutePatternParameterPart parameter)
    {
        var constraints = parameter.ParameterPolicies.Select(p => p.Content ?? p.ParameterPolicy?.GetType().Name ?? string.Empty).ToList();
        return constraints.Any(c => c.Contains("guid", StringComparison.OrdinalIgnoreCase)) ? Guid.NewGuid().ToString()
            : constraints.Any(c => c.Contains("int", StringComparison.OrdinalIgnoreCase) || c.Contains("long", StringComparison.OrdinalIgnoreCase)) ? "1"
            : "sample-1";
    }
}
