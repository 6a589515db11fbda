using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WebConsole.Domain.Tenancy;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Catalog;

namespace WebConsole.Infrastructure.Persistence;

/// <summary>
/// Brings the database up to date at start: migrations, the catalog and reference rate limits, then the first start's
/// default organization, operator account and bootstrap key.
/// </summary>
public static class DatabaseInitializer
{
    /// <summary>Migrates and seeds the registered database. Call once before the host starts serving.</summary>
    public static async Task MigrateWebConsoleDatabaseAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(services);
        // Start-up runs outside any request: the system scope sees every organization.
        await using var context = services.GetRequiredService<ISystemDbContextFactory>().CreateDbContext();
        await InitializeAsync(context, cancellationToken);

        var settings = services.GetRequiredService<IOptions<WebConsoleOptions>>().Value.Bootstrap;
        var passwords = services.GetService<IPasswordHasher<User>>() ?? new PasswordHasher<User>();
        var time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        var logger = services.GetService<ILoggerFactory>()?.CreateLogger("WebConsole.Bootstrap") ?? NullLogger.Instance;
        var strategy = context.Database.CreateExecutionStrategy();
        await strategy.ExecuteAsync(
            (context, settings, passwords, time, logger),
            static (state, ct) => IdentitySeeder.SeedAsync(state.context, state.settings, state.passwords, state.time, state.logger, ct),
            cancellationToken);
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
