using System.Security.Claims;
using WebConsole.Domain.ApiKeys;

namespace WebConsole.Infrastructure.Identity;

/// <summary>
/// Who is calling, resolved once by authentication (an API key or a portal session) and carried as claims.
/// </summary>
/// <param name="OrganizationId">The caller's organization: every query is filtered by it.</param>
/// <param name="TeamId">The key's team, or the user's first team; null for users without a team.</param>
/// <param name="UserId">The user (portal session or a user's key); null for service keys.</param>
/// <param name="ApiKeyId">The API key id when the caller used a key.</param>
/// <param name="Privileges">Elasticsearch privileges: manage_inference and/or monitor_inference.</param>
/// <param name="IsOrganizationAdmin">Whether the caller administers the organization.</param>
/// <param name="IsPlatformOperator">Whether the caller operates the installation.</param>
/// <param name="AllowedEndpoints">Inference ids the key may use; empty means all.</param>
public sealed record CallerIdentity(
    Guid OrganizationId,
    Guid? TeamId,
    Guid? UserId,
    string? ApiKeyId,
    IReadOnlySet<Privilege> Privileges,
    bool IsOrganizationAdmin,
    bool IsPlatformOperator,
    IReadOnlyList<string> AllowedEndpoints)
{
    /// <summary>A readable name for logs and the audit trail (never a secret).</summary>
    public string DisplayName { get; init; } = ApiKeyId is { } key ? $"api_key:{key}" : UserId is { } user ? $"user:{user}" : "system";

    /// <summary>Whether the caller holds a privilege.</summary>
    public bool Has(Privilege privilege) => Privileges.Contains(privilege);

    /// <summary>Whether the caller may use an endpoint (an empty allow-list allows all).</summary>
    public bool MayUse(string inferenceId) => AllowedEndpoints.Count == 0 || AllowedEndpoints.Contains(inferenceId, StringComparer.Ordinal);

    /// <summary>The claims that carry this identity; <see cref="CallerIdentityExtensions.GetCaller"/> reads them back.</summary>
    public IEnumerable<Claim> ToClaims()
    {
        yield return new Claim(CallerClaimTypes.OrganizationId, OrganizationId.ToString());
        yield return new Claim(ClaimTypes.Name, DisplayName);
        if (TeamId is { } team)
        {
            yield return new Claim(CallerClaimTypes.TeamId, team.ToString());
        }

        if (UserId is { } user)
        {
            yield return new Claim(ClaimTypes.NameIdentifier, user.ToString());
        }

        if (ApiKeyId is { } key)
        {
            yield return new Claim(CallerClaimTypes.ApiKeyId, key);
        }

        foreach (var privilege in Privileges)
        {
            yield return new Claim(CallerClaimTypes.Privilege, PrivilegeNames.ToName(privilege));
        }

        if (IsOrganizationAdmin)
        {
            yield return new Claim(CallerClaimTypes.OrganizationAdmin, "true");
        }

        if (IsPlatformOperator)
        {
            yield return new Claim(CallerClaimTypes.PlatformOperator, "true");
        }

        foreach (var endpoint in AllowedEndpoints)
        {
            yield return new Claim(CallerClaimTypes.AllowedEndpoint, endpoint);
        }
    }
}

/// <summary>Claim types of <see cref="CallerIdentity"/>.</summary>
public static class CallerClaimTypes
{
    /// <summary>The organization id.</summary>
    public const string OrganizationId = "webconsole:organization";

    /// <summary>The team id.</summary>
    public const string TeamId = "webconsole:team";

    /// <summary>The API key id.</summary>
    public const string ApiKeyId = "webconsole:api_key";

    /// <summary>One privilege (manage_inference, monitor_inference).</summary>
    public const string Privilege = "webconsole:privilege";

    /// <summary>Present when the caller administers the organization.</summary>
    public const string OrganizationAdmin = "webconsole:organization_admin";

    /// <summary>Present when the caller operates the installation.</summary>
    public const string PlatformOperator = "webconsole:platform_operator";

    /// <summary>One allowed inference id.</summary>
    public const string AllowedEndpoint = "webconsole:allowed_endpoint";
}

/// <summary>Elasticsearch's names of the privileges.</summary>
public static class PrivilegeNames
{
    /// <summary><c>manage_inference</c>.</summary>
    public const string ManageInference = "manage_inference";

    /// <summary><c>monitor_inference</c>.</summary>
    public const string MonitorInference = "monitor_inference";

    /// <summary>The wire name of a privilege.</summary>
    public static string ToName(Privilege privilege) => privilege switch
    {
        Privilege.ManageInference => ManageInference,
        Privilege.MonitorInference => MonitorInference,
        _ => throw new ArgumentOutOfRangeException(nameof(privilege), privilege, null),
    };

    /// <summary>Parses a wire name; null when unknown.</summary>
    public static Privilege? Parse(string? name) => name switch
    {
        ManageInference => Privilege.ManageInference,
        MonitorInference => Privilege.MonitorInference,
        _ => null,
    };

    /// <summary>The privileges a role grants.</summary>
    public static IReadOnlySet<Privilege> Of(ApiKeyRole role) => role switch
    {
        ApiKeyRole.InferenceAdmin => new HashSet<Privilege> { Privilege.ManageInference, Privilege.MonitorInference },
        _ => new HashSet<Privilege> { Privilege.MonitorInference },
    };
}

/// <summary>Reads the <see cref="CallerIdentity"/> back from an authenticated principal.</summary>
public static class CallerIdentityExtensions
{
    /// <summary>The caller, or null when the principal is not authenticated or carries no organization.</summary>
    public static CallerIdentity? GetCaller(this ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.Identity?.IsAuthenticated != true
            || !Guid.TryParse(user.FindFirstValue(CallerClaimTypes.OrganizationId), out var organization))
        {
            return null;
        }

        Guid? team = Guid.TryParse(user.FindFirstValue(CallerClaimTypes.TeamId), out var t) ? t : null;
        Guid? userId = Guid.TryParse(user.FindFirstValue(ClaimTypes.NameIdentifier), out var u) ? u : null;
        var privileges = user.FindAll(CallerClaimTypes.Privilege)
            .Select(c => PrivilegeNames.Parse(c.Value))
            .OfType<Privilege>()
            .ToHashSet();
        return new CallerIdentity(
            organization,
            team,
            userId,
            user.FindFirstValue(CallerClaimTypes.ApiKeyId),
            privileges,
            user.HasClaim(c => c.Type == CallerClaimTypes.OrganizationAdmin),
            user.HasClaim(c => c.Type == CallerClaimTypes.PlatformOperator),
            user.FindAll(CallerClaimTypes.AllowedEndpoint).Select(c => c.Value).ToArray())
        {
            DisplayName = user.FindFirstValue(ClaimTypes.Name) ?? "unknown",
        };
    }
}
