using System.Text.Json;
using WebConsole.Inference.ModelStore;

namespace WebConsole.Unit.Inference.ModelStore;

public sealed class HubModelSourceTests : IAsyncLifetime
{
    private const string Graph = "onnx/model.onnx";
    private HubTestBed _bed = null!;
    private string _repositories = null!;
    private string _variants = null!;

    public async Task InitializeAsync()
    {
        // A repository in the shape of a Transformers.js export: several graphs, one with external data, and files the
        // host does not read.
        var root = _repositories = Directory.CreateTempSubdirectory("webconsole-hub-repos-").FullName;
        var bert = await WebConsole.TestModels.TestModelStore.GetAsync(WebConsole.TestModels.TestModelKind.BertMeanPooling);
        _variants = Path.Combine(root, "variants");
        foreach (var file in Directory.EnumerateFiles(bert, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(_variants, Path.GetRelativePath(bert, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        var graph = File.ReadAllBytes(Path.Combine(bert, "onnx", "model.onnx"));
        File.WriteAllBytes(Path.Combine(_variants, "onnx", "model_quantized.onnx"), graph[..(graph.Length / 2)]);
        File.WriteAllBytes(Path.Combine(_variants, "onnx", "model_quantized.onnx_data"), graph[(graph.Length / 2)..]);
        File.WriteAllBytes(Path.Combine(_variants, "onnx", "model_fp16.onnx"), graph[..1000]);
        File.WriteAllText(Path.Combine(_variants, "README.md"), "# variants");
        File.WriteAllBytes(Path.Combine(_variants, "pytorch_model.bin"), new byte[200_000]);
        var noGraph = Directory.CreateDirectory(Path.Combine(root, "no-graph")).FullName;
        File.Copy(Path.Combine(bert, "config.json"), Path.Combine(noGraph, "config.json"));
        File.Copy(Path.Combine(bert, "tokenizer.json"), Path.Combine(noGraph, "tokenizer.json"));
        var noTokenizer = Directory.CreateDirectory(Path.Combine(root, "no-tokenizer", "onnx")).Parent!.FullName;
        File.Copy(Path.Combine(bert, "config.json"), Path.Combine(noTokenizer, "config.json"));
        File.Copy(Path.Combine(bert, "onnx", "model.onnx"), Path.Combine(noTokenizer, "onnx", "model.onnx"));
        _bed = await HubTestBed.StartAsync(new Dictionary<string, string>
        {
            ["test-org/variants"] = _variants,
            ["test-org/no-graph"] = noGraph,
            ["test-org/no-tokenizer"] = noTokenizer,
        });
    }

    public async Task DisposeAsync()
    {
        await _bed.DisposeAsync();
        Directory.Delete(_repositories, recursive: true);
    }

    [Fact]
    public async Task The_export_layout_is_taken_and_a_named_graph_is_saved_as_onnx_model_onnx_with_its_external_data()
    {
        var staging = Directory.CreateDirectory(Path.Combine(_bed.Root.FullName, "staging")).FullName;
        var reports = new List<ModelTransferProgress>();

        await _bed.Source("test-org/variants").MaterializeAsync(staging, new SynchronousReports(reports), CancellationToken.None);

        Assert.Equal(Sorted([.. _bed.ModelFiles, ModelExportLayout.ManifestFileName]), Files(staging));
        Assert.Equal(File.ReadAllBytes(Path.Combine(_variants, Graph)), File.ReadAllBytes(Path.Combine(staging, "onnx", "model.onnx")));
        Assert.Equal(_bed.ModelBytes, reports[^1].Completed);
        Assert.Equal(_bed.ModelBytes, reports[^1].Total);

        // The same staging folder with another graph: the complete small files stay, the old graph goes.
        await _bed.Source("test-org/variants", "onnx/model_quantized.onnx").MaterializeAsync(staging, new SynchronousReports([]), CancellationToken.None);

        Assert.Equal(Sorted([.. _bed.ModelFiles, "onnx/model_quantized.onnx_data", ModelExportLayout.ManifestFileName]), Files(staging));
        Assert.Equal(File.ReadAllBytes(Path.Combine(_variants, "onnx", "model_quantized.onnx")), File.ReadAllBytes(Path.Combine(staging, "onnx", "model.onnx")));
        Assert.Equal(1, _bed.Hub.ResolveCount("test-org/variants", "tokenizer.json"));
        Assert.Equal(0, _bed.Hub.ResolveCount("test-org/variants", "README.md"));
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(staging, ModelExportLayout.ManifestFileName)));
        Assert.Contains(manifest.RootElement.GetProperty("files").EnumerateArray(), f => f.GetProperty("path").GetString() == "onnx/model_quantized.onnx_data");
    }

    [Theory]
    [InlineData("test-org/no-graph", null, "hub test-org/no-graph@main has no ONNX graph (onnx/model.onnx or model.onnx); it has no .onnx file at all.")]
    [InlineData("test-org/no-tokenizer", null, "hub test-org/no-tokenizer@main has no tokenizer (tokenizer.json, vocab.txt, vocab.json).")]
    [InlineData("test-org/variants", "onnx/model_int8.onnx",
        "hub test-org/variants@main has no ONNX graph onnx/model_int8.onnx; its ONNX graphs: onnx/model.onnx, onnx/model_fp16.onnx, onnx/model_quantized.onnx.")]
    public async Task A_repository_without_the_graph_or_a_tokenizer_fails_clearly(string repository, string? graph, string message)
    {
        var staging = Directory.CreateDirectory(Path.Combine(_bed.Root.FullName, "staging")).FullName;

        var failure = await Assert.ThrowsAsync<ModelDownloadException>(() =>
            _bed.Source(repository, graph).MaterializeAsync(staging, new SynchronousReports([]), CancellationToken.None));

        Assert.Equal(message, failure.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(staging));
    }

    [Fact]
    public async Task Missing_repositories_and_revisions_fail_at_once_with_a_clear_message()
    {
        var repository = await Assert.ThrowsAsync<ModelDownloadException>(() => _bed.Client.ListFilesAsync("test-org/missing", "main", CancellationToken.None));
        var revision = await Assert.ThrowsAsync<ModelDownloadException>(() => _bed.Client.ListFilesAsync(HubTestBed.Repository, "v9", CancellationToken.None));
        var file = await Assert.ThrowsAsync<ModelDownloadException>(() => _bed.Client.DownloadFileAsync(
            HubTestBed.Repository, "main", new HubFile("missing.json", null, null), Path.Combine(_bed.Root.FullName, "missing.json"), null, CancellationToken.None));

        Assert.StartsWith($"Repository test-org/missing was not found on the model hub at {_bed.Hub.BaseUrl} (HTTP 404).", repository.Message, StringComparison.Ordinal);
        Assert.StartsWith($"Revision v9 was not found in repository {HubTestBed.Repository} on the model hub at {_bed.Hub.BaseUrl} (HTTP 404).", revision.Message, StringComparison.Ordinal);
        Assert.StartsWith($"missing.json was not found in repository {HubTestBed.Repository}@main", file.Message, StringComparison.Ordinal);
        Assert.Equal(1, _bed.Hub.ListCount("test-org/missing"));
        Assert.Equal(1, _bed.Hub.ListCount(HubTestBed.Repository));
        Assert.Equal(1, _bed.Hub.ResolveCount(HubTestBed.Repository, "missing.json"));
    }

    [Fact]
    public async Task Server_errors_are_retried_up_to_the_attempt_limit()
    {
        _bed.Hub.FailRequests(503, count: 2);
        var listing = await _bed.Client.ListFilesAsync(HubTestBed.Repository, "main", CancellationToken.None);
        Assert.Equal(3, _bed.Hub.ListCount(HubTestBed.Repository));
        Assert.Equal(_bed.ModelFiles, listing.Files.Select(f => f.Path).Order(StringComparer.Ordinal));
        Assert.Equal(_bed.Hub.CommitOf(HubTestBed.Repository), listing.Commit);
        Assert.Equal(_bed.Hub.Sha256Of(HubTestBed.Repository, Graph), listing.Files.Single(f => f.Path == Graph).Sha256);
        Assert.Null(listing.Files.Single(f => f.Path == "config.json").Sha256);

        _bed.Hub.FailRequests(500, path: "config.json");
        var failure = await Assert.ThrowsAsync<ModelDownloadException>(() => _bed.Client.DownloadFileAsync(
            HubTestBed.Repository, "main", listing.Files.Single(f => f.Path == "config.json"), Path.Combine(_bed.Root.FullName, "config.json"), null, CancellationToken.None));
        Assert.Equal($"Downloading config.json from {HubTestBed.Repository}@main failed after 3 attempts: HTTP 500 Internal Server Error.", failure.Message);
        Assert.Equal(3, _bed.Hub.ResolveCount(HubTestBed.Repository, "config.json"));
    }

    [Fact]
    public async Task A_token_goes_to_the_hub_as_a_bearer_token_and_is_never_logged()
    {
        _bed.Hub.RequiredToken = "hf_secret_token";

        var anonymous = await Assert.ThrowsAsync<ModelDownloadException>(() => _bed.Store.EnsureAsync("private/bert", _bed.Source(), CancellationToken.None));
        var client = _bed.NewClient(options => options.Token = "hf_secret_token");
        await _bed.Store.EnsureAsync("private/bert", _bed.Source(client: client), CancellationToken.None);

        Assert.StartsWith($"Access to repository {HubTestBed.Repository} on the model hub at {_bed.Hub.BaseUrl} was denied (HTTP 401)", anonymous.Message, StringComparison.Ordinal);
        Assert.Contains("a token may be needed (Inference:Hub:Token)", anonymous.Message, StringComparison.Ordinal);
        Assert.Equal(2, _bed.Hub.ListCount(HubTestBed.Repository));
        Assert.Null(_bed.Hub.Requests[0].Authorization);
        Assert.All(_bed.Hub.Requests.Skip(1).Where(r => r.Kind != "cdn"), r => Assert.Equal("Bearer hf_secret_token", r.Authorization));
        Assert.True(_bed.Registry.TryGet("private/bert", out _));
        Assert.NotEmpty(_bed.Log.Entries);
        Assert.DoesNotContain(_bed.Log.Entries, e => e.Text.Contains("hf_secret_token", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_listed_checksums_the_linked_etag_of_the_hubs_redirect_verifies_the_file()
    {
        _bed.Hub.ListLfsChecksums = false;
        var client = _bed.NewClient(handler: new SocketsHttpHandler { AllowAutoRedirect = false });
        var listing = await client.ListFilesAsync(HubTestBed.Repository, "main", CancellationToken.None);
        var graph = listing.Files.Single(f => f.Path == Graph);
        Assert.Null(graph.Sha256);
        var destination = Path.Combine(_bed.Root.FullName, "model.onnx");

        _bed.Hub.ServeWrongContent(HubTestBed.Repository, Graph);
        var failure = await Assert.ThrowsAsync<ModelDownloadException>(() => client.DownloadFileAsync(HubTestBed.Repository, "main", graph, destination, null, CancellationToken.None));
        _bed.Hub.ClearFaults();
        var sha256 = await client.DownloadFileAsync(HubTestBed.Repository, "main", graph, destination, null, CancellationToken.None);

        Assert.Contains($"expected sha256 {_bed.Hub.Sha256Of(HubTestBed.Repository, Graph)}", failure.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidDataException>(failure.InnerException);
        Assert.Equal(_bed.Hub.Sha256Of(HubTestBed.Repository, Graph), sha256);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_bed.ModelFolder, "onnx", "model.onnx")), File.ReadAllBytes(destination));
        Assert.False(File.Exists(destination + ".partial"));
        Assert.Equal(2, _bed.Hub.Requests.Count(r => r.Kind == "cdn"));
    }

    [Fact]
    public async Task A_hub_that_stops_sending_times_out_and_each_attempt_resumes()
    {
        // Each response sends one 16 KiB chunk and then nothing for 4 s; the client gives up on silence after 1 s.
        var client = _bed.NewClient(options => (options.MaxAttempts, options.RequestTimeout) = (2, TimeSpan.FromSeconds(1)));
        var listing = await client.ListFilesAsync(HubTestBed.Repository, "main", CancellationToken.None);
        _bed.Hub.Throttle(4_000);

        var failure = await Assert.ThrowsAsync<ModelDownloadException>(() => client.DownloadFileAsync(
            HubTestBed.Repository, "main", listing.Files.Single(f => f.Path == Graph), Path.Combine(_bed.Root.FullName, "model.onnx"), null, CancellationToken.None));

        Assert.Equal($"Downloading {Graph} from {HubTestBed.Repository}@main failed after 2 attempts: the model hub at {_bed.Hub.BaseUrl} sent nothing for 1 s.", failure.Message);
        Assert.Equal([null, "bytes=16384-"], _bed.Hub.RangesRequested(HubTestBed.Repository, Graph));
        // The first attempt's chunk is kept; whether the second attempt's chunk arrived before its silence counted depends on
        // the machine's load, so only "kept and resumed from" is asserted.
        Assert.Contains(new FileInfo(Path.Combine(_bed.Root.FullName, "model.onnx.partial")).Length, new long[] { 16384, 2 * 16384 });
    }

    private static string[] Sorted(string[] files) => [.. files.Order(StringComparer.Ordinal)];

    private static string[] Files(string folder) =>
    [
        .. Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(folder, file).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal),
    ];
}
