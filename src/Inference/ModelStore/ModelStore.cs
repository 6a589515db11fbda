using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Models;

namespace WebConsole.Inference.ModelStore;

/// <summary>
/// Puts models into the model store (<c>Inference:ModelStorePath</c>) and tells how far each one is. A model is fetched
/// once however many callers ask for it: the first <see cref="EnsureAsync"/> starts a background materialization that
/// later callers join. Its source writes into <c>&lt;store&gt;/.staging/&lt;escaped id&gt;/</c>, which outlives failed
/// attempts and restarts so transfers resume; the result is checked to open as a model and moved into
/// <c>&lt;store&gt;/&lt;id&gt;</c> in one rename. Progress is published in order per model, at most about ten times a
/// second (every phase change and the final status always), to <see cref="IObservable{T}"/> subscribers and
/// <see cref="WatchAsync"/> readers, none of whom can slow the transfer. Singleton; thread-safe.
/// </summary>
public sealed class ModelStore : IObservable<ModelDownloadStatus>, IDisposable
{
    private const int SubscriberCapacity = 1024;
    private static readonly TimeSpan PublishInterval = TimeSpan.FromMilliseconds(100);

    private readonly string? _storePath;
    private readonly ModelRegistry _registry;
    private readonly TimeProvider _time;
    private readonly ILogger<ModelStore> _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Materialization> _running = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ModelDownloadStatus> _statuses = new(StringComparer.Ordinal);
    private readonly List<Subscriber> _subscribers = [];
    private readonly ConcurrentDictionary<string, long> _sizes = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _shutdown = new();
    private bool _disposed;

    /// <summary>Creates the store over <see cref="ModelRegistryOptions.ModelStorePath"/>.</summary>
    public ModelStore(IOptions<ModelRegistryOptions> options, ModelRegistry registry, TimeProvider timeProvider, ILogger<ModelStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        _storePath = options.Value.ModelStorePath is { Length: > 0 } path ? Path.GetFullPath(path) : null;
        _registry = registry;
        _time = timeProvider;
        _logger = logger;
    }

    /// <summary>The status of every model being fetched, and of every model whose last attempt failed.</summary>
    public IReadOnlyList<ModelDownloadStatus> Statuses
    {
        get
        {
            lock (_gate)
            {
                return [.. _statuses.Values];
            }
        }
    }

    /// <summary>
    /// The status of <paramref name="modelId"/>: its transfer or failure when there is one; else
    /// <see cref="ModelDownloadState.Downloaded"/> when the registry finds it (registered by configuration or in the store),
    /// else <see cref="ModelDownloadState.Absent"/>.
    /// </summary>
    public ModelDownloadStatus GetStatus(string modelId)
    {
        ArgumentNullException.ThrowIfNull(modelId);
        ModelDownloadStatus? failed;
        lock (_gate)
        {
            if (_statuses.TryGetValue(modelId, out failed) && failed.State != ModelDownloadState.Failed)
            {
                return failed;
            }
        }

        // A failure is old news once the model is there after all (copied in, registered, or fetched by another process).
        var found = RegistryStatus(modelId);
        if (failed is null || found.State == ModelDownloadState.Downloaded)
        {
            if (failed is not null)
            {
                lock (_gate)
                {
                    if (_statuses.TryGetValue(modelId, out var current) && ReferenceEquals(current, failed))
                    {
                        _statuses.Remove(modelId);
                    }
                }
            }

            return found;
        }

        return failed;
    }

