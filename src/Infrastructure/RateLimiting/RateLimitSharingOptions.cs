using Microsoft.Extensions.Options;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.RateLimiting;

/// <summary>Settings of section <c>RateLimiting:Sharing</c>: how nodes on one database share their rate-limit counts.</summary>
public sealed class RateLimitSharingOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "RateLimiting:Sharing";

    /// <summary>The shortest interval accepted.</summary>
    public static readonly TimeSpan MinimumInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest interval accepted.</summary>
    public static readonly TimeSpan MaximumInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Whether counts are shared through the database; absent (the default), they are when <c>Database:Provider</c> is
    /// PostgreSQL, the database several nodes run on. Sharing is only supported on PostgreSQL.
    /// </summary>
    public bool? Enabled { get; set; }

    /// <summary>How often a node writes what it counted and reads what the others counted (default 100 ms).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMilliseconds(100);
}

/// <summary>Checks <see cref="RateLimitSharingOptions"/> against the database in use.</summary>
internal sealed class RateLimitSharingOptionsValidator(DatabaseSelection database) : IValidateOptions<RateLimitSharingOptions>
{
    public ValidateOptionsResult Validate(string? name, RateLimitSharingOptions options)
    {
        var failures = new List<string>();
        if (options.Interval < RateLimitSharingOptions.MinimumInterval || options.Interval > RateLimitSharingOptions.MaximumInterval)
        {
            failures.Add(
                $"{RateLimitSharingOptions.SectionName}:Interval must be between {RateLimitSharingOptions.MinimumInterval} and " +
                $"{RateLimitSharingOptions.MaximumInterval}, got {options.Interval}.");
        }

        if (options.Enabled == true && !RateLimitSharing.Supports(database))
        {
            failures.Add(
                $"{RateLimitSharingOptions.SectionName}:Enabled is true, but counts can only be shared on PostgreSQL " +
                $"({PersistenceServiceCollectionExtensions.ProviderKey} is '{database.Provider.Name}').");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
