namespace WebConsole.Web.Security;

/// <summary>
/// Browser-facing protections on every answer: no MIME sniffing, no framing (clickjacking), no referrer leaking paths
/// to other sites, no powerful browser features, and a content security policy that allows only this origin's scripts
/// (Blazor's and Radzen's files; no inline or evaluated script), its styles (Radzen sets inline styles), images from
/// itself or data URLs, and the circuit's WebSocket back to this origin.
/// </summary>
public static class SecurityHeaders
{
    /// <summary>The content security policy of every answer.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; " +
        "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Adds the headers to every response before it starts.</summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()";
                headers["Cross-Origin-Opener-Policy"] = "same-origin";
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                return Task.CompletedTask;
            });
            return next(context);
        });
}
