using System.Reflection;

namespace WebConsole.Tests.Shared;

/// <summary>Where the repository and the shared download cache are (recorded by the build of the test project).</summary>
internal static class TestEnvironment
{
    public static string RepositoryRoot { get; } = Metadata("RepositoryRoot");

    /// <summary>The versioned cache outside the clone; <c>WEBCONSOLE_CACHE</c> wins when set at run time too.</summary>
    public static string CacheDirectory { get; } =
        Environment.GetEnvironmentVariable("WEBCONSOLE_CACHE") is { Length: > 0 } root
            ? Path.Combine(root, "v1")
            : Metadata("WebConsoleCacheDir");

    private static string Metadata(string key) =>
        Assembly.GetExecutingAssembly().GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"The test assembly was built without the {key} metadata.");
}
