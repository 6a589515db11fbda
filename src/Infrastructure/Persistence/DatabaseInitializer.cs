using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using WebConsole.Infrastructure.Catalog;

namespace WebConsole.Infrastructure.Persistence;

/// <summary>Brings the database up to date at start: migrations, then the catalog and reference rate limits.</summary>
public static class DatabaseInitializer
{
    /// <summary>Migrates and seeds the registered database. Call once before the host starts serving.</summary>
    public static async Task MigrateWebConsoleDatabaseAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(services);
        var factory = services.GetRequiredService<IDbContextFactory<WebConsoleDbContext>>();
        await using var context = await factory.CreateDbContextAsync(cancellationToken);
        await InitializeAsync(context, cancellationToken);
    }

    /// <summary>Migrates and seeds through the given context, each step inside the provider's execution strategy.</summary>
    public static async Task InitializeAsync(WebConsoleDbContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var strategy = context.Database.CreateExecutionStrategy();
        await strategy.ExecuteAsync(context, static (c, ct) => c.Database.MigrateAsync(ct), cancellationToken);
        await strategy.ExecuteAsync(context, static (c, ct) => CatalogSeeder.SeedAsync(c, ct), cancellationToken);
    }
}
