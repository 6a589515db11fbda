using Microsoft.EntityFrameworkCore;
using WebConsole.Domain.RateLimiting;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Catalog;

/// <summary>
/// Writes the embedded catalog into the database at every start: catalog rows are inserted or updated by id (the file
/// is the source of truth; rows no longer in it stay, nothing migrates automatically); reference rate limits are
/// inserted when no global policy for their models exists, so an operator's later change is kept.
/// </summary>
public static class CatalogSeeder
{
    /// <summary>Seeds the embedded catalog; returns the number of rows written (0 when already up to date).</summary>
    public static Task<int> SeedAsync(WebConsoleDbContext context, CancellationToken cancellationToken = default) =>
        SeedAsync(context, CatalogDocument.LoadEmbedded(), cancellationToken);

    /// <summary>Seeds a catalog; returns the number of rows written (0 when already up to date).</summary>
    public static async Task<int> SeedAsync(WebConsoleDbContext context, CatalogDocument catalog, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(catalog);

        // A retried attempt (execution strategy) must start from a clean slate.
        context.ChangeTracker.Clear();

        var stored = await context.CatalogModels.ToDictionaryAsync(m => m.Id, StringComparer.Ordinal, cancellationToken);
        foreach (var model in catalog.Models)
        {
            if (stored.TryGetValue(model.Id, out var existing))
            {
                existing.UpdateFrom(model);
            }
            else
            {
                context.CatalogModels.Add(model);
            }
        }

        var globalSelectors = (await context.RateLimitPolicies
                .Where(p => p.Scope == RateLimitScope.Global)
                .ToListAsync(cancellationToken))
            .Select(p => p.ModelSelector)
            .ToHashSet();
        foreach (var reference in catalog.RateLimits.Concat(catalog.FamilyDefaults()).Where(r => globalSelectors.Add(r.Selector)))
        {
            context.RateLimitPolicies.Add(RateLimitPolicy.Create(Guid.NewGuid(), RateLimitScope.Global, null, reference.Selector, reference.Limit));
        }

        return await context.SaveChangesAsync(cancellationToken);
    }
}
