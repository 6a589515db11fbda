using System.Reflection;
using Microsoft.Net.Http.Headers;

namespace WebConsole.Web.Hosting;

/// <summary>
/// Serves Blazor's browser script from the resource the build embedded (see build/blazor/BlazorScript.targets): the
/// .NET 10 asset package that normally provides it is not available from this registry.
/// </summary>
internal static class BlazorScriptEndpoint
{
    private const string ResourceName = "WebConsole.Web.blazor.web.js";

    public static IEndpointConventionBuilder MapBlazorScript(this IEndpointRouteBuilder endpoints)
    {
        var script = LoadScript();
        var etag = new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(script))[..16]}\"");
        return endpoints.MapGet("/_framework/blazor.web.js", (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-cache";
            return TypedResults.Bytes(script, "text/javascript", entityTag: etag);
        }).ExcludeFromDescription();
    }

    private static byte[] LoadScript()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The build did not embed {ResourceName}; rebuild src/Web.");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }
}