    /// <summary>
    /// Returns once <paramref name="modelId"/> is available: at once when the registry finds it; otherwise after fetching
    /// it from <paramref name="source"/>, or after joining the fetch already under way (whose source wins). Cancelling
    /// ends this caller's wait only: the fetch goes on for everyone else and completes into the store. A failed fetch
    /// fails every waiting caller; the next call tries again.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="modelId"/> cannot name a store folder.</exception>
    /// <exception cref="InvalidOperationException">No model store is configured.</exception>
    /// <exception cref="ModelDownloadException">The fetch failed; the message says why.</exception>
    /// <exception cref="ModelUnavailableException">The model exists but its folder is incomplete.</exception>
    public async Task EnsureAsync(string modelId, IModelSource source, CancellationToken cancellationToken)
    {
        ValidateId(modelId);
        ArgumentNullException.ThrowIfNull(source);
        if (_registry.TryGet(modelId, out _))
        {
            return;
        }

        var store = RequireStore();
        Task completion;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_running.TryGetValue(modelId, out var materialization))
            {
                if (Directory.Exists(TargetFolder(store, modelId)))
                {
                    // A fetch that ended between the registry's answer and this lock.
                    return;
                }

                materialization = new Materialization(modelId, source, _time);
                _running[modelId] = materialization;
                PublishProgressLocked(materialization, $"starting ({source.Description})");
                materialization.Completion = Task.Run(() => MaterializeAsync(materialization, store), CancellationToken.None);
                _ = materialization.Completion.ContinueWith(
                    static task => _ = task.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }

            completion = materialization.Completion;
        }

        await completion.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Removes <paramref name="modelId"/>'s folder (and any staging folder left for it) from the store and drops it from
    /// the registry's cache. Models registered by configuration are not touched.
    /// </summary>
    /// <returns>Whether the store held the model.</returns>
    /// <exception cref="InvalidOperationException">The model is being fetched, or no model store is configured.</exception>
    public async Task<bool> DeleteAsync(string modelId, CancellationToken cancellationToken)
    {
        ValidateId(modelId);
        var store = RequireStore();
        var trash = new List<string>();
        var existed = false;
        lock (_gate)
        {
            if (_running.ContainsKey(modelId))
            {
                throw new InvalidOperationException($"Model '{modelId}' is being downloaded; it can be deleted once that ends.");
            }

            // Renamed away inside the lock, deleted outside it: a fetch that starts meanwhile finds neither folder.
            foreach (var folder in new[] { TargetFolder(store, modelId), StagingFolder(store, modelId) })
            {
                if (Directory.Exists(folder))
                {
                    existed |= folder == TargetFolder(store, modelId);
                    var renamed = Path.Combine(store, ModelRegistry.StagingFolderName, $".deleting-{Guid.NewGuid():N}");
                    Directory.CreateDirectory(Path.GetDirectoryName(renamed)!);
                    Directory.Move(folder, renamed);
                    trash.Add(renamed);
                }
            }

            _statuses.Remove(modelId);
            _registry.Forget(modelId);
            _sizes.TryRemove(modelId, out _);
            PublishLocked(new ModelDownloadStatus(modelId, ModelDownloadState.Absent, 0, null, 0, null, null, _time.GetUtcNow()));
        }

        await Task.Run(() =>
        {
            foreach (var folder in trash)
            {
                Directory.Delete(folder, recursive: true);
            }

            RemoveEmptyParents(store, TargetFolder(store, modelId));
        }, cancellationToken);
        if (existed)
        {
            _logger.ModelDeleted(modelId);
        }

        return existed;
    }

    /// <summary>
    /// Sends every status change to <paramref name="observer"/>, starting with the statuses of <see cref="Statuses"/>.
    /// Calls come in order per model, on a thread of the subscription's own, so a slow observer never slows a transfer
    /// (its oldest pending statuses are dropped past a thousand); <see cref="IObserver{T}.OnCompleted"/> comes when the
    /// store is disposed.
    /// </summary>
    /// <returns>Disposing it ends the subscription.</returns>
    public IDisposable Subscribe(IObserver<ModelDownloadStatus> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        var subscriber = Register(modelId: null, out var current);
        foreach (var status in current)
        {
            subscriber.Channel.Writer.TryWrite(status);
        }

        _ = Task.Run(async () =>
        {
            await foreach (var status in subscriber.Channel.Reader.ReadAllAsync())
            {
                try
                {
                    observer.OnNext(status);
                }
                catch (Exception exception)
                {
                    _logger.ObserverFailed(status.ModelId, exception);
                }
            }

            if (!subscriber.Unsubscribed)
            {
                observer.OnCompleted();
            }
        });
        return new Subscription(this, subscriber);
    }

