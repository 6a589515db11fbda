using System.Globalization;
using Microsoft.EntityFrameworkCore;
using WebConsole.Domain;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.RateLimiting;
using WebConsole.Infrastructure.Audit;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.RateLimiting;

namespace WebConsole.Web.Apis.Management;

/// <summary>A rate-limit policy as the API and the portal show it, with a name for its target.</summary>
public sealed record RateLimitPolicyView(
    Guid Id, RateLimitScope Scope, string? ScopeId, string TargetName, ModelSelector Selector, int? RequestsPerMinute,
    long? IngestTokensPerMinute, long? SearchTokensPerMinute);

/// <summary>What a caller sets: the policy's identity (scope, scope id, selector) and its limits (null = unlimited).</summary>
public sealed record RateLimitPolicyInput(
    string? Scope, string? ScopeId, string? ModelSelector, int? RequestsPerMinute, long? IngestTokensPerMinute, long? SearchTokensPerMinute);

/// <summary>Requests and tokens one window holds now, against its limits (null = unlimited).</summary>
public sealed record RateLimitStatusView(
    string InferenceId, string ModelId, TaskType TaskType, RateLimitPolicyView? Policy, RateLimitScope? Window,
    RateLimitWindowUsage Usage);

/// <summary>
/// Rate-limit policies behind <c>/api/rate-limits</c> and the portal: the global defaults (seeded from the catalog, changed
/// by platform operators only, never deleted) and the overrides of the caller's organization, its teams and its keys
/// (organization admins). A change commits with its audit entry and then invalidates this node's policy cache, so the
/// next request applies it; other nodes pick it up within <see cref="RateLimitPolicies.RefreshInterval"/>. Scoped.
/// </summary>
public sealed class RateLimitManagement(
    ISystemDbContextFactory contexts,
    IAuditLog audit,
    RateLimitPolicies policies,
    SlidingWindowLimiter limiter,
    ReservedEndpoints reserved)
{
    private const string ResourceType = "rate_limit_policy";

    /// <summary>The global policies and those of the caller's organization, its teams and keys, most general first.</summary>
    public async Task<IReadOnlyList<RateLimitPolicyView>> ListAsync(CallerIdentity caller, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        await using var db = ForCaller(caller);
        var rows = await db.RateLimitPolicies.AsNoTracking().ToListAsync(ct);
        var names = await TargetNamesAsync(db, caller, ct);
        return [.. rows
            .Select(p => View(p, names))
            .OrderBy(v => v.Scope)
            .ThenBy(v => v.TargetName, StringComparer.OrdinalIgnoreCase)
            .ThenBy(v => v.Selector.Kind == ModelSelectorKind.Family ? 0 : 1)
            .ThenBy(v => v.Selector.Value, StringComparer.Ordinal)];
    }

    /// <summary>
    /// Creates the policy of (scope, scope id, selector) or changes its limits. Global policies: platform operators only.
    /// Organization policies: the caller's organization (the default scope id). Team and key policies: a team or key of the
    /// caller's organization, else 404.
    /// </summary>
    public async Task<RateLimitPolicyView> UpsertAsync(CallerIdentity caller, RateLimitPolicyInput input, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(input);
        var (scope, selector, limit) = Validate(input);
        if (scope == RateLimitScope.Global && !caller.IsPlatformOperator)
        {
            throw new ManagementAccessDeniedException("Only platform operators change global rate limits.");
        }

        if (scope != RateLimitScope.Global && !caller.IsOrganizationAdmin && !caller.IsPlatformOperator)
        {
            throw new ManagementAccessDeniedException("Only organization admins change their organization's rate limits.");
        }

        await using var db = ForCaller(caller);
        var scopeId = await TargetOfAsync(db, caller, scope, input.ScopeId, ct);
        var candidates = await db.RateLimitPolicies.Where(p => p.Scope == scope && p.ScopeId == scopeId).ToListAsync(ct);
        var policy = candidates.FirstOrDefault(p => p.ModelSelector == selector);
        var created = policy is null;
        if (policy is null)
        {
            policy = RateLimitPolicy.Create(Guid.CreateVersion7(), scope, scopeId, selector, limit,
                scope == RateLimitScope.Global ? null : caller.OrganizationId);
            db.RateLimitPolicies.Add(policy);
        }
        else
        {
            policy.ChangeLimit(limit);
        }

        audit.Append(db, caller.OrganizationId, caller, created ? "rate_limit.create" : "rate_limit.update", ResourceType, policy.Id.ToString(),
            AuditDetails.ToJson(new
            {
                Scope = scope.ToWireName(),
                ScopeId = scopeId,
                ModelSelector = selector.ToString(),
                limit.RequestsPerMinute,
                TokensPerMinuteIngest = limit.IngestTokensPerMinute,
                TokensPerMinuteSearch = limit.SearchTokensPerMinute,
            }));
        await db.SaveChangesAsync(ct);
        policies.Invalidate();
        return View(policy, await TargetNamesAsync(db, caller, ct));
    }

    /// <summary>
    /// Deletes an organization, team or key policy (the request then falls back to the next general one). Global policies
    /// are the installation's defaults, re-seeded from the catalog at every start: they cannot be deleted (409), only changed.
    /// </summary>
    public async Task DeleteAsync(CallerIdentity caller, Guid id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        await using var db = ForCaller(caller);
        var policy = await db.RateLimitPolicies.SingleOrDefaultAsync(p => p.Id == id, ct)
            ?? throw new ResourceNotFoundException($"Rate limit policy [{id}] not found.");
        if (policy.Scope == RateLimitScope.Global)
        {
            throw caller.IsPlatformOperator
                ? new ResourceConflictException(
                    $"Rate limit policy [{id}] is a global default ({policy.ModelSelector}); defaults cannot be deleted (the catalog would restore them at the next start). Change its limits instead; leave a limit empty for unlimited.")
                : new ManagementAccessDeniedException("Only platform operators change global rate limits.");
        }

        if (!caller.IsOrganizationAdmin && !caller.IsPlatformOperator)
        {
            throw new ManagementAccessDeniedException("Only organization admins change their organization's rate limits.");
        }

        db.RateLimitPolicies.Remove(policy);
        audit.Append(db, caller.OrganizationId, caller, "rate_limit.delete", ResourceType, policy.Id.ToString(),
            AuditDetails.ToJson(new { Scope = policy.Scope.ToWireName(), policy.ScopeId, ModelSelector = policy.ModelSelector.ToString() }));
        await db.SaveChangesAsync(ct);
        policies.Invalidate();
    }

    /// <summary>
    /// The policy that governs the caller's requests on an endpoint and what its window holds now; 404 for an endpoint the
    /// caller cannot use.
    /// </summary>
    public async Task<RateLimitStatusView> StatusAsync(CallerIdentity caller, string? inferenceId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (string.IsNullOrWhiteSpace(inferenceId))
        {
            throw new DomainValidationException("[inference_id] is required");
        }

        await using var db = ForCaller(caller);
        if (!InferenceId.TryParse(inferenceId, out var id) || !caller.MayUse(inferenceId))
        {
            throw new ResourceNotFoundException($"Inference endpoint not found [{inferenceId}]");
        }

        await reserved.EnsureAsync(db, caller.OrganizationId, ct);
        var endpoint = await db.InferenceEndpoints.AsNoTracking()
            .FirstOrDefaultAsync(e => e.OrganizationId == caller.OrganizationId && e.InferenceId == id, ct)
            ?? throw new ResourceNotFoundException($"Inference endpoint not found [{inferenceId}]");

        // The same model id the runner admits with.
        var modelId = EndpointJson.ModelIdOf(endpoint.ServiceSettings) ?? inferenceId;
        var effective = await policies.ResolveAsync(caller.OrganizationId, caller.TeamId, caller.ApiKeyId, modelId, endpoint.TaskType, ct);
        if (effective is null)
        {
            return new RateLimitStatusView(inferenceId, modelId, endpoint.TaskType, null, null, RateLimitWindowUsage.Unlimited);
        }

        var names = await TargetNamesAsync(db, caller, ct);
        var window = effective.Rule.Scope == RateLimitScope.Global ? RateLimitScope.Organization : effective.Rule.Scope;
        var view = new RateLimitPolicyView(effective.Rule.Id, effective.Rule.Scope, effective.Rule.ScopeId,
            NameOf(effective.Rule.Scope, effective.Rule.ScopeId, names), effective.Rule.Selector, effective.Limit.RequestsPerMinute,
            effective.Limit.IngestTokensPerMinute, effective.Limit.SearchTokensPerMinute);
        return new RateLimitStatusView(inferenceId, modelId, endpoint.TaskType, view, window, limiter.Peek(effective.Key, effective.Limit));
    }

    /// <summary>Teams and keys of the caller's organization by id, for the portal's form.</summary>
    public async Task<(IReadOnlyList<(Guid Id, string Name)> Teams, IReadOnlyList<(string Id, string Name)> Keys)> TargetsAsync(
        CallerIdentity caller, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        await using var db = ForCaller(caller);
        var teams = await db.Teams.AsNoTracking().OrderBy(t => t.Name).Select(t => new { t.Id, t.Name }).ToListAsync(ct);
        var keys = await db.ApiKeys.AsNoTracking().Where(k => k.InvalidatedAt == null).OrderBy(k => k.Name)
            .Select(k => new { k.Id, k.Name }).ToListAsync(ct);
        return ([.. teams.Select(t => (t.Id, t.Name))], [.. keys.Select(k => (k.Id, k.Name))]);
    }

    private static (RateLimitScope Scope, ModelSelector Selector, RateLimit Limit) Validate(RateLimitPolicyInput input)
    {
        var errors = new List<string>();
        RateLimitScope scope = default;
        if (string.IsNullOrWhiteSpace(input.Scope))
        {
            errors.Add("[scope] is required: one of global, organization, team, api_key");
        }
        else if (!RateLimitScopes.TryParse(input.Scope.Trim(), out scope))
        {
            errors.Add($"[scope] must be one of global, organization, team, api_key, got [{input.Scope}]");
        }

        ModelSelector selector = default;
        if (string.IsNullOrWhiteSpace(input.ModelSelector))
        {
            errors.Add("[model_selector] is required: model:<model id> or family:<task type>");
        }
        else
        {
            try
            {
                selector = ModelSelector.Parse(input.ModelSelector.Trim());
            }
            catch (DomainValidationException)
            {
                errors.Add($"[model_selector] must be model:<model id> or family:<task type>, got [{input.ModelSelector}]");
            }
        }

        Positive(input.RequestsPerMinute, "requests_per_minute", errors);
        Positive(input.IngestTokensPerMinute, "tokens_per_minute_ingest", errors);
        Positive(input.SearchTokensPerMinute, "tokens_per_minute_search", errors);
        if (errors.Count > 0)
        {
            throw DomainValidationException.FromErrors(errors);
        }

        return (scope, selector, RateLimit.Create(input.RequestsPerMinute, input.IngestTokensPerMinute, input.SearchTokensPerMinute));
    }

    private static void Positive(long? value, string name, List<string> errors)
    {
        if (value is <= 0)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"[{name}] must be a positive number or null (unlimited), got [{value}]"));
        }
    }

    /// <summary>The canonical scope id of the target, checked to belong to the caller's organization.</summary>
    private static async Task<string?> TargetOfAsync(WebConsoleDbContext db, CallerIdentity caller, RateLimitScope scope, string? scopeId, CancellationToken ct)
    {
        var given = string.IsNullOrWhiteSpace(scopeId) ? null : scopeId.Trim();
        switch (scope)
        {
            case RateLimitScope.Global:
                return given is null ? null : throw new DomainValidationException("[scope_id] must be absent for scope [global]");
            case RateLimitScope.Organization:
                if (given is not null && (!Guid.TryParse(given, out var organization) || organization != caller.OrganizationId))
                {
                    throw new ResourceNotFoundException($"Organization [{given}] not found.");
                }

                return caller.OrganizationId.ToString("D");
            case RateLimitScope.Team:
                if (given is null)
                {
                    throw new DomainValidationException("[scope_id] is required for scope [team]: the team's id");
                }

                if (!Guid.TryParse(given, out var team) || !await db.Teams.AnyAsync(t => t.Id == team && t.OrganizationId == caller.OrganizationId, ct))
                {
                    throw new ResourceNotFoundException($"Team [{given}] not found.");
                }

                return team.ToString("D");
            default:
                if (given is null)
                {
                    throw new DomainValidationException("[scope_id] is required for scope [api_key]: the key's id");
                }

                return await db.ApiKeys.AnyAsync(k => k.Id == given && k.OrganizationId == caller.OrganizationId, ct)
                    ? given
                    : throw new ResourceNotFoundException($"API key [{given}] not found.");
        }
    }

    private static async Task<Dictionary<string, string>> TargetNamesAsync(WebConsoleDbContext db, CallerIdentity caller, CancellationToken ct)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var organization = await db.Organizations.AsNoTracking().Where(o => o.Id == caller.OrganizationId).Select(o => o.Name).SingleOrDefaultAsync(ct);
        names[Key(RateLimitScope.Organization, caller.OrganizationId.ToString("D"))] = organization ?? caller.OrganizationId.ToString("D");
        foreach (var team in await db.Teams.AsNoTracking().Select(t => new { t.Id, t.Name }).ToListAsync(ct))
        {
            names[Key(RateLimitScope.Team, team.Id.ToString("D"))] = team.Name;
        }

        foreach (var key in await db.ApiKeys.AsNoTracking().Select(k => new { k.Id, k.Name }).ToListAsync(ct))
        {
            names[Key(RateLimitScope.ApiKey, key.Id)] = key.Name;
        }

        return names;
    }

    private static RateLimitPolicyView View(RateLimitPolicy policy, Dictionary<string, string> names)
    {
        var scopeId = RateLimitScopes.Normalize(policy.Scope, policy.ScopeId);
        return new RateLimitPolicyView(policy.Id, policy.Scope, scopeId, NameOf(policy.Scope, scopeId, names), policy.ModelSelector,
            policy.RequestsPerMinute, policy.IngestTokensPerMinute, policy.SearchTokensPerMinute);
    }

    private static string NameOf(RateLimitScope scope, string? scopeId, Dictionary<string, string> names) =>
        scope == RateLimitScope.Global ? "All organizations"
            : names.TryGetValue(Key(scope, scopeId), out var name) ? name
            : scopeId ?? string.Empty;

    private static string Key(RateLimitScope scope, string? scopeId) => $"{scope}/{scopeId}";

    private WebConsoleDbContext ForCaller(CallerIdentity caller) => contexts.CreateDbContext(FixedTenantContext.For(caller.OrganizationId));
}
