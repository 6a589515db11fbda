namespace WebConsole.Domain.Audit;

/// <summary>
/// One administrative action (an endpoint, key, limit or price created, changed or deleted): who did it, when and from where.
/// Entries are written once and never changed.
/// </summary>
public sealed class AuditEntry
{
    /// <summary>Longest action name accepted (e.g. <c>api_key.create</c>).</summary>
    public const int ActionMaxLength = 100;

    /// <summary>Longest resource type accepted (e.g. <c>api_key</c>).</summary>
    public const int ResourceTypeMaxLength = 100;

    /// <summary>Longest resource id accepted.</summary>
    public const int ResourceIdMaxLength = 200;

    /// <summary>Longest actor name accepted.</summary>
    public const int ActorNameMaxLength = 254;

    /// <summary>Longest remote address accepted (an IPv6 address with zone fits).</summary>
    public const int RemoteAddressMaxLength = 64;

    /// <summary>Longest user agent kept; longer ones are cut, not refused, since the client chooses it.</summary>
    public const int UserAgentMaxLength = 512;

    /// <summary>Longest details text kept.</summary>
    public const int DetailsMaxLength = 4000;

    private AuditEntry()
    {
    }

    /// <summary>Identifier.</summary>
    public Guid Id { get; private set; }

    /// <summary>The organization in which the action happened.</summary>
    public Guid OrganizationId { get; private set; }

    /// <summary>The user who acted (portal, or a user's key); null for a service key or the system.</summary>
    public Guid? ActorUserId { get; private set; }

    /// <summary>The API key that acted; null for portal sessions and the system.</summary>
    public string? ActorApiKeyId { get; private set; }

    /// <summary>A readable name of the actor (e-mail, <c>api_key:&lt;id&gt;</c>, <c>system</c>), kept even if the actor is deleted.</summary>
    public string ActorName { get; private set; } = string.Empty;

    /// <summary>What was done, e.g. <c>api_key.create</c>, <c>api_key.invalidate</c>, <c>endpoint.delete</c>.</summary>
    public string Action { get; private set; } = string.Empty;

    /// <summary>The kind of resource, e.g. <c>api_key</c>, <c>inference_endpoint</c>, <c>team</c>.</summary>
    public string ResourceType { get; private set; } = string.Empty;

    /// <summary>The resource's id.</summary>
    public string ResourceId { get; private set; } = string.Empty;

    /// <summary>Free text or JSON describing the change; never secrets.</summary>
    public string? Details { get; private set; }

    /// <summary>The caller's IP address.</summary>
    public string? RemoteAddress { get; private set; }

    /// <summary>The caller's user agent.</summary>
    public string? UserAgent { get; private set; }

    /// <summary>When the action happened (UTC).</summary>
    public DateTimeOffset OccurredAt { get; private set; }

    /// <summary>Creates an entry.</summary>
    public static AuditEntry Create(
        Guid id,
        Guid organizationId,
        Guid? actorUserId,
        string? actorApiKeyId,
        string actorName,
        string action,
        string resourceType,
        string resourceId,
        string? details,
        string? remoteAddress,
        string? userAgent,
        DateTimeOffset occurredAt) => new()
        {
            Id = Guard.NotEmpty(id, "id"),
            OrganizationId = Guard.NotEmpty(organizationId, "organization_id"),
            ActorUserId = actorUserId is { } user ? Guard.NotEmpty(user, "actor_user_id") : null,
            ActorApiKeyId = string.IsNullOrWhiteSpace(actorApiKeyId) ? null : actorApiKeyId.Trim(),
            ActorName = Cut(Guard.NotBlank(actorName, "actor_name"), ActorNameMaxLength)!,
            Action = Guard.NotBlank(action, "action", ActionMaxLength),
            ResourceType = Guard.NotBlank(resourceType, "resource_type", ResourceTypeMaxLength),
            ResourceId = Guard.NotBlank(resourceId, "resource_id", ResourceIdMaxLength),
            Details = Cut(details, DetailsMaxLength),
            RemoteAddress = Cut(remoteAddress, RemoteAddressMaxLength),
            UserAgent = Cut(userAgent, UserAgentMaxLength),
            OccurredAt = Guard.Utc(occurredAt),
        };

    private static string? Cut(string? value, int maxLength) =>
        string.IsNullOrWhiteSpace(value) ? null : value.Length <= maxLength ? value : value[..maxLength];
}