    /// <summary>
    /// The status of <paramref name="modelId"/> now (or, for null, of every model in <see cref="Statuses"/>), then each
    /// change as it is published, until <paramref name="cancellationToken"/> ends the enumeration.
    /// </summary>
    public async IAsyncEnumerable<ModelDownloadStatus> WatchAsync(string? modelId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var subscriber = Register(modelId, out var current);
        try
        {
            foreach (var status in current)
            {
                yield return status;
            }

            await foreach (var status in subscriber.Channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return status;
            }
        }
        finally
        {
            Unregister(subscriber);
        }
    }

    /// <summary>Stops the fetches under way (their staging folders stay, to resume) and completes the subscriptions.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var subscriber in _subscribers)
            {
                subscriber.Channel.Writer.TryComplete();
            }

            _subscribers.Clear();
        }

        // Not disposed: fetches still running read its token as they wind down.
        _shutdown.Cancel();
    }

    private static void ValidateId(string modelId)
    {
        ArgumentNullException.ThrowIfNull(modelId);
        if (!ModelRegistry.IsValidId(modelId) || modelId.Split('/')[0] == ModelRegistry.StagingFolderName)
        {
            throw new ArgumentException($"'{modelId}' is not a valid model id.", nameof(modelId));
        }
    }

    private static string TargetFolder(string store, string modelId) => Path.Combine([store, .. modelId.Split('/')]);

    // One folder per id, directly under .staging: '/' becomes %2F, which no id contains, so names never collide.
    private static string StagingFolder(string store, string modelId) =>
        Path.Combine(store, ModelRegistry.StagingFolderName, Uri.EscapeDataString(modelId));

    private static void RemoveEmptyParents(string store, string folder)
    {
        for (var parent = Path.GetDirectoryName(folder); parent is not null && parent.Length > store.Length; parent = Path.GetDirectoryName(parent))
        {
            if (!Directory.Exists(parent) || Directory.EnumerateFileSystemEntries(parent).Any())
            {
                return;
            }

            Directory.Delete(parent);
        }
    }

    private static long FolderSize(string folder)
    {
        try
        {
            // The manifest is ours, not the model's: without it the size matches the total the transfer reported.
            return Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                .Where(file => Path.GetFileName(file) != ModelExportLayout.ManifestFileName || Path.GetDirectoryName(file) != folder)
                .Sum(file => new FileInfo(file).Length);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private string RequireStore() =>
        _storePath ?? throw new InvalidOperationException("No model store is configured (Inference:ModelStorePath).");

    private ModelDownloadStatus RegistryStatus(string modelId)
    {
        var now = _time.GetUtcNow();
        try
        {
            if (_registry.TryGet(modelId, out var folder))
            {
                var size = _sizes.GetOrAdd(modelId, _ => FolderSize(folder.Path));
                return new ModelDownloadStatus(modelId, ModelDownloadState.Downloaded, size, size, 0, null, null, now);
            }
        }
        catch (ModelUnavailableException exception)
        {
            return new ModelDownloadStatus(modelId, ModelDownloadState.Failed, 0, null, 0, null, exception.Message, now);
        }

        return new ModelDownloadStatus(modelId, ModelDownloadState.Absent, 0, null, 0, null, null, now);
    }

    private async Task MaterializeAsync(Materialization materialization, string store)
    {
        var (modelId, source) = (materialization.ModelId, materialization.Source);
        var staging = StagingFolder(store, modelId);
        var target = TargetFolder(store, modelId);
        _logger.MaterializationStarted(modelId, source.Description, staging);
        try
        {
            Directory.CreateDirectory(staging);
            var progress = new SynchronousProgress<ModelTransferProgress>(report => OnProgress(materialization, report));
            await source.MaterializeAsync(staging, progress, _shutdown.Token);
            lock (_gate)
            {
                PublishProgressLocked(materialization, "verifying");
            }

            try
            {
                ModelFolder.Open(modelId, staging);
            }
            catch (ModelUnavailableException exception)
            {
                throw new ModelDownloadException(
                    $"The files from {source.Description} do not form a model: {exception.Message}", new InvalidDataException(exception.Message, exception));
            }

            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (Directory.Exists(target))
            {
                // Another process put the model there meanwhile; theirs stays.
                Directory.Delete(staging, recursive: true);
            }
            else
            {
                Directory.Move(staging, target);
            }

            _registry.Forget(modelId);
            _sizes.TryRemove(modelId, out _);
            lock (_gate)
            {
                var total = materialization.Total is { } known && known >= materialization.Completed ? known : materialization.Completed;
                PublishLocked(new ModelDownloadStatus(modelId, ModelDownloadState.Downloaded, total, total, 0, TimeSpan.Zero, null, _time.GetUtcNow()));
                _statuses.Remove(modelId);
                _running.Remove(modelId);
            }

            var seconds = _time.GetElapsedTime(materialization.StartedAt).TotalSeconds;
            var transferred = materialization.Completed - (materialization.FirstCompleted ?? 0);
            var mebibytesPerSecond = seconds > 0 ? Math.Round(transferred / seconds / (1024 * 1024), 2) : 0;
            seconds = Math.Round(seconds, 2);
            _logger.MaterializationCompleted(modelId, materialization.Completed, seconds, transferred, source.Description, mebibytesPerSecond);
        }
        catch (Exception exception)
        {
            var seconds = Math.Round(_time.GetElapsedTime(materialization.StartedAt).TotalSeconds, 2);
            if (exception is OperationCanceledException && _shutdown.IsCancellationRequested)
            {
                lock (_gate)
                {
                    _running.Remove(modelId);
                    _statuses.Remove(modelId);
                }

                _logger.MaterializationStopped(modelId, source.Description);
                throw;
            }

            // A checksum or layout failure means the files are wrong, not incomplete: nothing of them may stay. Other
            // failures keep what was fetched for the next attempt to resume, unless nothing was.
            if (exception.InnerException is InvalidDataException || IsEmpty(staging))
            {
                TryDelete(staging);
            }

            var failure = exception as ModelDownloadException
                ?? new ModelDownloadException($"Fetching from {source.Description} failed: {exception.Message}", exception);
            lock (_gate)
            {
                PublishLocked(materialization.Status with
                {
                    State = ModelDownloadState.Failed,
                    BytesPerSecond = 0,
                    EstimatedRemaining = null,
                    Reason = failure.Message,
                    UpdatedAt = _time.GetUtcNow(),
                });
                _running.Remove(modelId);
            }

            _logger.MaterializationFailed(modelId, source.Description, seconds, failure.Message, exception);
            if (ReferenceEquals(failure, exception))
            {
                ExceptionDispatchInfo.Throw(exception);
            }

            throw failure;
        }
    }

    private static bool IsEmpty(string folder) =>
        Directory.Exists(folder) && !Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Any();

    private static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Left for the next attempt, which overwrites what it finds.
        }
    }

    private void OnProgress(Materialization materialization, ModelTransferProgress progress)
    {
        var now = _time.GetTimestamp();
        lock (_gate)
        {
            materialization.Completed = progress.Completed;
            materialization.Total = progress.Total ?? materialization.Total;
            if (progress.Total is not null)
            {
                // From the first report that knows the total on: what was on disk before (a resumed transfer) is
                // neither counted in the rate nor in the bytes this run fetched.
                materialization.FirstCompleted ??= progress.Completed;
                materialization.Meter.Add(now, progress.Completed);
            }
            var phaseChanged = !string.Equals(progress.Phase, materialization.Status.Reason, StringComparison.Ordinal);
            if (phaseChanged || _time.GetElapsedTime(materialization.PublishedAt, now) >= PublishInterval)
            {
                PublishProgressLocked(materialization, progress.Phase);
            }
        }
    }

    private void PublishProgressLocked(Materialization materialization, string? reason)
    {
        var now = _time.GetTimestamp();
        var rate = materialization.Meter.Rate(now, materialization.Completed);
        TimeSpan? remaining = materialization.Total is { } total && rate > 0
            ? TimeSpan.FromSeconds(Math.Min(Math.Max(0, total - materialization.Completed) / rate, TimeSpan.FromDays(365).TotalSeconds))
            : null;
        materialization.PublishedAt = now;
        PublishLocked(new ModelDownloadStatus(
            materialization.ModelId, materialization.Source.ActiveState, materialization.Completed, materialization.Total, rate, remaining,
            reason, _time.GetUtcNow()));
    }

    private void PublishLocked(ModelDownloadStatus status)
    {
        if (_running.TryGetValue(status.ModelId, out var materialization))
        {
            materialization.Status = status;
        }

        if (status.State is ModelDownloadState.Downloading or ModelDownloadState.Building or ModelDownloadState.Failed)
        {
            _statuses[status.ModelId] = status;
        }

        foreach (var subscriber in _subscribers)
        {
            if (subscriber.ModelId is null || subscriber.ModelId == status.ModelId)
            {
                subscriber.Channel.Writer.TryWrite(status);
            }
        }
    }

    private Subscriber Register(string? modelId, out List<ModelDownloadStatus> current)
    {
        var subscriber = new Subscriber(modelId);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            current = modelId is null
                ? [.. _statuses.Values]
                : [_statuses.TryGetValue(modelId, out var status) ? status : RegistryStatus(modelId)];
            _subscribers.Add(subscriber);
        }

        return subscriber;
    }

    private void Unregister(Subscriber subscriber)
    {
        lock (_gate)
        {
            _subscribers.Remove(subscriber);
        }

        subscriber.Channel.Writer.TryComplete();
    }

    /// <summary>One model being fetched; its mutable fields change under the store's lock.</summary>
    private sealed class Materialization(string modelId, IModelSource source, TimeProvider time)
    {
        public string ModelId { get; } = modelId;

        public IModelSource Source { get; } = source;

        public long StartedAt { get; } = time.GetTimestamp();

        public Task Completion { get; set; } = Task.CompletedTask;

        public ModelDownloadStatus Status { get; set; } =
            new(modelId, source.ActiveState, 0, null, 0, null, null, DateTimeOffset.MinValue);

        public long Completed { get; set; }

        public long? FirstCompleted { get; set; }

        public long? Total { get; set; }

        public long PublishedAt { get; set; }

        public RateMeter Meter { get; } = new(time);
    }

    private sealed class Subscriber(string? modelId)
    {
        public string? ModelId { get; } = modelId;

        public Channel<ModelDownloadStatus> Channel { get; } = System.Threading.Channels.Channel.CreateBounded<ModelDownloadStatus>(
            new BoundedChannelOptions(SubscriberCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });

        public volatile bool Unsubscribed;
    }

    private sealed class Subscription(ModelStore store, Subscriber subscriber) : IDisposable
    {
        public void Dispose()
        {
            subscriber.Unsubscribed = true;
            store.Unregister(subscriber);
        }
    }
}

