namespace WebConsole.E2E.Infrastructure;

/// <summary>
/// Where tests leave files for people to look at (screenshots): <c>$WEBCONSOLE_TEST_ARTIFACTS</c> when set, otherwise
/// <c>&lt;repository&gt;/artifacts/screenshots</c> (git-ignored).
/// </summary>
public static class TestArtifacts
{
    public static string ScreenshotDirectory
    {
        get
        {
            var directory = Environment.GetEnvironmentVariable("WEBCONSOLE_TEST_ARTIFACTS") is { Length: > 0 } configured
                ? configured
                : Path.Combine(RepositoryRoot(), "artifacts", "screenshots");
            Directory.CreateDirectory(directory);
            return directory;
        }
    }

    /// <summary>The path of a screenshot named <paramref name="name"/> (letters, digits and dashes are kept; the rest become dashes).</summary>
    public static string ScreenshotPath(string name)
    {
        var safe = new string([.. name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-')]);
        return Path.Combine(ScreenshotDirectory, safe.EndsWith(".png", StringComparison.Ordinal) ? safe : safe + ".png");
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "WebConsole.sln")))
            {
                return directory.FullName;
            }
        }

        return Path.Combine(Path.GetTempPath(), "webconsole-artifacts");
    }
}
