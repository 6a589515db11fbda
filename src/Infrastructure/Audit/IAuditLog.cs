using WebConsole.Domain.Audit;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Audit;

/// <summary>
/// Records administrative actions (who, what, when, from where). Implemented over the AuditEntry table; the remote
/// address and user agent come from the current request. Details are masked by <see cref="AuditDetails"/>, but callers
/// pass no secrets in the first place.
/// </summary>
public interface IAuditLog
{
    /// <summary>Writes one entry in the actor's organization, in its own unit of work.</summary>
    Task RecordAsync(CallerIdentity actor, string action, string resourceType, string resourceId, string? details = null, CancellationToken ct = default);

    /// <summary>
    /// Adds an entry to <paramref name="context"/> without saving, so that it commits together with the change it
    /// describes (no action without its entry, no entry for a change that failed). <paramref name="organizationId"/> is
    /// the organization the action concerns (an operator creating an organization records it there).
    /// </summary>
    AuditEntry Append(
        WebConsoleDbContext context,
        Guid organizationId,
        CallerIdentity actor,
        string action,
        string resourceType,
        string resourceId,
        string? details = null);
}
