using Microsoft.EntityFrameworkCore;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Endpoints;

/// <summary>Active API keys whose allow-list names the endpoint reference it (kind <c>api_keys</c>).</summary>
public sealed class ApiKeyEndpointReferences(WebConsoleDbContext db, TimeProvider time) : IEndpointReferenceSource
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<EndpointReference>> FindReferencesAsync(Guid organizationId, string inferenceId, CancellationToken cancellationToken)
    {
        // Allow-lists are stored as one JSON column, so the filter on its content runs here rather than in SQL.
        var keys = await db.ApiKeys.Where(k => k.OrganizationId == organizationId && k.InvalidatedAt == null).ToListAsync(cancellationToken);
        var now = time.GetUtcNow();
        return [.. keys
            .Where(k => k.IsActive(now) && k.AllowedEndpoints.Contains(inferenceId, StringComparer.Ordinal))
            .OrderBy(k => k.Name, StringComparer.Ordinal)
            .Select(k => new EndpointReference("api_keys", k.Name))];
    }
}
