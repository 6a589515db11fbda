using Microsoft.EntityFrameworkCore;
using WebConsole.Domain.Audit;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Audit;

/// <summary>
/// <see cref="IAuditLog"/> over the AuditEntries table. Scoped: it writes through the scope's context factory, whose
/// contexts carry the scope's tenant.
/// </summary>
public sealed class AuditLog(IDbContextFactory<WebConsoleDbContext> contexts, IAuditContextAccessor origin, TimeProvider time) : IAuditLog
{
    private readonly IDbContextFactory<WebConsoleDbContext> _contexts = contexts;
    private readonly IAuditContextAccessor _origin = origin;
    private readonly TimeProvider _time = time;

    /// <inheritdoc />
    public async Task RecordAsync(
        CallerIdentity actor, string action, string resourceType, string resourceId, string? details = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var context = await _contexts.CreateDbContextAsync(ct);
        Append(context, actor.OrganizationId, actor, action, resourceType, resourceId, details);
        await context.SaveChangesAsync(ct);
    }

    /// <inheritdoc />
    public AuditEntry Append(
        WebConsoleDbContext context,
        Guid organizationId,
        CallerIdentity actor,
        string action,
        string resourceType,
        string resourceId,
        string? details = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(actor);
        var origin = _origin.Current;
        var entry = AuditEntry.Create(
            Guid.CreateVersion7(_time.GetUtcNow()),
            organizationId,
            actor.UserId,
            actor.ApiKeyId,
            actor.DisplayName,
            action,
            resourceType,
            resourceId,
            AuditDetails.Redact(details),
            origin.RemoteAddress,
            origin.UserAgent,
            _time.GetUtcNow());
        context.AuditEntries.Add(entry);
        return entry;
    }
}

/// <summary>Outside a request (start-up, background work) there is no origin to record.</summary>
internal sealed class NoAuditContextAccessor : IAuditContextAccessor
{
    public AuditContext Current => AuditContext.None;
}
