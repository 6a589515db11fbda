using System.Diagnostics.CodeAnalysis;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.RateLimiting;

namespace WebConsole.Infrastructure.RateLimiting;

/// <summary>The wire names of <see cref="RateLimitScope"/>: <c>global</c>, <c>organization</c>, <c>team</c>, <c>api_key</c>.</summary>
public static class RateLimitScopes
{
    /// <summary>The wire name of a scope.</summary>
    public static string ToWireName(this RateLimitScope scope) => scope switch
    {
        RateLimitScope.Global => "global",
        RateLimitScope.Organization => "organization",
        RateLimitScope.Team => "team",
        RateLimitScope.ApiKey => "api_key",
        _ => throw new ArgumentOutOfRangeException(nameof(scope), scope, null),
    };

    /// <summary>Parses a wire name (exact, lower case).</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out RateLimitScope scope)
    {
        switch (text)
        {
            case "global":
                scope = RateLimitScope.Global;
                return true;
            case "organization":
                scope = RateLimitScope.Organization;
                return true;
            case "team":
                scope = RateLimitScope.Team;
                return true;
            case "api_key":
                scope = RateLimitScope.ApiKey;
                return true;
            default:
                scope = default;
                return false;
        }
    }

    /// <summary>
    /// The canonical text of a scope id: organization and team ids as lower-case UUIDs with hyphens (whatever form they were
    /// written in), API key ids as they are; null for <see cref="RateLimitScope.Global"/>.
    /// </summary>
    public static string? Normalize(RateLimitScope scope, string? scopeId) => scope switch
    {
        RateLimitScope.Global => null,
        RateLimitScope.Organization or RateLimitScope.Team when Guid.TryParse(scopeId, out var id) => id.ToString("D"),
        _ => scopeId?.Trim(),
    };
}

/// <summary>A rate-limit policy as the limiter reads it: an immutable copy of a <see cref="RateLimitPolicy"/> row.</summary>
/// <param name="Id">The policy's id.</param>
/// <param name="Scope">Who it applies to.</param>
/// <param name="OrganizationId">The owning organization; null for global policies.</param>
/// <param name="ScopeId">The organization, team or API key id (canonical text); null for global policies.</param>
/// <param name="Selector">The models it applies to.</param>
/// <param name="Limit">Its limits.</param>
public sealed record RateLimitRule(Guid Id, RateLimitScope Scope, Guid? OrganizationId, string? ScopeId, ModelSelector Selector, RateLimit Limit)
{
    /// <summary>Copies a stored policy.</summary>
    public static RateLimitRule From(RateLimitPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new RateLimitRule(policy.Id, policy.Scope, policy.OrganizationId, RateLimitScopes.Normalize(policy.Scope, policy.ScopeId),
            policy.ModelSelector, policy.Limit);
    }
}

/// <summary>The policy that governs a request and the limiter key of the window it counts in.</summary>
/// <param name="Rule">The winning policy.</param>
/// <param name="Key">The <see cref="SlidingWindowLimiter"/> key (see <see cref="RateLimitPolicySet.Resolve"/>).</param>
public sealed record EffectiveRateLimit(RateLimitRule Rule, string Key)
{
    /// <summary>The limits in force.</summary>
    public RateLimit Limit => Rule.Limit;
}

/// <summary>
/// An immutable set of rate-limit policies and the one rule that picks the policy of a request. Thread-safe.
/// </summary>
public sealed class RateLimitPolicySet
{
    private readonly Dictionary<(RateLimitScope Scope, string ScopeId, string Selector), RateLimitRule> _rules;

    /// <summary>Indexes <paramref name="rules"/>; of two rules with the same scope, scope id and selector the first wins.</summary>
    public RateLimitPolicySet(IEnumerable<RateLimitRule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        Rules = [.. rules];
        _rules = [];
        foreach (var rule in Rules)
        {
            _rules.TryAdd((rule.Scope, rule.ScopeId ?? string.Empty, rule.Selector.ToString()), rule);
        }
    }

    /// <summary>No policy at all: every request is unlimited.</summary>
    public static RateLimitPolicySet Empty { get; } = new([]);

    /// <summary>Every rule.</summary>
    public IReadOnlyList<RateLimitRule> Rules { get; }

    /// <summary>
    /// The policy of a request on <paramref name="modelId"/> (a model of <paramref name="taskType"/>) by a caller of
    /// <paramref name="organizationId"/>, acting for <paramref name="teamId"/> with <paramref name="apiKeyId"/>; null when
    /// no policy matches (unlimited).
    /// </summary>
    /// <remarks>
    /// <para>The most specific policy wins, and only one applies: the API key's (scope id = the key id), else the team's
    /// (the team id), else the organization's, else the global one. Within a scope, a <c>model:&lt;id&gt;</c> selector beats
    /// <c>family:&lt;task type&gt;</c>. A policy of another organization never applies.</para>
    /// <para>The limiter key is <c>{organizationId:N}/{scope}/{scopeId}/{modelId}</c> at the level of the winning policy, so
    /// a window is always per model: a global or organization policy counts in the organization's window
    /// (<c>{org}/organization/{org:N}/{model}</c>; the global defaults are per organization, never shared across
    /// organizations, and an organization override keeps counting in the same window); a team policy in that team's window
    /// (<c>{org}/team/{team:N}/{model}</c>); a key policy in that key's window (<c>{org}/api_key/{key}/{model}</c>). Requests
    /// under a team or key override therefore do not count against the organization's window, and vice versa.</para>
    /// </remarks>
    public EffectiveRateLimit? Resolve(Guid organizationId, Guid? teamId, string? apiKeyId, string modelId, TaskType taskType)
    {
        ArgumentNullException.ThrowIfNull(modelId);
        var organization = organizationId.ToString("D");
        var model = $"model:{modelId}";
        var family = $"family:{taskType.ToWireName()}";
        ReadOnlySpan<(RateLimitScope Scope, string? ScopeId)> levels =
        [
            (RateLimitScope.ApiKey, apiKeyId),
            (RateLimitScope.Team, teamId?.ToString("D")),
            (RateLimitScope.Organization, organization),
            (RateLimitScope.Global, string.Empty),
        ];
        foreach (var (scope, scopeId) in levels)
        {
            if (scopeId is null)
            {
                continue;
            }

            if ((Find(scope, scopeId, model, organizationId) ?? Find(scope, scopeId, family, organizationId)) is { } rule)
            {
                return new EffectiveRateLimit(rule, KeyOf(rule.Scope, organizationId, scopeId, modelId));
            }
        }

        return null;
    }

    /// <summary>
    /// The limiter key of a window: <c>{organizationId:N}/{scope}/{scopeId}/{modelId}</c>, where global policies count in
    /// the organization's window.
    /// </summary>
    public static string KeyOf(RateLimitScope scope, Guid organizationId, string? scopeId, string modelId)
    {
        var org = organizationId.ToString("N");
        return scope switch
        {
            RateLimitScope.Global or RateLimitScope.Organization => $"{org}/organization/{org}/{modelId}",
            RateLimitScope.Team => $"{org}/team/{(Guid.TryParse(scopeId, out var team) ? team.ToString("N") : scopeId)}/{modelId}",
            _ => $"{org}/api_key/{scopeId}/{modelId}",
        };
    }

    private RateLimitRule? Find(RateLimitScope scope, string scopeId, string selector, Guid organizationId) =>
        _rules.TryGetValue((scope, scopeId, selector), out var rule)
        && (scope == RateLimitScope.Global || rule.OrganizationId == organizationId)
            ? rule
            : null;
}
