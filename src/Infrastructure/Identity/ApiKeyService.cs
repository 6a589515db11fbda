using Microsoft.EntityFrameworkCore;
using WebConsole.Domain;
using WebConsole.Domain.ApiKeys;
using WebConsole.Domain.Tenancy;
using WebConsole.Infrastructure.Audit;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Identity;

/// <summary>
/// API keys over the database. Operations for a caller run on a context filtered to the caller's organization, so a key
/// of another organization is simply not found; authentication runs in the system scope because the organization is
/// what it finds out. Administrative actions are written to the audit log here, once, for every surface.
/// </summary>
internal sealed class ApiKeyService(
    ISystemDbContextFactory contexts,
    ApiKeyCache cache,
    IAuditLog audit,
    TimeProvider time) : IApiKeyService
{
    public async Task<CreatedApiKey> CreateAsync(
        CallerIdentity creator,
        string name,
        ApiKeyRole role,
        DateTimeOffset? expiresAt,
        IReadOnlyList<string> allowedEndpoints,
        Guid? teamId = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(creator);
        EnsureMayManage(creator, "cluster:admin/xpack/security/api_key/create");
        if (role == ApiKeyRole.InferenceAdmin && !creator.Has(Privilege.ManageInference) && !creator.IsOrganizationAdmin)
        {
            throw new ApiKeyAccessDeniedException($"{Describe(creator)} cannot create a key with a role above its own");
        }

        await using var context = contexts.CreateDbContext(FixedTenantContext.For(creator.OrganizationId));
        var team = teamId ?? creator.TeamId
            ?? await context.Teams.OrderBy(t => t.CreatedAt).Select(t => (Guid?)t.Id).FirstOrDefaultAsync(ct)
            ?? throw new DomainValidationException("The organization has no team to own the key; create a team first");
        if (!await context.Teams.AnyAsync(t => t.Id == team, ct))
        {
            throw new DomainValidationException($"Unknown team [{team}]");
        }

        if (!ManagesWholeOrganization(creator) && team != creator.TeamId)
        {
            throw new ApiKeyAccessDeniedException($"{Describe(creator)} cannot create keys for another team");
        }

        var id = ApiKeySecrets.NewId();
        var secret = ApiKeySecrets.NewSecret();
        var key = ApiKey.Create(id, name, creator.OrganizationId, team, creator.ApiKeyId is null ? creator.UserId : null,
            ApiKeySecrets.Hash(secret), role, expiresAt, allowedEndpoints, time.GetUtcNow());
        context.ApiKeys.Add(key);
        await context.SaveChangesAsync(ct);
        await audit.RecordAsync(creator, "api_key.create", "api_key", id,
            $"name={key.Name}; role={RoleNames.ToName(role)}; expires={key.ExpiresAt?.ToString("O") ?? "never"}", ct);
        return new CreatedApiKey(id, key.Name, secret, ApiKeySecrets.Encode(id, secret), key.ExpiresAt);
    }

    public async Task<IReadOnlyList<ApiKey>> ListAsync(CallerIdentity caller, string? id = null, string? name = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        await using var context = contexts.CreateDbContext(FixedTenantContext.For(caller.OrganizationId));
        var query = context.ApiKeys.AsNoTracking();
        if (!MayManage(caller))
        {
            // Without manage rights a caller sees only its own key(s), as Elasticsearch's owner=true.
            query = caller.ApiKeyId is { } own
                ? query.Where(k => k.Id == own || (caller.UserId != null && k.UserId == caller.UserId))
                : query.Where(k => k.UserId == caller.UserId);
        }

        if (!string.IsNullOrEmpty(id))
        {
            query = query.Where(k => k.Id == id);
        }

        if (!string.IsNullOrEmpty(name))
        {
            query = query.Where(k => k.Name == name);
        }

        var keys = await query.ToListAsync(ct);
        return keys.OrderBy(k => k.CreatedAt).ThenBy(k => k.Id, StringComparer.Ordinal).ToList();
    }

    public async Task<ApiKeyInvalidation> InvalidateAsync(CallerIdentity caller, IReadOnlyCollection<string> ids, string? name = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(ids);
        EnsureMayManage(caller, "cluster:admin/xpack/security/api_key/invalidate");
        if (ids.Count == 0 && string.IsNullOrEmpty(name))
        {
            return new ApiKeyInvalidation([], []);
        }

        await using var context = contexts.CreateDbContext(FixedTenantContext.For(caller.OrganizationId));
        var idList = ids.ToList();
        // A team's admin (or its admin key) manages that team's keys only; other teams' keys are not found.
        var wholeOrganization = ManagesWholeOrganization(caller);
        var keys = await context.ApiKeys
            .Where(k => idList.Contains(k.Id) || (name != null && k.Name == name))
            .Where(k => wholeOrganization || k.TeamId == caller.TeamId)
            .ToListAsync(ct);
        var now = time.GetUtcNow();
        var invalidated = new List<string>();
        var previously = new List<string>();
        foreach (var key in keys.OrderBy(k => k.Id, StringComparer.Ordinal))
        {
            if (key.InvalidatedAt is not null)
            {
                previously.Add(key.Id);
                continue;
            }

            key.Invalidate(now);
            invalidated.Add(key.Id);
        }

        await context.SaveChangesAsync(ct);
        foreach (var id in invalidated.Concat(previously))
        {
            cache.Remove(id);
        }

        foreach (var id in invalidated)
        {
            await audit.RecordAsync(caller, "api_key.invalidate", "api_key", id, null, ct);
        }

        return new ApiKeyInvalidation(invalidated, previously);
    }

    public async Task<CallerIdentity?> AuthenticateAsync(string id, string secret, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(secret);
        if (cache.TryGet(id, secret) is { } cached)
        {
            return cached;
        }

        if (id.Length > ApiKey.IdMaxLength)
        {
            return null;
        }

        await using var context = contexts.CreateDbContext();
        var key = await context.ApiKeys.AsNoTracking().SingleOrDefaultAsync(k => k.Id == id, ct);
        if (key is null || !ApiKeySecrets.Verify(secret, key.SecretHash) || !key.IsActive(time.GetUtcNow()))
        {
            return null;
        }

        // A user's admin key acts with its owner's organization rights (the bootstrap key belongs to the operator);
        // a monitor-only key never administers anything.
        var organizationAdmin = false;
        var operatorRights = false;
        if (key.UserId is { } owner && key.Role == ApiKeyRole.InferenceAdmin)
        {
            organizationAdmin = await context.OrganizationMemberships.AnyAsync(
                m => m.UserId == owner && m.OrganizationId == key.OrganizationId && m.Role == OrganizationRole.OrganizationAdmin, ct);
            operatorRights = await context.Users.AnyAsync(u => u.Id == owner && u.IsPlatformOperator, ct);
        }

        var caller = new CallerIdentity(key.OrganizationId, key.TeamId, key.UserId, key.Id, PrivilegeNames.Of(key.Role),
            organizationAdmin, operatorRights, key.AllowedEndpoints);
        cache.Add(key.Id, key.SecretHash, key.ExpiresAt, caller);
        return caller;
    }

    private static bool ManagesWholeOrganization(CallerIdentity caller) => caller.IsOrganizationAdmin || caller.IsPlatformOperator;

    private static bool MayManage(CallerIdentity caller) => caller.Has(Privilege.ManageInference) || caller.IsOrganizationAdmin;

    private static void EnsureMayManage(CallerIdentity caller, string action)
    {
        if (!MayManage(caller))
        {
            throw new ApiKeyAccessDeniedException($"action [{action}] is unauthorized for {Describe(caller)}");
        }
    }

    private static string Describe(CallerIdentity caller) =>
        caller.ApiKeyId is { } key ? $"API key id [{key}]" : $"user [{caller.DisplayName}]";
}

/// <summary>Elasticsearch's names of the built-in roles.</summary>
public static class RoleNames
{
    /// <summary><c>inference_admin</c>.</summary>
    public const string InferenceAdmin = "inference_admin";

    /// <summary><c>inference_user</c>.</summary>
    public const string InferenceUser = "inference_user";

    /// <summary>The wire name of a role.</summary>
    public static string ToName(ApiKeyRole role) => role == ApiKeyRole.InferenceAdmin ? InferenceAdmin : InferenceUser;

    /// <summary>Parses a wire name; null when unknown.</summary>
    public static ApiKeyRole? Parse(string? name) => name switch
    {
        InferenceAdmin => ApiKeyRole.InferenceAdmin,
        InferenceUser => ApiKeyRole.InferenceUser,
        _ => null,
    };
}
