namespace WebConsole.Infrastructure.Identity;

/// <summary>
/// Whose data a unit of work may see. Scoped: one per request or circuit. <see cref="Persistence.WebConsoleDbContext"/>
/// filters every organization-owned entity by <see cref="OrganizationId"/>, so a forgotten check cannot leak another
/// tenant's rows. Nobody signed in (no organization, not system) sees no organization-owned rows at all.
/// </summary>
public interface ITenantContext
{
    /// <summary>The organization whose rows are visible; null for anonymous callers and the system scope.</summary>
    Guid? OrganizationId { get; }

    /// <summary>Whether the caller operates the installation. Operators still see only their own organization through the
    /// filter; operator features that span organizations use <see cref="Persistence.ISystemDbContextFactory"/> on purpose.</summary>
    bool IsPlatformOperator { get; }

    /// <summary>Whether this is the system scope (start-up seeding, background work): no organization filter applies.</summary>
    bool IsSystem { get; }
}

/// <summary>A fixed tenant context: the system scope, nobody, or one organization (background work for a tenant, tests).</summary>
public sealed class FixedTenantContext(Guid? organizationId, bool isPlatformOperator, bool isSystem) : ITenantContext
{
    /// <summary>Sees every organization: seeding and background work only.</summary>
    public static FixedTenantContext System { get; } = new(null, true, true);

    /// <summary>Sees no organization-owned row (anonymous requests).</summary>
    public static FixedTenantContext None { get; } = new(null, false, false);

    /// <summary>Sees one organization.</summary>
    public static FixedTenantContext For(Guid organizationId) => new(organizationId, false, false);

    /// <inheritdoc />
    public Guid? OrganizationId { get; } = organizationId;

    /// <inheritdoc />
    public bool IsPlatformOperator { get; } = isPlatformOperator;

    /// <inheritdoc />
    public bool IsSystem { get; } = isSystem;
}
