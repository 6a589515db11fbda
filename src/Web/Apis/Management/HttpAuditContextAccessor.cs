using WebConsole.Infrastructure.Audit;

namespace WebConsole.Web.Apis.Management;

/// <summary>
/// The audit trail's "from where": the connection's remote address (the client, or the proxy unless forwarded headers
/// are configured) and the user agent of the current request. Inside a Blazor circuit there is no request; the entry
/// then has no origin.
/// </summary>
internal sealed class HttpAuditContextAccessor(IHttpContextAccessor http) : IAuditContextAccessor
{
    public AuditContext Current => http.HttpContext is { } context
        ? new AuditContext(context.Connection.RemoteIpAddress?.ToString(), context.Request.Headers.UserAgent.ToString())
        : AuditContext.None;
}
