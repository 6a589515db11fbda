using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WebConsole.Domain.Tenancy;

namespace WebConsole.Infrastructure.Identity;

/// <summary>Registers API keys and password hashing.</summary>
public static class IdentityServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="IApiKeyService"/> (scoped; it writes audit entries through IAuditLog, which must be registered),
    /// the node's <see cref="ApiKeyCache"/> and the shared framework's <see cref="IPasswordHasher{TUser}"/> for portal users.
    /// </summary>
    public static IServiceCollection AddWebConsoleIdentity(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ApiKeyCache>();
        services.TryAddScoped<IApiKeyService, ApiKeyService>();
        services.TryAddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();
        return services;
    }
}
