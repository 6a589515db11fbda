using System.ComponentModel.DataAnnotations;

namespace WebConsole.Infrastructure.Persistence;

/// <summary>Installation-wide settings of section <c>WebConsole</c>.</summary>
public sealed class WebConsoleOptions : IValidatableObject
{
    /// <summary>The shortest bootstrap secret accepted.</summary>
    public const int MinimumBootstrapSecretLength = 32;

    /// <summary>The shortest operator password accepted from configuration.</summary>
    public const int MinimumOperatorPasswordLength = 12;

    /// <summary>The configuration section.</summary>
    public const string SectionName = "WebConsole";

    /// <summary>Where WebConsole keeps its files (the SQLite database among them); relative to the content root.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "WebConsole:DataDirectory must name a folder.")]
    public string DataDirectory { get; set; } = "data";

    /// <summary>The data directory as an absolute path.</summary>
    public string ResolveDataDirectory(string contentRootPath) =>
        Path.GetFullPath(Path.IsPathRooted(DataDirectory) ? DataDirectory : Path.Combine(contentRootPath, DataDirectory));

    /// <summary>
    /// Where downloads shared by every installation on this machine are cached (npm packages the starter pack is built
    /// from, the built starter models); outside the data directory, so a fresh clone or a test server does not fetch or
    /// build again. Default, as the build's: <c>$WEBCONSOLE_CACHE/v1</c>, else <c>$XDG_CACHE_HOME/webconsole/v1</c>, else
    /// <c>~/.cache/webconsole/v1</c>.
    /// </summary>
    public string? CacheDirectory { get; set; }

    /// <summary>The cache directory as an absolute path.</summary>
    public string ResolveCacheDirectory() =>
        Path.GetFullPath(CacheDirectory is { Length: > 0 } configured ? configured
            : Environment.GetEnvironmentVariable("WEBCONSOLE_CACHE") is { Length: > 0 } root ? Path.Combine(root, "v1")
            : Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? Path.Combine(xdg, "webconsole", "v1")
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "webconsole", "v1"));

    /// <summary>Settings applied on the first start of an installation.</summary>
    public BootstrapSettings Bootstrap { get; set; } = new();

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Bootstrap.ApiKey is { } secret && secret.Trim().Length < MinimumBootstrapSecretLength)
        {
            yield return new ValidationResult(
                $"WebConsole:Bootstrap:ApiKey must be a secret of at least {MinimumBootstrapSecretLength} characters.",
                [nameof(Bootstrap)]);
        }

        if (Bootstrap.OperatorPassword is { } password && password.Length < MinimumOperatorPasswordLength)
        {
            yield return new ValidationResult(
                $"WebConsole:Bootstrap:OperatorPassword must be at least {MinimumOperatorPasswordLength} characters.",
                [nameof(Bootstrap)]);
        }

        string? emailError = null;
        try
        {
            Domain.Tenancy.User.NormalizeEmail(Bootstrap.OperatorEmail);
        }
        catch (Domain.DomainValidationException ex)
        {
            emailError = $"WebConsole:Bootstrap:OperatorEmail is not valid: {ex.Message}.";
        }

        if (emailError is not null)
        {
            yield return new ValidationResult(emailError, [nameof(Bootstrap)]);
        }
    }
}

/// <summary>First-start settings (<c>WebConsole:Bootstrap</c>).</summary>
public sealed class BootstrapSettings
{
    /// <summary>
    /// When set, the first start creates the <c>bootstrap</c> API key (role inference_admin, default team) with this secret,
    /// so scripts and tests can call the API at once.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>The e-mail address (sign-in name) of the operator account the first start creates.</summary>
    public string OperatorEmail { get; set; } = "operator@webconsole.local";

    /// <summary>
    /// The operator's password on the first start. When not set, a random one-time password is written once to the
    /// console log and must be changed at the first sign-in.
    /// </summary>
    public string? OperatorPassword { get; set; }
}
