using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using WebConsole.Domain.RateLimiting;
using WebConsole.Infrastructure.Admission;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.RateLimiting;

/// <summary>Registers the inbound rate limits.</summary>
public static class RateLimitingServiceCollectionExtensions
{
    /// <summary>
    /// Adds the one <see cref="SlidingWindowLimiter"/> of the process (on the DI clock; whatever shares counts between
    /// nodes uses this same instance), the policy cache <see cref="RateLimitPolicies"/> and the <see cref="RateLimitGate"/>
    /// as an <see cref="IAdmissionGate"/>.
    /// </summary>
    public static IServiceCollection AddWebConsoleRateLimiting(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SlidingWindowLimiter>(sp => new SlidingWindowLimiter(sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new RateLimitPolicies(
            sp.GetRequiredService<ISystemDbContextFactory>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<RateLimitPolicies>>()));
        services.TryAddSingleton<RateLimitGate>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAdmissionGate, RateLimitGate>(sp => sp.GetRequiredService<RateLimitGate>()));
        return services;
    }
}
