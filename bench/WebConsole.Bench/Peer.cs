using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using WebConsole.Tests.Shared;

namespace WebConsole.Bench;

/// <summary>One batch size's result from the peer (bench/node/peer.mjs).</summary>
internal sealed record PeerRun(int BatchSize, int Items, double Seconds, double ItemsPerSecond, double TokensPerSecond);

/// <summary>
/// Runs the peer, @huggingface/transformers on onnxruntime-node, with the npm packages tests/node locks: installed once
/// per lock file into the download cache (the same folder the tests use), lifecycle scripts off.
/// </summary>
internal static class Peer
{
    public static async Task<IReadOnlyList<PeerRun>> RunAsync(object request)
    {
        var folder = await EnsureInstalledAsync();
        File.Copy(Path.Combine(TestEnvironment.RepositoryRoot, "bench", "node", "peer.mjs"), Path.Combine(folder, "bench-peer.mjs"), overwrite: true);
        var info = new ProcessStartInfo("node")
        {
            ArgumentList = { "bench-peer.mjs" },
            WorkingDirectory = folder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var (code, output, error) = await RunAsync(info, JsonSerializer.Serialize(request));
        if (code != 0)
        {
            throw new InvalidOperationException($"the peer exited with {code}: {error}");
        }

        using var json = JsonDocument.Parse(output);
        return [.. json.RootElement.GetProperty("runs").EnumerateArray().Select(r => new PeerRun(
            r.GetProperty("batchSize").GetInt32(), r.GetProperty("items").GetInt32(), r.GetProperty("seconds").GetDouble(),
            r.GetProperty("itemsPerSecond").GetDouble(), r.GetProperty("tokensPerSecond").GetDouble()))];
    }

    private static async Task<string> EnsureInstalledAsync()
    {
        var source = Path.Combine(TestEnvironment.RepositoryRoot, "tests", "node");
        var lockFile = Path.Combine(source, "package-lock.json");
        var hash = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(lockFile)))[..16];
        var target = Path.Combine(TestEnvironment.CacheDirectory, "node-tests", hash);
        if (File.Exists(Path.Combine(target, ".installed")))
        {
            return target;
        }

        var work = target + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(work);
        File.Copy(lockFile, Path.Combine(work, "package-lock.json"));
        File.Copy(Path.Combine(source, "package.json"), Path.Combine(work, "package.json"));
        var npm = new ProcessStartInfo("npm")
        {
            WorkingDirectory = work,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            ArgumentList = { "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error" },
        };
        var (code, _, error) = await RunAsync(npm, null);
        if (code != 0)
        {
            Directory.Delete(work, recursive: true);
            throw new InvalidOperationException($"npm ci failed ({code}): {error}");
        }

        await File.WriteAllTextAsync(Path.Combine(work, ".installed"), hash);
        try
        {
            Directory.Move(work, target);
        }
        catch (IOException) when (File.Exists(Path.Combine(target, ".installed")))
        {
            Directory.Delete(work, recursive: true);
        }

        return target;
    }

    private static async Task<(int Code, string Output, string Error)> RunAsync(ProcessStartInfo info, string? input)
    {
        info.StandardOutputEncoding = Encoding.UTF8;
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {info.FileName}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
        }

        process.StandardInput.Close();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }
}
