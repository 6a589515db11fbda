using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace WebConsole.Infrastructure.Audit;

/// <summary>Registers the audit trail.</summary>
public static class AuditServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="IAuditLog"/> and <see cref="AuditQueryService"/> (scoped, like the tenant they write and read for)
    /// and a request-less <see cref="IAuditContextAccessor"/> that the Web layer replaces with one over the HTTP request.
    /// </summary>
    public static IServiceCollection AddWebConsoleAudit(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IAuditContextAccessor, NoAuditContextAccessor>();
        services.TryAddScoped<IAuditLog, AuditLog>();
        services.TryAddScoped<AuditQueryService>();
        return services;
    }
}
