namespace WebConsole.Infrastructure.Endpoints;

/// <summary>Something that uses an endpoint and so blocks its deletion (without <c>force</c>).</summary>
/// <param name="Kind">The kind, plural, as the 409 message names it, e.g. <c>api_keys</c>.</param>
/// <param name="Name">What refers to the endpoint, e.g. the key's name.</param>
public sealed record EndpointReference(string Kind, string Name);

/// <summary>
/// A feature that can refer to inference endpoints (API-key allow-lists; later limit and price overrides, saved
/// conversations). Registered in DI; delete asks every source. Scoped.
/// </summary>
public interface IEndpointReferenceSource
{
    /// <summary>The references to <paramref name="inferenceId"/> in <paramref name="organizationId"/>.</summary>
    Task<IReadOnlyList<EndpointReference>> FindReferencesAsync(Guid organizationId, string inferenceId, CancellationToken cancellationToken);
}
