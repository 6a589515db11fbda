using System.Text.RegularExpressions;
using WebConsole.Domain.Endpoints;

namespace WebConsole.Domain.ApiKeys;

/// <summary>Privileges of the Elasticsearch inference API.</summary>
public enum Privilege
{
    /// <summary><c>manage_inference</c>: create, update and delete endpoints.</summary>
    ManageInference,

    /// <summary><c>monitor_inference</c>: list endpoints and run inference.</summary>
    MonitorInference,
}

/// <summary>Built-in roles an API key carries.</summary>
public enum ApiKeyRole
{
    /// <summary><c>inference_admin</c>: manage and monitor.</summary>
    InferenceAdmin,

    /// <summary><c>inference_user</c>: monitor only.</summary>
    InferenceUser,
}

/// <summary>
/// An Elasticsearch-style API key (<c>id:secret</c>, sent base64-encoded). Only the secret's hash is kept; hashing is
/// done outside the domain.
/// </summary>
public sealed partial class ApiKey
{
    /// <summary>Longest key id accepted.</summary>
    public const int IdMaxLength = 64;

    /// <summary>Longest name accepted.</summary>
    public const int NameMaxLength = 200;

    private ApiKey()
    {
    }

    /// <summary>The key id (the part before the colon), e.g. <c>bootstrap</c> or a random id.</summary>
    public string Id { get; private set; } = string.Empty;

    /// <summary>A name for people.</summary>
    public string Name { get; private set; } = string.Empty;

    /// <summary>The organization the key's team belongs to, kept on the key so tenant filters need no join.</summary>
    public Guid OrganizationId { get; private set; }

    /// <summary>The team the key acts for.</summary>
    public Guid TeamId { get; private set; }

    /// <summary>The user who owns the key; null for service keys.</summary>
    public Guid? UserId { get; private set; }

    /// <summary>Hash of the secret.</summary>
    public string SecretHash { get; private set; } = string.Empty;

    /// <summary>The key's role.</summary>
    public ApiKeyRole Role { get; private set; }

    /// <summary>When the key stops working (UTC); null for never.</summary>
    public DateTimeOffset? ExpiresAt { get; private set; }

    /// <summary>Inference ids the key may use; empty means all of the team's organization's endpoints.</summary>
    public IReadOnlyList<string> AllowedEndpoints { get; private set; } = [];

    /// <summary>When the key was created (UTC).</summary>
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>When the key was invalidated (UTC); null while valid.</summary>
    public DateTimeOffset? InvalidatedAt { get; private set; }

    /// <summary>Creates a key from an id and the hash of its secret.</summary>
    public static ApiKey Create(
        string id,
        string name,
        Guid organizationId,
        Guid teamId,
        Guid? userId,
        string secretHash,
        ApiKeyRole role,
        DateTimeOffset? expiresAt,
        IEnumerable<string>? allowedEndpoints,
        DateTimeOffset now)
    {
        if (id is null || id.Length > IdMaxLength || !IdPattern().IsMatch(id))
        {
            throw new DomainValidationException(
                $"Invalid API key id [{id}]; it can contain letters, digits, hyphens and underscores and be at most {IdMaxLength} characters");
        }

        if (!Enum.IsDefined(role))
        {
            throw new DomainValidationException($"Unknown API key role [{role}]");
        }

        var created = Guard.Utc(now);
        if (expiresAt is { } expiry && expiry <= created)
        {
            throw new DomainValidationException("[expiration] must be in the future");
        }

        return new ApiKey
        {
            Id = id,
            Name = Guard.Name(name, "name", NameMaxLength),
            OrganizationId = Guard.NotEmpty(organizationId, "organization_id"),
            TeamId = Guard.NotEmpty(teamId, "team_id"),
            UserId = userId is { } user ? Guard.NotEmpty(user, "user_id") : null,
            SecretHash = Guard.NotBlank(secretHash, "secret_hash"),
            Role = role,
            ExpiresAt = expiresAt is { } e ? Guard.Utc(e) : null,
            AllowedEndpoints = NormalizeEndpoints(allowedEndpoints),
            CreatedAt = created,
        };
    }

    /// <summary>Whether the role carries a privilege.</summary>
    public bool Grants(Privilege privilege) => Grants(Role, privilege);

    /// <summary>Whether a role carries a privilege: admin has both, user has monitor only.</summary>
    public static bool Grants(ApiKeyRole role, Privilege privilege) => (role, privilege) switch
    {
        (ApiKeyRole.InferenceAdmin, _) => true,
        (ApiKeyRole.InferenceUser, Privilege.MonitorInference) => true,
        _ => false,
    };

    /// <summary>Whether the key authenticates at <paramref name="now"/>: not invalidated and not expired.</summary>
    public bool IsActive(DateTimeOffset now) => InvalidatedAt is null && (ExpiresAt is null || now < ExpiresAt);

    /// <summary>Whether the key may use an endpoint (an empty list allows all).</summary>
    public bool MayUse(string inferenceId) =>
        AllowedEndpoints.Count == 0 || AllowedEndpoints.Contains(inferenceId, StringComparer.Ordinal);

    /// <summary>Invalidates the key; invalidating again keeps the first time.</summary>
    public void Invalidate(DateTimeOffset now) => InvalidatedAt ??= Guard.Utc(now);

    /// <summary>Renames the key.</summary>
    public void Rename(string name) => Name = Guard.Name(name, "name", NameMaxLength);

    /// <summary>Replaces the list of endpoints the key may use (empty = all).</summary>
    public void RestrictTo(IEnumerable<string>? allowedEndpoints) => AllowedEndpoints = NormalizeEndpoints(allowedEndpoints);

    private static string[] NormalizeEndpoints(IEnumerable<string>? endpoints) =>
        endpoints is null
            ? []
            : endpoints.Select(e => InferenceId.Parse(e).Value).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

    [GeneratedRegex("^[A-Za-z0-9_-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();
}
