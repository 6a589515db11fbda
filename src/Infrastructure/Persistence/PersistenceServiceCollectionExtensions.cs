using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WebConsole.Infrastructure.Identity;

namespace WebConsole.Infrastructure.Persistence;

/// <summary>Registers the database.</summary>
public static class PersistenceServiceCollectionExtensions
{
    /// <summary>Configuration key that picks the provider.</summary>
    public const string ProviderKey = "Database:Provider";

    /// <summary>Name of the connection string (<c>ConnectionStrings:WebConsole</c>).</summary>
    public const string ConnectionStringName = "WebConsole";

    /// <summary>The provider used when <see cref="ProviderKey"/> is not set.</summary>
    public const string DefaultProvider = "Sqlite";

    /// <summary>
    /// Registers <see cref="WebConsoleDbContext"/> (scoped) and <see cref="IDbContextFactory{TContext}"/> (for Blazor
    /// components and background work) on the provider that <c>Database:Provider</c> names, with
    /// <c>ConnectionStrings:WebConsole</c> or the provider's default (SQLite: <c>&lt;DataDirectory&gt;/webconsole.db</c>).
    /// A wrong setting stops startup with a message that names the key.
    /// </summary>
    public static IHostApplicationBuilder AddWebConsolePersistence(this IHostApplicationBuilder builder, params IDatabaseProvider[] providers)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (providers.Length == 0)
        {
            throw new ArgumentException("At least one database provider must be registered.", nameof(providers));
        }

        builder.Services.AddOptions<WebConsoleOptions>()
            .BindConfiguration(WebConsoleOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        var selection = Select(builder.Configuration, builder.Environment.ContentRootPath, providers);
        builder.Services.TryAddSingleton(selection);
        builder.Services.TryAddSingleton(TimeProvider.System);

        // The factory is scoped so that each context it makes takes the scope's ITenantContext (request or circuit): the
        // tenant filter cannot be skipped by resolving a factory. Code outside a scope uses ISystemDbContextFactory.
        builder.Services.AddDbContextFactory<WebConsoleDbContext>(
            options => selection.Provider.Configure(options, selection.ConnectionString), ServiceLifetime.Scoped);
        builder.Services.TryAddScoped(sp => sp.GetRequiredService<IDbContextFactory<WebConsoleDbContext>>().CreateDbContext());
        builder.Services.TryAddScoped<ITenantContext>(_ => FixedTenantContext.None);
        builder.Services.TryAddSingleton<ISystemDbContextFactory, SystemDbContextFactory>();
        return builder;
    }

    /// <summary>Resolves the provider and connection string from configuration; throws naming the key at fault.</summary>
    public static DatabaseSelection Select(IConfiguration configuration, string contentRootPath, IReadOnlyList<IDatabaseProvider> providers)
    {
        var name = configuration[ProviderKey];
        name = string.IsNullOrWhiteSpace(name) ? DefaultProvider : name.Trim();
        var provider = providers.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw Invalid($"{ProviderKey} is '{name}', which is not a known database provider; use one of: {string.Join(", ", providers.Select(p => p.Name))}.");

        var connectionString = configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            var options = new WebConsoleOptions();
            configuration.GetSection(WebConsoleOptions.SectionName).Bind(options);
            connectionString = provider.DefaultConnectionString(options.ResolveDataDirectory(contentRootPath))
                ?? throw Invalid($"ConnectionStrings:{ConnectionStringName} is required when {ProviderKey} is '{provider.Name}'.");
        }

        return new DatabaseSelection(provider, connectionString);
    }

    // The same exception as options validation, so start-up reports every configuration mistake alike.
    private static OptionsValidationException Invalid(string message) =>
        new(ProviderKey, typeof(DatabaseSelection), [message]);
}

/// <summary>The database chosen at startup.</summary>
/// <param name="Provider">The provider.</param>
/// <param name="ConnectionString">The connection string in use.</param>
public sealed record DatabaseSelection(IDatabaseProvider Provider, string ConnectionString);
