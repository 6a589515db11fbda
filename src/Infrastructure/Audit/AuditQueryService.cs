using Microsoft.EntityFrameworkCore;
using WebConsole.Domain;
using WebConsole.Domain.Audit;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Audit;

/// <summary>Filters of an audit query; every filter is optional and they combine with AND.</summary>
/// <param name="From">Entries at or after this time.</param>
/// <param name="To">Entries before this time.</param>
/// <param name="Action">An action name, or a prefix ending in <c>*</c> (<c>api_key.*</c>).</param>
/// <param name="Actor">The actor's name (<c>api_key:bootstrap</c>, a display name), API key id, or user id.</param>
/// <param name="ResourceType">The kind of resource, e.g. <c>team</c>.</param>
/// <param name="ResourceId">The resource's id.</param>
/// <param name="OrganizationId">Platform operators only: one organization (others always see their own).</param>
/// <param name="Page">1-based page number.</param>
/// <param name="PageSize">Entries per page, at most <see cref="AuditQueryService.MaxPageSize"/>.</param>
public sealed record AuditQuery(
    DateTimeOffset? From = null,
    DateTimeOffset? To = null,
    string? Action = null,
    string? Actor = null,
    string? ResourceType = null,
    string? ResourceId = null,
    Guid? OrganizationId = null,
    int Page = 1,
    int PageSize = AuditQueryService.DefaultPageSize);

/// <summary>One page of entries, newest first, and how many match in all.</summary>
public sealed record AuditPage(IReadOnlyList<AuditEntry> Entries, int Total, int Page, int PageSize);

/// <summary>
/// Reads the audit trail. Organization admins read their organization's entries through the tenant-filtered context;
/// platform operators read every organization's through the system context, on purpose.
/// </summary>
public sealed class AuditQueryService(WebConsoleDbContext tenantDb, ISystemDbContextFactory systemDb)
{
    /// <summary>The page size when none is asked for.</summary>
    public const int DefaultPageSize = 50;

    /// <summary>The largest page served.</summary>
    public const int MaxPageSize = 500;

    private readonly WebConsoleDbContext _tenantDb = tenantDb;
    private readonly ISystemDbContextFactory _systemDb = systemDb;

    /// <summary>Runs <paramref name="query"/> for <paramref name="caller"/>; throws <see cref="DomainValidationException"/> for bad filters.</summary>
    public async Task<AuditPage> QueryAsync(CallerIdentity caller, AuditQuery query, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(query);
        Validate(query);

        if (caller.IsPlatformOperator)
        {
            await using var system = _systemDb.CreateDbContext();
            return await RunAsync(system.AuditEntries, query, query.OrganizationId, ct);
        }

        // The tenant filter already limits the rows; the explicit organization condition keeps this query safe even on a
        // context created for another scope.
        if (query.OrganizationId is { } asked && asked != caller.OrganizationId)
        {
            return new AuditPage([], 0, query.Page, query.PageSize);
        }

        return await RunAsync(_tenantDb.AuditEntries, query, caller.OrganizationId, ct);
    }

    private static async Task<AuditPage> RunAsync(IQueryable<AuditEntry> entries, AuditQuery query, Guid? organizationId, CancellationToken ct)
    {
        entries = entries.AsNoTracking();
        if (organizationId is { } organization)
        {
            entries = entries.Where(e => e.OrganizationId == organization);
        }

        if (query.From is { } from)
        {
            var utc = from.ToUniversalTime();
            entries = entries.Where(e => e.OccurredAt >= utc);
        }

        if (query.To is { } to)
        {
            var utc = to.ToUniversalTime();
            entries = entries.Where(e => e.OccurredAt < utc);
        }

        if (!string.IsNullOrWhiteSpace(query.Action))
        {
            var action = query.Action.Trim();
            entries = action.EndsWith('*')
                ? entries.Where(e => e.Action.StartsWith(action.TrimEnd('*')))
                : entries.Where(e => e.Action == action);
        }

        if (!string.IsNullOrWhiteSpace(query.Actor))
        {
            var actor = query.Actor.Trim();
            entries = Guid.TryParse(actor, out var userId)
                ? entries.Where(e => e.ActorUserId == userId)
                : entries.Where(e => e.ActorName == actor || e.ActorApiKeyId == actor);
        }

        if (!string.IsNullOrWhiteSpace(query.ResourceType))
        {
            var type = query.ResourceType.Trim();
            entries = entries.Where(e => e.ResourceType == type);
        }

        if (!string.IsNullOrWhiteSpace(query.ResourceId))
        {
            var id = query.ResourceId.Trim();
            entries = entries.Where(e => e.ResourceId == id);
        }

        var total = await entries.CountAsync(ct);
        var page = await entries
            .OrderByDescending(e => e.OccurredAt)
            .ThenByDescending(e => e.Id)
            .Skip((query.Page - 1) * query.PageSize)
            .Take(query.PageSize)
            .ToListAsync(ct);
        return new AuditPage(page, total, query.Page, query.PageSize);
    }

    private static void Validate(AuditQuery query)
    {
        var errors = new List<string>();
        if (query.Page < 1)
        {
            errors.Add($"[page] must be at least 1, got [{query.Page}]");
        }

        if (query.PageSize is < 1 or > MaxPageSize)
        {
            errors.Add($"[page_size] must be between 1 and {MaxPageSize}, got [{query.PageSize}]");
        }

        if (query.From is { } from && query.To is { } to && to < from)
        {
            errors.Add("[to] must not be before [from]");
        }

        if (errors.Count > 0)
        {
            throw DomainValidationException.FromErrors(errors);
        }
    }
}
