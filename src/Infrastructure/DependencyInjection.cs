using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using WebConsole.Infrastructure.Connectors;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.RateLimiting;
using WebConsole.Infrastructure.Text;

namespace WebConsole.Infrastructure;

/// <summary>Registers the infrastructure layer: persistence, text segmentation, the clock.</summary>
public static class DependencyInjection
{
    /// <summary>
    /// Adds the database on the provider <c>Database:Provider</c> names (one of <paramref name="databaseProviders"/>, which the
    /// composition root passes in because the provider projects depend on this one), ICU segmentation and <see cref="TimeProvider"/>.
    /// </summary>
    public static IHostApplicationBuilder AddInfrastructure(this IHostApplicationBuilder builder, params IDatabaseProvider[] databaseProviders)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<Admission.InferenceAdmission>();
        builder.Services.AddWebConsoleRateLimiting();
        builder.Services.AddWebConsoleRateLimitSharing();
        builder.AddWebConsolePersistence(databaseProviders);
        builder.Services.AddIcuTextSegmentation();
        builder.Services.AddWebConsoleConnectors();
        return builder;
    }
}
