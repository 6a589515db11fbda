namespace WebConsole.Domain.Billing;

/// <summary>Whose spending a budget caps.</summary>
public enum BudgetScope
{
    /// <summary>One team (every request billed to it, whichever key or user made it).</summary>
    Team,

    /// <summary>One API key.</summary>
    ApiKey,
}

/// <summary>
/// A monthly spending cap of a team or an API key, in the installation's currency: past <see cref="SoftLimit"/> the owners
/// are warned (once per calendar month, with an audit row); at <see cref="MonthlyLimit"/> requests are refused.
/// </summary>
public sealed class Budget
{
    private Budget()
    {
    }

    /// <summary>Identifier.</summary>
    public Guid Id { get; private set; }

    /// <summary>The organization the team or key belongs to.</summary>
    public Guid OrganizationId { get; private set; }

    /// <summary>Team or key.</summary>
    public BudgetScope Scope { get; private set; }

    /// <summary>The team id (as text) or the API key id.</summary>
    public string ScopeId { get; private set; } = string.Empty;

    /// <summary>The hard limit: spend per calendar month (UTC) past which requests are refused.</summary>
    public decimal MonthlyLimit { get; private set; }

    /// <summary>The soft threshold (at most <see cref="MonthlyLimit"/>) past which a warning is raised; null = none.</summary>
    public decimal? SoftLimit { get; private set; }

    /// <summary>ISO 4217 currency code of the amounts.</summary>
    public string Currency { get; private set; } = string.Empty;

    /// <summary>The month (<c>yyyy-MM</c>, UTC) whose soft threshold was last reported, so it is reported once a month.</summary>
    public string? SoftWarnedMonth { get; private set; }

    /// <summary>When the budget was created (UTC).</summary>
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>When the limits last changed (UTC).</summary>
    public DateTimeOffset UpdatedAt { get; private set; }

    /// <summary>Creates a budget.</summary>
    public static Budget Create(
        Guid id, Guid organizationId, BudgetScope scope, string scopeId, decimal monthlyLimit, decimal? softLimit, string currency, DateTimeOffset at)
    {
        if (!Enum.IsDefined(scope))
        {
            throw new DomainValidationException($"Unknown budget scope [{scope}]");
        }

        var budget = new Budget
        {
            Id = Guard.NotEmpty(id, "id"),
            OrganizationId = Guard.NotEmpty(organizationId, "organization_id"),
            Scope = scope,
            ScopeId = Guard.NotBlank(scopeId, "scope_id", 128),
            Currency = Guard.CurrencyCode(currency),
            CreatedAt = Guard.Utc(at),
        };
        budget.ChangeLimits(monthlyLimit, softLimit, at);
        return budget;
    }

    /// <summary>Replaces the limits; the soft threshold must not exceed the hard limit.</summary>
    public void ChangeLimits(decimal monthlyLimit, decimal? softLimit, DateTimeOffset at)
    {
        if (monthlyLimit <= 0)
        {
            throw new DomainValidationException($"[monthly_limit] must be a positive amount, got [{monthlyLimit}]");
        }

        if (softLimit is { } soft && (soft <= 0 || soft > monthlyLimit))
        {
            throw new DomainValidationException($"[soft_limit] must be a positive amount no greater than [monthly_limit] ({monthlyLimit}), got [{soft}]");
        }

        MonthlyLimit = monthlyLimit;
        SoftLimit = softLimit;
        UpdatedAt = Guard.Utc(at);
    }

    /// <summary>
    /// Marks the soft threshold of <paramref name="month"/> as reported; answers false when it already was (so the warning
    /// and its audit row are raised once per month).
    /// </summary>
    public bool MarkSoftWarned(string month)
    {
        if (string.Equals(SoftWarnedMonth, month, StringComparison.Ordinal))
        {
            return false;
        }

        SoftWarnedMonth = Guard.NotBlank(month, "month", 7);
        return true;
    }
}
