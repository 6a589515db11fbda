namespace WebConsole.Domain.Tenancy;

/// <summary>A user's role in an organization.</summary>
public enum OrganizationRole
{
    /// <summary>Belongs to the organization; rights come from team memberships.</summary>
    Member,

    /// <summary>Manages the organization: its teams, members, endpoints and usage.</summary>
    OrganizationAdmin,
}

/// <summary>Membership of a user in an organization.</summary>
public sealed class OrganizationMembership
{
    private OrganizationMembership()
    {
    }

    /// <summary>The organization.</summary>
    public Guid OrganizationId { get; private set; }

    /// <summary>The user.</summary>
    public Guid UserId { get; private set; }

    /// <summary>The user's role in the organization.</summary>
    public OrganizationRole Role { get; private set; }

    /// <summary>When the user joined (UTC).</summary>
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>Whether the member administers the organization.</summary>
    public bool IsAdmin => Role == OrganizationRole.OrganizationAdmin;

    /// <summary>Adds a user to an organization.</summary>
    public static OrganizationMembership Create(Guid organizationId, Guid userId, OrganizationRole role, DateTimeOffset now) => new()
    {
        OrganizationId = Guard.NotEmpty(organizationId, "organization_id"),
        UserId = Guard.NotEmpty(userId, "user_id"),
        Role = Enum.IsDefined(role) ? role : throw new DomainValidationException($"Unknown organization role [{role}]"),
        CreatedAt = Guard.Utc(now),
    };

    /// <summary>Changes the role.</summary>
    public void ChangeRole(OrganizationRole role) =>
        Role = Enum.IsDefined(role) ? role : throw new DomainValidationException($"Unknown organization role [{role}]");
}
