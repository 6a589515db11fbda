using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace WebConsole.Infrastructure.Secrets;

/// <summary>Registers the protection of secrets at rest.</summary>
public static class SecretsServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="ISecretProtector"/> and <see cref="ServiceSettingsSecrets"/> (singletons). Data Protection itself
    /// (application name <c>WebConsole</c>, key ring under the data directory) is configured by the composition root;
    /// <c>AddDataProtection</c> here only makes sure the services exist.
    /// </summary>
    public static IServiceCollection AddWebConsoleSecrets(this IServiceCollection services)
    {
        services.AddDataProtection();
        services.TryAddSingleton<ISecretProtector, DataProtectionSecretProtector>();
        services.TryAddSingleton<ServiceSettingsSecrets>();
        return services;
    }
}
