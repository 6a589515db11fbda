namespace WebConsole.Domain.Tenancy;

/// <summary>A person who signs in to the portal. Passwords are hashed outside the domain; the entity keeps the hash.</summary>
public sealed class User
{
    /// <summary>Longest e-mail address accepted (RFC 5321's path limit).</summary>
    public const int EmailMaxLength = 254;

    /// <summary>Longest display name accepted.</summary>
    public const int DisplayNameMaxLength = 200;

    private User()
    {
    }

    /// <summary>Identifier.</summary>
    public Guid Id { get; private set; }

    /// <summary>E-mail address, trimmed and lower-cased so that uniqueness ignores case.</summary>
    public string Email { get; private set; } = string.Empty;

    /// <summary>Name shown in the portal.</summary>
    public string DisplayName { get; private set; } = string.Empty;

    /// <summary>Password hash; null for users who cannot sign in with a password (e.g. invited, not yet set).</summary>
    public string? PasswordHash { get; private set; }

    /// <summary>Whether the user operates the whole installation (catalog backends, prices, all organizations).</summary>
    public bool IsPlatformOperator { get; private set; }

    /// <summary>Whether the user must choose a new password at the next sign-in (one-time passwords).</summary>
    public bool MustChangePassword { get; private set; }

    /// <summary>When the user was created (UTC).</summary>
    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>Creates a user.</summary>
    public static User Create(Guid id, string email, string displayName, string? passwordHash, bool isPlatformOperator, DateTimeOffset now) => new()
    {
        Id = Guard.NotEmpty(id, "id"),
        Email = NormalizeEmail(email),
        DisplayName = Guard.Name(displayName, "display_name", DisplayNameMaxLength),
        PasswordHash = passwordHash is null ? null : Guard.NotBlank(passwordHash, "password_hash"),
        IsPlatformOperator = isPlatformOperator,
        CreatedAt = Guard.Utc(now),
    };

    /// <summary>Trims and lower-cases an address after a basic shape check; use it for look-ups too.</summary>
    public static string NormalizeEmail(string? email)
    {
        var normalized = Guard.NotBlank(email, "email", EmailMaxLength).ToLowerInvariant();
        var at = normalized.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || at != normalized.LastIndexOf('@') || at == normalized.Length - 1 || normalized.Any(char.IsWhiteSpace))
        {
            throw new DomainValidationException($"Invalid e-mail address [{email}]");
        }

        return normalized;
    }

    /// <summary>
    /// Replaces the password hash. A password the user chose clears <see cref="MustChangePassword"/>; a one-time password
    /// someone else set (<paramref name="mustChange"/>) requires a change at the next sign-in.
    /// </summary>
    public void SetPasswordHash(string passwordHash, bool mustChange = false)
    {
        PasswordHash = Guard.NotBlank(passwordHash, "password_hash");
        MustChangePassword = mustChange;
    }

    /// <summary>Changes the display name.</summary>
    public void ChangeDisplayName(string displayName) => DisplayName = Guard.Name(displayName, "display_name", DisplayNameMaxLength);

    /// <summary>Grants or revokes the platform operator role.</summary>
    public void SetPlatformOperator(bool isPlatformOperator) => IsPlatformOperator = isPlatformOperator;
}
