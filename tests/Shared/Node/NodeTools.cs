using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace WebConsole.Tests.Shared.Node;

/// <summary>
/// Runs the reference implementations (tests/node: @huggingface/tokenizers, @huggingface/transformers on onnxruntime-node)
/// that tests compare WebConsole against. The npm packages are installed once per lock file into the download cache,
/// outside the clone, with lifecycle scripts off (onnxruntime-node's postinstall cannot work offline; its binaries ship in
/// the tarball). Scripts are copied beside that node_modules folder so ES module imports resolve.
/// </summary>
internal static class NodeTools
{
    private static readonly SemaphoreSlim InstallLock = new(1, 1);
    private static string? _installed;

    private static string SourceDirectory => Path.Combine(TestEnvironment.RepositoryRoot, "tests", "node");

    /// <summary>
    /// Runs <paramref name="script"/> (a file in tests/node) with <paramref name="arguments"/>, writes
    /// <paramref name="standardInput"/> to it, and answers its standard output; a non-zero exit throws with its stderr.
    /// </summary>
    public static async Task<string> RunAsync(string script, IEnumerable<string> arguments, string? standardInput = null, TimeSpan? timeout = null)
    {
        var directory = await EnsureInstalledAsync();
        PlaceScript(script, directory);

        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var (exitCode, output, error) = await RunProcessAsync(info, standardInput, timeout ?? TimeSpan.FromMinutes(5));
        return exitCode == 0 ? output : throw new InvalidOperationException($"node {script} exited with {exitCode}:\n{error}");
    }

    /// <summary>
    /// Puts the script beside node_modules when it is missing or differs: written to a unique file and renamed over the old
    /// one, so tests running the same script at once (also from the other test project) never see it half-written or
    /// collide on the copy.
    /// </summary>
    private static void PlaceScript(string script, string directory)
    {
        var source = File.ReadAllBytes(Path.Combine(SourceDirectory, script));
        var target = Path.Combine(directory, script);
        if (File.Exists(target) && File.ReadAllBytes(target).AsSpan().SequenceEqual(source))
        {
            return;
        }

        var staged = $"{target}.{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(staged, source);
        File.Move(staged, target, overwrite: true);
    }

    private static async Task<string> EnsureInstalledAsync()
    {
        if (_installed is not null)
        {
            return _installed;
        }

        await InstallLock.WaitAsync();
        try
        {
            if (_installed is not null)
            {
                return _installed;
            }

            var lockFile = Path.Combine(SourceDirectory, "package-lock.json");
            var hash = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(lockFile)))[..16];
            var target = Path.Combine(TestEnvironment.CacheDirectory, "node-tests", hash);
            var stamp = Path.Combine(target, ".installed");
            if (!File.Exists(stamp))
            {
                // Installed in a temporary sibling and renamed, so a folder that exists is complete even with
                // several test processes racing.
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                var work = target + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
                Directory.CreateDirectory(work);
                File.Copy(lockFile, Path.Combine(work, "package-lock.json"));
                File.Copy(Path.Combine(SourceDirectory, "package.json"), Path.Combine(work, "package.json"));
                var npm = new ProcessStartInfo("npm")
                {
                    WorkingDirectory = work,
                    RedirectStandardInput = true,
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    UseShellExecute = false,
                    ArgumentList = { "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error" },
                };
                var (exitCode, _, error) = await RunProcessAsync(npm, null, TimeSpan.FromMinutes(10));
                if (exitCode != 0)
                {
                    Directory.Delete(work, recursive: true);
                    throw new InvalidOperationException($"npm ci for the reference implementations failed ({exitCode}):\n{error}");
                }

                await File.WriteAllTextAsync(Path.Combine(work, ".installed"), hash);
                try
                {
                    Directory.Move(work, target);
                }
                catch (IOException) when (File.Exists(stamp))
                {
                    Directory.Delete(work, recursive: true);
                }
            }

            _installed = target;
            return target;
        }
        finally
        {
            InstallLock.Release();
        }
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunProcessAsync(ProcessStartInfo info, string? input, TimeSpan timeout)
    {
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {info.FileName}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
        }

        process.StandardInput.Close();
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{info.FileName} {string.Join(' ', info.ArgumentList)} ran longer than {timeout}");
        }

        return (process.ExitCode, await output, await error);
    }
}