/// <summary>The transfer rate over the last few seconds, from (timestamp, bytes done) samples. Not thread-safe.</summary>
internal sealed class RateMeter(TimeProvider time)
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan SampleInterval = TimeSpan.FromMilliseconds(50);
    private readonly Queue<(long Timestamp, long Bytes)> _samples = new();
    private (long Timestamp, long Bytes)? _last;

    public void Add(long timestamp, long bytes)
    {
        if (_last is { } last && bytes < last.Bytes)
        {
            // The source started a file over: the old samples no longer measure anything.
            _samples.Clear();
            _last = null;
        }

        if (_last is not { } previous || Elapsed(previous.Timestamp, timestamp) >= SampleInterval)
        {
            _samples.Enqueue((timestamp, bytes));
            _last = (timestamp, bytes);
        }

        while (_samples.Count > 2 && Elapsed(_samples.Peek().Timestamp, timestamp) > Window)
        {
            _samples.Dequeue();
        }
    }

    /// <summary>Bytes per second from the oldest sample in the window to now; 0 until a fifth of a second is covered.</summary>
    public double Rate(long timestamp, long bytes)
    {
        if (!_samples.TryPeek(out var oldest))
        {
            return 0;
        }

        var seconds = Elapsed(oldest.Timestamp, timestamp).TotalSeconds;
        return seconds < 0.2 ? 0 : Math.Max(0, (bytes - oldest.Bytes) / seconds);
    }

    private TimeSpan Elapsed(long from, long to) => time.GetElapsedTime(from, to);
}
