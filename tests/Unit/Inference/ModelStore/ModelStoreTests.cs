using System.Text.Json;
using WebConsole.Inference.ModelStore;
using WebConsole.Inference.Models;
using WebConsole.Tests.Hub;

namespace WebConsole.Unit.Inference.ModelStore;

public sealed class ModelStoreTests : IAsyncLifetime
{
    private const string ModelId = "org/bert";
    private const string Graph = "onnx/model.onnx";
    private HubTestBed _bed = null!;

    public async Task InitializeAsync() => _bed = await HubTestBed.StartAsync();

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public async Task The_first_ensure_downloads_the_model_into_the_store_where_the_registry_opens_it()
    {
        Assert.Equal(ModelDownloadState.Absent, _bed.Store.GetStatus(ModelId).State);

        await _bed.Store.EnsureAsync(ModelId, _bed.Source(), CancellationToken.None);

        var folder = _bed.Registry.Get(ModelId);
        Assert.Equal(Path.Combine(_bed.StorePath, "org", "bert"), folder.Path);
        Assert.Equal(Path.Combine(folder.Path, "onnx", "model.onnx"), folder.OnnxPath);
        Assert.Equal(PoolingMode.Mean, folder.SentenceTransformers!.Pooling);
        Assert.Equal(512, folder.MaxInputLength(folder.LoadTokenizer()));
        _bed.AssertHoldsModel(folder.Path);
        Assert.All(_bed.ModelFiles, file => Assert.Equal(1, _bed.Hub.ResolveCount(HubTestBed.Repository, file)));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_bed.StagingRoot));
        Assert.Equal(["org/bert"], _bed.Registry.ListIds());

        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder.Path, ModelExportLayout.ManifestFileName)));
        var root = manifest.RootElement;
        Assert.Equal(("hub", HubTestBed.Repository, "main", _bed.Hub.CommitOf(HubTestBed.Repository)),
            (root.GetProperty("source").GetString(), root.GetProperty("repository").GetString(), root.GetProperty("revision").GetString(), root.GetProperty("commit").GetString()));
        var graph = root.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("path").GetString() == Graph);
        Assert.Equal(_bed.Hub.Sha256Of(HubTestBed.Repository, Graph), graph.GetProperty("sha256").GetString());
        Assert.Equal(_bed.Hub.SizeOf(HubTestBed.Repository, Graph), graph.GetProperty("size").GetInt64());
        Assert.True(root.TryGetProperty("downloaded_at", out _));

        var status = _bed.Store.GetStatus(ModelId);
        Assert.Equal((ModelDownloadState.Downloaded, 100d, _bed.ModelBytes, _bed.ModelBytes), (status.State, status.Percent!.Value, status.DownloadedBytes, status.TotalBytes!.Value));
        Assert.Empty(_bed.Store.Statuses);

        // Present now: a second call fetches nothing.
        await _bed.Store.EnsureAsync(ModelId, _bed.Source(), CancellationToken.None);
        Assert.Equal(1, _bed.Hub.ListCount(HubTestBed.Repository));
        Assert.Contains(_bed.Log.Entries, e => e.Text.Contains("org/bert: in the store", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_interrupted_transfer_resumes_with_a_range_request_and_the_result_verifies()
    {
        _bed.Hub.DropConnectionAfter(HubTestBed.Repository, Graph, 1_500_000);

        await _bed.Store.EnsureAsync(ModelId, _bed.Source(), CancellationToken.None);

        var size = _bed.Hub.SizeOf(HubTestBed.Repository, Graph);
        var ranges = _bed.Hub.RangesRequested(HubTestBed.Repository, Graph);
        Assert.Contains(ranges, range => range is not null && long.Parse(range["bytes=".Length..].TrimEnd('-'), System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.InRange(_bed.Hub.BytesServed(HubTestBed.Repository, Graph), size, (2 * size) - 1);
        Assert.Contains(_bed.Hub.Requests, r => r.Kind == "cdn" && r.Path == Graph && r.Status == 206 && r.Range is not null);
        _bed.AssertHoldsModel(_bed.Registry.Get(ModelId).Path);
    }

    [Fact]
    public async Task A_restarted_store_resumes_the_staging_folder_a_failed_attempt_left()
    {
        // The first process gives up on the graph after one attempt; the small files are complete by then.
        var impatient = _bed.NewClient(options => options.MaxAttempts = 1);
        _bed.Hub.DropConnectionAfter(HubTestBed.Repository, Graph, 2_000_000, always: true);
        var failure = await Assert.ThrowsAsync<ModelDownloadException>(() => _bed.Store.EnsureAsync(ModelId, _bed.Source(client: impatient), CancellationToken.None));
        Assert.Contains($"Downloading {Graph}", failure.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_bed.StagingRoot, Uri.EscapeDataString(ModelId), "onnx", "model.onnx.partial")));

        _bed.Hub.ClearFaults();
        using var restarted = _bed.NewStore(out var registry);
        await restarted.EnsureAsync(ModelId, _bed.Source(), CancellationToken.None);

        _bed.AssertHoldsModel(registry.Get(ModelId).Path);
        Assert.All(_bed.ModelFiles, file => Assert.Equal(file == Graph ? 2 : 1, _bed.Hub.ResolveCount(HubTestBed.Repository, file)));
        Assert.Contains(_bed.Hub.RangesRequested(HubTestBed.Repository, Graph), range => range is not null);
        Assert.Contains(_bed.Hub.Requests, r => r.Kind == "cdn" && r.Path == Graph && r.Status == 206);
        Assert.InRange(_bed.Hub.BytesServed(HubTestBed.Repository, Graph), 0, (2 * _bed.Hub.SizeOf(HubTestBed.Repository, Graph)) - 1);
    }

    [Fact]
    public async Task A_checksum_mismatch_leaves_no_model_and_no_staging_files_and_the_next_call_tries_again()
    {
        _bed.Hub.ServeWrongContent(HubTestBed.Repository, Graph);

        var failure = await Assert.ThrowsAsync<ModelDownloadException>(() => _bed.Store.EnsureAsync(ModelId, _bed.Source(), CancellationToken.None));

        Assert.Contains(Graph, failure.Message, StringComparison.Ordinal);
        Assert.Contains($"expected sha256 {_bed.Hub.Sha256Of(HubTestBed.Repository, Graph)}, got ", failure.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_bed.StorePath, "org", "bert")));
        Assert.Empty(Directory.EnumerateFiles(_bed.StorePath, "*", SearchOption.AllDirectories));
        Assert.False(_bed.Registry.TryGet(ModelId, out _));
        var status = _bed.Store.GetStatus(ModelId);
        Assert.Equal((ModelDownloadState.Failed, failure.Message), (status.State, status.Reason));
        Assert.Equal(new[] { status }, _bed.Store.Statuses);

        _bed.Hub.ClearFaults();
        await _bed.Store.EnsureAsync(ModelId, _bed.Source(), CancellationToken.None);
        Assert.Equal(ModelDownloadState.Downloaded, _bed.Store.GetStatus(ModelId).State);
        _bed.AssertHoldsModel(_bed.Registry.Get(ModelId).Path);
    }

    [Fact]
    public async Task Ten_concurrent_callers_share_one_download()
    {
        _bed.Hub.Throttle(10_000_000);

        await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => Task.Run(() => _bed.Store.EnsureAsync(ModelId, _bed.Source(), CancellationToken.None))));

        Assert.Equal(1, _bed.Hub.ListCount(HubTestBed.Repository));
        Assert.All(_bed.ModelFiles, file => Assert.Equal(1, _bed.Hub.ResolveCount(HubTestBed.Repository, file)));
        _bed.AssertHoldsModel(_bed.Registry.Get(ModelId).Path);
    }

    [Fact]
    public async Task Progress_arrives_in_order_throttled_and_ends_with_downloaded_at_100_percent()
    {
        _bed.Hub.Throttle(6_000_000);
        var observed = new List<ModelDownloadStatus>();
        var observerDone = new TaskCompletionSource();
        using var subscription = _bed.Store.Subscribe(new Observer(status =>
        {
            lock (observed)
            {
                observed.Add(status);
            }

            if (status.State == ModelDownloadState.Downloaded)
            {
                observerDone.TrySetResult();
            }
        }));
        using var watching = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var watch = _bed.Store.WatchAsync(ModelId, watching.Token).GetAsyncEnumerator(watching.Token);
        Assert.True(await watch.MoveNextAsync());
        Assert.Equal(ModelDownloadState.Absent, watch.Current.State);

        var started = DateTimeOffset.UtcNow;
        var download = _bed.Store.EnsureAsync(ModelId, _bed.Source(), CancellationToken.None);
        var watched = new List<ModelDownloadStatus>();
        while (await watch.MoveNextAsync())
        {
            watched.Add(watch.Current);
            if (watch.Current.State is ModelDownloadState.Downloaded or ModelDownloadState.Failed)
            {
                break;
            }
        }

        await download;
        var seconds = (DateTimeOffset.UtcNow - started).TotalSeconds;
        await watch.DisposeAsync();
        await observerDone.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var total = _bed.ModelBytes;
        var last = watched[^1];
        Assert.Equal((ModelDownloadState.Downloaded, 100d, total, total), (last.State, last.Percent!.Value, last.DownloadedBytes, last.TotalBytes!.Value));
        Assert.All(watched[..^1], status => Assert.Equal(ModelDownloadState.Downloading, status.State));
        Assert.Equal(watched.Select(s => s.DownloadedBytes).Order(), watched.Select(s => s.DownloadedBytes));
        Assert.Equal(watched.Select(s => s.UpdatedAt).Order(), watched.Select(s => s.UpdatedAt));
        Assert.Contains(watched, s => s.TotalBytes == total && s.DownloadedBytes > 0 && s.DownloadedBytes < total && s.BytesPerSecond > 0 && s.EstimatedRemaining > TimeSpan.Zero);

        // About ten a second, plus one per phase (file) change, the start and the checks.
        var phases = watched.Select(s => s.Reason).Distinct().Count();
        Assert.InRange(watched.Count, 5, (seconds * 11) + (2 * phases) + 4);
        lock (observed)
        {
            Assert.Equal(watched, observed.Where(s => s.ModelId == ModelId));
        }
    }

    [Fact]
    public async Task An_unreachable_hub_fails_naming_the_hub_and_a_later_call_succeeds_once_it_is_up()
    {
        var port = FakeHubServer.FreePort();
        var baseUrl = $"http://127.0.0.1:{port}";
        var client = _bed.NewClient(options => options.MaxAttempts = 2, baseUrl);

        var failure = await Assert.ThrowsAsync<ModelDownloadException>(() => _bed.Store.EnsureAsync(ModelId, _bed.Source(client: client), CancellationToken.None));

        Assert.StartsWith($"Could not reach the model hub at {baseUrl}: ", failure.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_bed.StagingRoot, Uri.EscapeDataString(ModelId))));
        var status = _bed.Store.GetStatus(ModelId);
        Assert.Equal((ModelDownloadState.Failed, failure.Message), (status.State, status.Reason));
        Assert.Equal($"failed: {failure.Message}", status.Describe());
        Assert.Contains(_bed.Log.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Error && e.Text.Contains("Could not reach", StringComparison.Ordinal));

        await using var hub = await FakeHubServer.StartAsync(new Dictionary<string, string> { [HubTestBed.Repository] = _bed.ModelFolder }, port);
        await _bed.Store.EnsureAsync(ModelId, _bed.Source(client: client), CancellationToken.None);

        Assert.Equal(ModelDownloadState.Downloaded, _bed.Store.GetStatus(ModelId).State);
        _bed.AssertHoldsModel(_bed.Registry.Get(ModelId).Path);
    }

    [Fact]
    public async Task A_callers_cancellation_ends_its_wait_but_not_the_shared_download()
    {
        _bed.Hub.Throttle(5_000_000);
        using var impatient = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _bed.Store.EnsureAsync(ModelId, _bed.Source(), impatient.Token));

        Assert.Equal(ModelDownloadState.Downloading, _bed.Store.GetStatus(ModelId).State);
        var deleting = await Assert.ThrowsAsync<InvalidOperationException>(() => _bed.Store.DeleteAsync(ModelId, CancellationToken.None));
        Assert.Contains("being downloaded", deleting.Message, StringComparison.Ordinal);
        await _bed.Store.EnsureAsync(ModelId, _bed.Source(), CancellationToken.None);

        Assert.Equal(1, _bed.Hub.ListCount(HubTestBed.Repository));
        Assert.All(_bed.ModelFiles, file => Assert.Equal(1, _bed.Hub.ResolveCount(HubTestBed.Repository, file)));
        _bed.AssertHoldsModel(_bed.Registry.Get(ModelId).Path);
    }

    [Fact]
    public async Task Delete_removes_the_model_and_the_registry_forgets_it()
    {
        await _bed.Store.EnsureAsync(ModelId, _bed.Source(), CancellationToken.None);
        Assert.True(_bed.Registry.TryGet(ModelId, out _));

        Assert.True(await _bed.Store.DeleteAsync(ModelId, CancellationToken.None));

        Assert.False(_bed.Registry.TryGet(ModelId, out _));
        Assert.Equal(ModelDownloadState.Absent, _bed.Store.GetStatus(ModelId).State);
        Assert.False(Directory.Exists(Path.Combine(_bed.StorePath, "org")));
        Assert.Empty(_bed.Registry.ListIds());
        Assert.False(await _bed.Store.DeleteAsync(ModelId, CancellationToken.None));

        // And it can come back.
        await _bed.Store.EnsureAsync(ModelId, _bed.Source(), CancellationToken.None);
        Assert.True(_bed.Registry.TryGet(ModelId, out _));
    }

    [Fact]
    public async Task Not_enough_disk_space_fails_before_any_transfer_with_the_space_needed_and_available()
    {
        var source = new HubModelSource(_bed.Client, HubTestBed.Repository) { FreeSpaceProbe = _ => 3 * 1024 * 1024 };

        var failure = await Assert.ThrowsAsync<ModelDownloadException>(() => _bed.Store.EnsureAsync(ModelId, source, CancellationToken.None));

        var needed = _bed.ModelBytes + (64L * 1024 * 1024);
        Assert.StartsWith($"Not enough disk space for hub {HubTestBed.Repository}@main: {needed / 1048576.0:0.0} MiB needed", failure.Message, StringComparison.Ordinal);
        Assert.Contains("3.0 MiB available", failure.Message, StringComparison.Ordinal);
        Assert.All(_bed.ModelFiles, file => Assert.Equal(0, _bed.Hub.ResolveCount(HubTestBed.Repository, file)));
        Assert.Equal(ModelDownloadState.Failed, _bed.Store.GetStatus(ModelId).State);
    }

    [Fact]
    public async Task A_local_folder_is_imported_without_its_hidden_files_and_opens()
    {
        var folder = Path.Combine(_bed.Root.FullName, "export");
        foreach (var file in _bed.ModelFiles)
        {
            var target = Path.Combine(folder, file);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(_bed.ModelFolder, file), target);
        }

        Directory.CreateDirectory(Path.Combine(folder, ".git"));
        File.WriteAllText(Path.Combine(folder, ".git", "HEAD"), "ref: refs/heads/main");
        File.WriteAllText(Path.Combine(folder, "README.md"), "# an export");
        var reports = new List<ModelTransferProgress>();

        await _bed.Store.EnsureAsync("local-bert", new LocalFolderModelSource(folder), CancellationToken.None);

        var model = _bed.Registry.Get("local-bert");
        _bed.AssertHoldsModel(model.Path);
        Assert.True(File.Exists(Path.Combine(model.Path, "README.md")));
        Assert.False(Directory.Exists(Path.Combine(model.Path, ".git")));
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(model.Path, ModelExportLayout.ManifestFileName)));
        Assert.Equal(("local", Path.GetFullPath(folder)), (manifest.RootElement.GetProperty("source").GetString(), manifest.RootElement.GetProperty("path").GetString()));
        Assert.Equal(_bed.ModelFiles.Count + 1, manifest.RootElement.GetProperty("files").GetArrayLength());

        // Progress counts bytes, and a folder that is not a model says what it lacks.
        var staging = Directory.CreateDirectory(Path.Combine(_bed.Root.FullName, "staging")).FullName;
        await new LocalFolderModelSource(folder).MaterializeAsync(staging, new SynchronousReports(reports), CancellationToken.None);
        Assert.Equal(_bed.ModelBytes + "# an export".Length, reports[^1].Completed);
        File.Delete(Path.Combine(folder, Graph));
        var failure = await Assert.ThrowsAsync<ModelDownloadException>(() =>
            new LocalFolderModelSource(folder).MaterializeAsync(staging, new SynchronousReports([]), CancellationToken.None));
        Assert.Contains("has no ONNX graph", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ids_that_cannot_name_a_store_folder_are_refused()
    {
        foreach (var id in new[] { "../escape", ".staging/x", "a//b", string.Empty })
        {
            await Assert.ThrowsAsync<ArgumentException>(() => _bed.Store.EnsureAsync(id, _bed.Source(), CancellationToken.None));
        }

        Assert.Equal(0, _bed.Hub.ListCount(HubTestBed.Repository));
    }

    private sealed class Observer(Action<ModelDownloadStatus> onNext) : IObserver<ModelDownloadStatus>
    {
        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }

        public void OnNext(ModelDownloadStatus value) => onNext(value);
    }
}

/// <summary>Collects progress reports synchronously, in order.</summary>
internal sealed class SynchronousReports(List<ModelTransferProgress> reports) : IProgress<ModelTransferProgress>
{
    public void Report(ModelTransferProgress value) => reports.Add(value);
}
