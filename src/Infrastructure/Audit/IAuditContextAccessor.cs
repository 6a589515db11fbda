namespace WebConsole.Infrastructure.Audit;

/// <summary>Where the current administrative action comes from; both parts are what the client sent, unverified.</summary>
/// <param name="RemoteAddress">The caller's IP address.</param>
/// <param name="UserAgent">The caller's user agent.</param>
public sealed record AuditContext(string? RemoteAddress, string? UserAgent)
{
    /// <summary>No request: background work, start-up.</summary>
    public static AuditContext None { get; } = new(null, null);
}

/// <summary>The "from where" of the audit trail; the Web layer implements it over the current HTTP request.</summary>
public interface IAuditContextAccessor
{
    /// <summary>The current request's origin, or <see cref="AuditContext.None"/> outside a request.</summary>
    AuditContext Current { get; }
}
