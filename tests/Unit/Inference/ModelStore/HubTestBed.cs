using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebConsole.Inference.ModelStore;
using WebConsole.Inference.Models;
using WebConsole.TestModels;
using WebConsole.Tests.Hub;
using ModelStoreService = WebConsole.Inference.ModelStore.ModelStore;

namespace WebConsole.Unit.Inference.ModelStore;

/// <summary>
/// A fake hub serving a generated BERT model as <see cref="Repository"/>, a temporary model store, and the real client,
/// registry and store over them. Retries are quick so failure paths stay fast.
/// </summary>
internal sealed class HubTestBed : IAsyncDisposable
{
    public const string Repository = "test-org/bert";

    private HubTestBed(DirectoryInfo root, string modelFolder, FakeHubServer hub)
    {
        Root = root;
        ModelFolder = modelFolder;
        Hub = hub;
        StorePath = Path.Combine(root.FullName, "store");
        Client = NewClient();
        Registry = new ModelRegistry(Options.Create(new ModelRegistryOptions { ModelStorePath = StorePath }));
        Store = new ModelStoreService(Options.Create(new ModelRegistryOptions { ModelStorePath = StorePath }), Registry, TimeProvider.System, Log);
    }

    public DirectoryInfo Root { get; }

    /// <summary>The generated model folder the hub serves as <see cref="Repository"/>.</summary>
    public string ModelFolder { get; }

    public FakeHubServer Hub { get; }

    public string StorePath { get; }

    public HubClient Client { get; }

    public ModelRegistry Registry { get; }

    public ModelStoreService Store { get; }

    public ListLogger<ModelStoreService> Log { get; } = new();

    public static async Task<HubTestBed> StartAsync(IReadOnlyDictionary<string, string>? moreRepositories = null)
    {
        var bert = await TestModelStore.GetAsync(TestModelKind.BertMeanPooling);
        var repositories = new Dictionary<string, string>(moreRepositories ?? new Dictionary<string, string>()) { [Repository] = bert };
        var root = Directory.CreateTempSubdirectory("webconsole-hub-");
        return new HubTestBed(root, bert, await FakeHubServer.StartAsync(repositories));
    }

    /// <summary>The files the hub serves for <see cref="Repository"/> (every file of the generated folder), relative.</summary>
    public IReadOnlyList<string> ModelFiles =>
    [
        .. Directory.EnumerateFiles(ModelFolder, "*", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(ModelFolder, file).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal),
    ];

    public long ModelBytes => ModelFiles.Sum(file => new FileInfo(Path.Combine(ModelFolder, file)).Length);

    public string StagingRoot => Path.Combine(StorePath, ModelRegistry.StagingFolderName);

    public HubClient NewClient(Action<HubOptions>? configure = null, string? baseUrl = null, HttpMessageHandler? handler = null)
    {
        var options = new HubOptions
        {
            BaseUrl = baseUrl ?? Hub.BaseUrl,
            MaxAttempts = 3,
            RetryDelay = TimeSpan.FromMilliseconds(20),
            RequestTimeout = TimeSpan.FromSeconds(10),
        };
        configure?.Invoke(options);
        var http = new HttpClient(handler ?? new SocketsHttpHandler()) { Timeout = Timeout.InfiniteTimeSpan };
        return new HubClient(http, Options.Create(options));
    }

    public HubModelSource Source(string repository = Repository, string? graphPath = null, HubClient? client = null) =>
        new(client ?? Client, repository, "main", graphPath);

    /// <summary>A second store over the same folder, as after a restart.</summary>
    public ModelStoreService NewStore(out ModelRegistry registry)
    {
        registry = new ModelRegistry(Options.Create(new ModelRegistryOptions { ModelStorePath = StorePath }));
        return new ModelStoreService(Options.Create(new ModelRegistryOptions { ModelStorePath = StorePath }), registry, TimeProvider.System, Log);
    }

    /// <summary>Asserts that <paramref name="folder"/> holds exactly the served model's files, byte for byte.</summary>
    public void AssertHoldsModel(string folder)
    {
        foreach (var file in ModelFiles)
        {
            Assert.True(
                File.ReadAllBytes(Path.Combine(ModelFolder, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(folder, file))),
                $"{file} differs from the served file");
        }

        Assert.Empty(Directory.EnumerateFiles(folder, "*.partial", SearchOption.AllDirectories));
    }

    public async ValueTask DisposeAsync()
    {
        Store.Dispose();
        await Hub.DisposeAsync();
        Root.Delete(recursive: true);
    }
}

/// <summary>Keeps every log line (message and exception) for assertions.</summary>
internal sealed class ListLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<(LogLevel Level, string Text)> _entries = new();

    public IReadOnlyList<(LogLevel Level, string Text)> Entries => [.. _entries];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue((logLevel, formatter(state, exception) + (exception is null ? string.Empty : " " + exception)));
}
