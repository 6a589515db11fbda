using System.Text.RegularExpressions;

namespace WebConsole.Domain.Tenancy;

/// <summary>A tenant: the owner of teams, inference endpoints and usage.</summary>
public sealed partial class Organization
{
    /// <summary>Longest slug accepted; slugs appear in URLs.</summary>
    public const int SlugMaxLength = 63;

    /// <summary>Longest display name accepted.</summary>
    public const int NameMaxLength = 200;

    private Organization()
    {
    }

    /// <summary>Identifier.</summary>
    public Guid Id { get; private set; }

    /// <summary>Display name.</summary>
    public string Name { get; private set; } = string.Empty;

    /// <summary>URL-safe unique name: lowercase letters, digits and inner hyphens.</summary>
    public string Slug { get; private set; } = string.Empty;

    /// <summary>When the organization was created (UTC).</summary>
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>Creates an organization; the slug is validated and must be unique (the database enforces it).</summary>
    public static Organization Create(Guid id, string name, string slug, DateTimeOffset now) => new()
    {
        Id = Guard.NotEmpty(id, "id"),
        Name = Guard.Name(name, "name", NameMaxLength),
        Slug = ValidateSlug(slug),
        CreatedAt = Guard.Utc(now),
    };

    /// <summary>Changes the display name; the slug stays, so links keep working.</summary>
    public void Rename(string name) => Name = Guard.Name(name, "name", NameMaxLength);

    /// <summary>Checks a slug and returns it; throws <see cref="DomainValidationException"/> when it is not valid.</summary>
    public static string ValidateSlug(string? slug)
    {
        if (slug is null || slug.Length > SlugMaxLength || !SlugPattern().IsMatch(slug))
        {
            throw new DomainValidationException(
                $"Invalid organization slug [{slug}]; it can contain lowercase letters (a-z), digits and hyphens, must start and end with a letter or digit and be at most {SlugMaxLength} characters");
        }

        return slug;
    }

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex SlugPattern();
}
