namespace WebConsole.Domain.Tenancy;

/// <summary>A user's role in a team.</summary>
public enum TeamRole
{
    /// <summary>Uses the team's endpoints and keys.</summary>
    Member,

    /// <summary>Also manages the team's members and API keys.</summary>
    TeamAdmin,
}

/// <summary>Membership of a user in a team.</summary>
public sealed class TeamMembership
{
    private TeamMembership()
    {
    }

    /// <summary>The team.</summary>
    public Guid TeamId { get; private set; }

    /// <summary>The user.</summary>
    public Guid UserId { get; private set; }

    /// <summary>The user's role in the team.</summary>
    public TeamRole Role { get; private set; }

    /// <summary>When the user joined (UTC).</summary>
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>Adds a user to a team.</summary>
    public static TeamMembership Create(Guid teamId, Guid userId, TeamRole role, DateTimeOffset now) => new()
    {
        TeamId = Guard.NotEmpty(teamId, "team_id"),
        UserId = Guard.NotEmpty(userId, "user_id"),
        Role = Enum.IsDefined(role) ? role : throw new DomainValidationException($"Unknown team role [{role}]"),
        CreatedAt = Guard.Utc(now),
    };

    /// <summary>Changes the role.</summary>
    public void ChangeRole(TeamRole role) =>
        Role = Enum.IsDefined(role) ? role : throw new DomainValidationException($"Unknown team role [{role}]");
}
