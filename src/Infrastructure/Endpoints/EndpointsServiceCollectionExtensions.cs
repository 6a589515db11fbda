using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace WebConsole.Infrastructure.Endpoints;

/// <summary>Registers inference endpoints: the services, the registry, the resolver, CRUD and reference sources.</summary>
public static class EndpointsServiceCollectionExtensions
{
    /// <summary>
    /// Adds the <c>elasticsearch</c> service and the endpoint machinery. Further services register themselves with
    /// <c>services.AddSingleton&lt;IInferenceService, TheirService&gt;()</c> and so appear in <c>_services</c>.
    /// </summary>
    public static IServiceCollection AddInferenceEndpoints(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IInferenceService, ElasticsearchInferenceService>());
        services.TryAddSingleton<IInferenceServiceRegistry, InferenceServiceRegistry>();
        services.TryAddSingleton<ReservedEndpoints>();
        services.TryAddScoped<IEndpointResolver, EndpointResolver>();
        services.TryAddScoped<InferenceEndpointService>();
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IEndpointReferenceSource, ApiKeyEndpointReferences>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IEndpointReferenceSource, ConversationEndpointReferences>());
        return services;
    }
}
