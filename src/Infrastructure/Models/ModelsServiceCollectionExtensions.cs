using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using WebConsole.Inference.ModelStore;
using WebConsole.Inference.Starter;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Models;

/// <summary>Registers the model store: hub downloads, the starter pack, the built-in models and the <c>elastic</c> service.</summary>
public static class ModelsServiceCollectionExtensions
{
    /// <summary>The configuration section of the hub (<c>BaseUrl</c>, <c>Token</c>, retries).</summary>
    public const string HubSection = HubOptions.SectionName;

    /// <summary>The configuration section of the starter pack (<c>NpmRegistry</c>, <c>CacheDirectory</c>, <c>PackagesDirectory</c>).</summary>
    public const string StarterSection = "Inference:Starter";

    /// <summary>Adds the model store and what feeds it. Call after the persistence services (it reads <see cref="WebConsoleOptions"/>).</summary>
    public static IServiceCollection AddModelStore(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<HubOptions>().BindConfiguration(HubSection).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Dictionary<string, BuiltInModelSourceOptions>>().BindConfiguration(BuiltInModels.Section);
        services.AddOptions<StarterPackOptions>().BindConfiguration(StarterSection)
            .PostConfigure<IOptions<WebConsoleOptions>>((starter, webConsole) =>
            {
                // WebConsole:CacheDirectory moves the whole cache; Inference:Starter:* still wins for its own folders.
                if (webConsole.Value.CacheDirectory is { Length: > 0 })
                {
                    var cache = webConsole.Value.ResolveCacheDirectory();
                    starter.CacheDirectory = Path.Combine(cache, "starter");
                    starter.PackagesDirectory = Path.Combine(cache, "npm");
                }
            });

        // The hub client follows redirects itself (the hub sends large files to a CDN): it reads X-Linked-Etag on the way
        // and sends the token to the hub's own host only. Nothing is decompressed: sizes and checksums are of the bytes on the wire.
        services.TryAddSingleton(sp => new HubClient(
            new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None, ConnectTimeout = TimeSpan.FromSeconds(15) })
            {
                Timeout = Timeout.InfiniteTimeSpan,
            },
            sp.GetRequiredService<IOptions<HubOptions>>()));
        services.TryAddSingleton(sp => new NpmPackageFetcher(
            new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(15) }) { Timeout = Timeout.InfiniteTimeSpan },
            sp.GetRequiredService<IOptions<StarterPackOptions>>().Value));
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<StarterPackOptions>>().Value);
        services.TryAddSingleton<ModelStore>();
        services.TryAddSingleton(sp => new BuiltInModels(sp.GetRequiredService<IOptions<Dictionary<string, BuiltInModelSourceOptions>>>()));
        services.TryAddSingleton<ModelSourceFactory>();
        services.TryAddSingleton<ModelProvisioner>();
        services.TryAddSingleton<ModelDescriptions>();
        services.TryAddSingleton<Catalog.ManagedCatalog>();
        services.TryAddSingleton<Catalog.CatalogBackendSecrets>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IInferenceService, ElasticInferenceService>());
        return services;
    }
}
