using Microsoft.EntityFrameworkCore;
using WebConsole.Infrastructure.Identity;

namespace WebConsole.Infrastructure.Persistence;

/// <summary>
/// Creates contexts in the system scope, which see every organization: start-up migration and seeding, background work,
/// platform-operator views across organizations, and authentication (which must find a key before the tenant is known).
/// Depend on it only where crossing organizations is the point; request code uses the scoped, filtered context.
/// </summary>
public interface ISystemDbContextFactory
{
    /// <summary>A new unfiltered context; the caller disposes it.</summary>
    WebConsoleDbContext CreateDbContext();

    /// <summary>A new context filtered for <paramref name="tenant"/>, for singleton services acting for one caller.</summary>
    WebConsoleDbContext CreateDbContext(ITenantContext tenant);
}

internal sealed class SystemDbContextFactory(DatabaseSelection selection) : ISystemDbContextFactory
{
    private readonly DbContextOptions<WebConsoleDbContext> _options = Build(selection);

    public WebConsoleDbContext CreateDbContext() => new(_options, FixedTenantContext.System);

    public WebConsoleDbContext CreateDbContext(ITenantContext tenant) => new(_options, tenant);

    private static DbContextOptions<WebConsoleDbContext> Build(DatabaseSelection selection)
    {
        var builder = new DbContextOptionsBuilder<WebConsoleDbContext>();
        selection.Provider.Configure(builder, selection.ConnectionString);
        return builder.Options;
    }
}
