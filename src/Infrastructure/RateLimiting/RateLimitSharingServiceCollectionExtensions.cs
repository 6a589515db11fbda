using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WebConsole.Domain.RateLimiting;

namespace WebConsole.Infrastructure.RateLimiting;

/// <summary>Registers the sharing of rate-limit counts between nodes.</summary>
public static class RateLimitSharingServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="RateLimitSharingOptions"/> (section <c>RateLimiting:Sharing</c>, validated at start) and
    /// <see cref="RateLimitSharing"/> as a hosted service on the process's one <see cref="SlidingWindowLimiter"/>.
    /// </summary>
    public static IServiceCollection AddWebConsoleRateLimitSharing(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<RateLimitSharingOptions>()
            .BindConfiguration(RateLimitSharingOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RateLimitSharingOptions>, RateLimitSharingOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        // The same instance the rate-limit gate decides with (TryAdd: whichever registration comes first wins).
        services.TryAddSingleton<SlidingWindowLimiter>(sp => new SlidingWindowLimiter(sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<RateLimitSharing>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<RateLimitSharing>());
        return services;
    }
}
