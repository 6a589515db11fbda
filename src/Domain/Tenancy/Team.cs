namespace WebConsole.Domain.Tenancy;

/// <summary>A group of users inside an organization; API keys belong to a team.</summary>
public sealed class Team
{
    /// <summary>Longest name accepted.</summary>
    public const int NameMaxLength = 200;

    private Team()
    {
    }

    /// <summary>Identifier.</summary>
    public Guid Id { get; private set; }

    /// <summary>The organization the team belongs to.</summary>
    public Guid OrganizationId { get; private set; }

    /// <summary>Name, unique within the organization (the database enforces it).</summary>
    public string Name { get; private set; } = string.Empty;

    /// <summary>When the team was created (UTC).</summary>
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>Creates a team.</summary>
    public static Team Create(Guid id, Guid organizationId, string name, DateTimeOffset now) => new()
    {
        Id = Guard.NotEmpty(id, "id"),
        OrganizationId = Guard.NotEmpty(organizationId, "organization_id"),
        Name = Guard.Name(name, "name", NameMaxLength),
        CreatedAt = Guard.Utc(now),
    };

    /// <summary>Changes the name.</summary>
    public void Rename(string name) => Name = Guard.Name(name, "name", NameMaxLength);
}
