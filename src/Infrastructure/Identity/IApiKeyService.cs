using WebConsole.Domain.ApiKeys;

namespace WebConsole.Infrastructure.Identity;

/// <summary>A key just created: the only moment the secret exists in plain text.</summary>
/// <param name="Id">The key id.</param>
/// <param name="Name">The key's name.</param>
/// <param name="Secret">The secret (<c>api_key</c> in Elasticsearch's response); show once, never store.</param>
/// <param name="Encoded">base64(<c>id:secret</c>), what clients send after <c>ApiKey </c> or <c>Bearer </c>.</param>
/// <param name="ExpiresAt">When the key expires; null for never.</param>
public sealed record CreatedApiKey(string Id, string Name, string Secret, string Encoded, DateTimeOffset? ExpiresAt);

/// <summary>Creates, lists, invalidates and verifies API keys; every call is limited to the caller's organization.</summary>
public interface IApiKeyService
{
    /// <summary>
    /// Creates a key for <paramref name="teamId"/> (default: the creator's team) in the creator's organization. The creator must
    /// hold manage_inference or administer the organization; a key cannot get a role above its creator's.
    /// Throws <see cref="ApiKeyAccessDeniedException"/> or <see cref="Domain.DomainValidationException"/>.
    /// </summary>
    Task<CreatedApiKey> CreateAsync(
        CallerIdentity creator,
        string name,
        ApiKeyRole role,
        DateTimeOffset? expiresAt,
        IReadOnlyList<string> allowedEndpoints,
        Guid? teamId = null,
        CancellationToken ct = default);

    /// <summary>Keys of the caller's organization, optionally filtered by id and/or name, ordered by creation time.</summary>
    Task<IReadOnlyList<ApiKey>> ListAsync(CallerIdentity caller, string? id = null, string? name = null, CancellationToken ct = default);

    /// <summary>
    /// Invalidates the keys of the caller's organization with these ids (and/or this name). Keys of other organizations
    /// are not found. Returns the number newly invalidated; verification caches forget them at once.
    /// </summary>
    Task<ApiKeyInvalidation> InvalidateAsync(CallerIdentity caller, IReadOnlyCollection<string> ids, string? name = null, CancellationToken ct = default);

    /// <summary>Verifies a key id and secret; null when unknown, wrong, expired or invalidated.</summary>
    Task<CallerIdentity?> AuthenticateAsync(string id, string secret, CancellationToken ct);
}

/// <summary>The result of an invalidation, in Elasticsearch's terms.</summary>
/// <param name="Invalidated">Ids invalidated now.</param>
/// <param name="PreviouslyInvalidated">Ids that were already invalidated.</param>
public sealed record ApiKeyInvalidation(IReadOnlyList<string> Invalidated, IReadOnlyList<string> PreviouslyInvalidated)
{
    /// <summary>How many keys were invalidated now.</summary>
    public int Count => Invalidated.Count;
}

/// <summary>The caller lacks the privilege for a key operation (403).</summary>
public sealed class ApiKeyAccessDeniedException(string message) : Exception(message);
