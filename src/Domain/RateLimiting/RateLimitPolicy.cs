namespace WebConsole.Domain.RateLimiting;

/// <summary>Who a rate-limit policy applies to.</summary>
public enum RateLimitScope
{
    /// <summary>The whole installation (the managed service's reference limits).</summary>
    Global,

    /// <summary>One organization.</summary>
    Organization,

    /// <summary>One team.</summary>
    Team,

    /// <summary>One API key.</summary>
    ApiKey,
}

/// <summary>Inbound limits for the models a selector matches, within a scope.</summary>
public sealed class RateLimitPolicy
{
    private RateLimitPolicy()
    {
    }

    /// <summary>Identifier.</summary>
    public Guid Id { get; private set; }

    /// <summary>The scope.</summary>
    public RateLimitScope Scope { get; private set; }

    /// <summary>
    /// The organization the policy belongs to (the scope's organization, or the team's or key's); null for
    /// <see cref="RateLimitScope.Global"/>.
    /// </summary>
    public Guid? OrganizationId { get; private set; }

    /// <summary>The organization id, team id or API key id the scope names; null for <see cref="RateLimitScope.Global"/>.</summary>
    public string? ScopeId { get; private set; }

    /// <summary>The models the policy applies to.</summary>
    public ModelSelector ModelSelector { get; private set; }

    /// <summary>Requests per minute; null = unlimited.</summary>
    public int? RequestsPerMinute { get; private set; }

    /// <summary>Ingest tokens per minute; null = unlimited.</summary>
    public long? IngestTokensPerMinute { get; private set; }

    /// <summary>Search tokens per minute; null = unlimited.</summary>
    public long? SearchTokensPerMinute { get; private set; }

    /// <summary>The limits as a value.</summary>
    public RateLimit Limit => RateLimit.Create(RequestsPerMinute, IngestTokensPerMinute, SearchTokensPerMinute);

    /// <summary>
    /// Creates a policy; a global policy has no scope id, every other scope needs one. <paramref name="organizationId"/> is
    /// the owning organization of a team or key policy (an organization policy's scope id is its organization).
    /// </summary>
    public static RateLimitPolicy Create(
        Guid id, RateLimitScope scope, string? scopeId, ModelSelector modelSelector, RateLimit limit, Guid? organizationId = null)
    {
        if (!Enum.IsDefined(scope))
        {
            throw new DomainValidationException($"Unknown rate limit scope [{scope}]");
        }

        if (scope == RateLimitScope.Global && scopeId is not null)
        {
            throw new DomainValidationException("A global rate limit policy has no scope id");
        }

        if (scope != RateLimitScope.Global && string.IsNullOrWhiteSpace(scopeId))
        {
            throw new DomainValidationException($"A rate limit policy of scope [{scope}] needs a scope id");
        }

        if (modelSelector.Value is null)
        {
            throw new DomainValidationException("[model_selector] must not be empty");
        }

        var policy = new RateLimitPolicy
        {
            Id = Guard.NotEmpty(id, "id"),
            Scope = scope,
            ScopeId = scopeId?.Trim(),
            ModelSelector = modelSelector,
            OrganizationId = scope switch
            {
                RateLimitScope.Global => null,
                RateLimitScope.Organization when Guid.TryParse(scopeId, out var organization) => organization,
                _ => organizationId,
            },
        };
        policy.ChangeLimit(limit);
        return policy;
    }

    /// <summary>Replaces the limits.</summary>
    public void ChangeLimit(RateLimit limit)
    {
        RequestsPerMinute = limit.RequestsPerMinute;
        IngestTokensPerMinute = limit.IngestTokensPerMinute;
        SearchTokensPerMinute = limit.SearchTokensPerMinute;
    }
}
