using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using WebConsole.Inference.Abstractions;

namespace WebConsole.Inference.Deployments;

/// <summary>
/// A model deployed on the embedded host: a set of allocations (one worker each, e.g. one ONNX Runtime session), a bounded
/// queue in front of them, and the scaling of adaptive allocations. Thread-safe. See <see cref="BatchingDeployment{TItem,TResult}"/>
/// (encoders: items batched under a token budget) and <see cref="ExclusiveDeployment{TWorker}"/> (decoders: one request holds
/// one allocation).
/// </summary>
public abstract class Deployment : IAsyncDisposable
{
    // One lock guards all mutable state. Worker code, factories, disposals and event handlers never run under it.
    private readonly Lock _gate = new();
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Allocation> _allocations = [];
    private readonly LinkedList<QueuedWork> _queue = new();
    private readonly List<Task> _background = [];
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private DeploymentSettings _settings;
    private ITimer? _timer;
    private int _target;
    private int _nextAllocationId;
    private long _queuedTokens;
    private bool _startsSuspended;
    private bool _everReady;
    private bool _stopRequested;
    private string? _failureReason;
    private long _allocationFailures;
    private string? _lastAllocationFailure;
    private DateTimeOffset? _lastRequestAt;
    private DateTimeOffset _lastScaleChangeAt;
    private long _inferenceCount;
    private double _inferenceMillisecondsTotal;
    private long _version;
    private object? _publishedKey;

    private protected Deployment(DeploymentSettings settings, TimeProvider? timeProvider, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        _settings = settings;
        Time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _target = InitialTarget(settings.Allocations);
        _lastScaleChangeAt = Time.GetUtcNow();
    }

    /// <summary>Raised (outside any lock, on the thread that made the change) when the state, the allocations or a failure change.</summary>
    public event Action<DeploymentSnapshot>? Changed;

    /// <summary>The deployment's id.</summary>
    public string DeploymentId => _settings.DeploymentId;

    /// <summary>The model served.</summary>
    public string ModelId => _settings.ModelId;

    /// <summary>The settings in force (the allocations change with <see cref="UpdateAllocations"/>).</summary>
    public DeploymentSettings Settings
    {
        get
        {
            lock (_gate)
            {
                return _settings;
            }
        }
    }

    private protected TimeProvider Time { get; }

    /// <summary>The settings in force, read under the lock.</summary>
    private protected DeploymentSettings SettingsLocked => _settings;

    private protected CancellationToken StoppingToken => _stopping.Token;

    private protected Lock Gate => _gate;

    private protected LinkedList<QueuedWork> Queue => _queue;

    /// <summary>The deployment's state and statistics now.</summary>
    public DeploymentSnapshot GetSnapshot()
    {
        lock (_gate)
        {
            return BuildSnapshot();
        }
    }

    /// <summary>
    /// Changes the allocations live (<c>_update</c> of <c>num_allocations</c> or <c>adaptive_allocations</c>): new allocations
    /// start in the background; surplus ones leave idle ones first, busy ones once their work is done.
    /// </summary>
    public void UpdateAllocations(AllocationSettings allocations)
    {
        ArgumentNullException.ThrowIfNull(allocations);
        allocations.Validate();
        lock (_gate)
        {
            ThrowIfStopping();
            _settings = _settings with { Allocations = allocations };
            _target = allocations.IsAdaptive
                ? Math.Clamp(_target, allocations.MinimumAllocations, allocations.MaximumAllocations)
                : allocations.NumberOfAllocations;
            _startsSuspended = false;
            _lastScaleChangeAt = Time.GetUtcNow();
            Reconcile();
        }

        Publish();
    }

    /// <summary>
    /// Stops the deployment: waiting requests fail with <see cref="ModelUnavailableException"/>, running work is cancelled
    /// through the workers' token and awaited (up to <see cref="ScalingOptions.StopTimeout"/>), then the workers are disposed.
    /// </summary>
    public Task StopAsync()
    {
        bool first;
        lock (_gate)
        {
            first = !_stopRequested;
            if (first)
            {
                _stopRequested = true;
                FailAllQueued(new ModelUnavailableException(ModelId, $"Deployment '{DeploymentId}' of model '{ModelId}' is stopping."));
                foreach (var allocation in _allocations.ToList())
                {
                    RetireLocked(allocation);
                }

                SignalIfDrained();
            }
        }

        if (first)
        {
            Publish();
            _ = RunStopAsync();
        }

        return _stopped.Task;
    }

    /// <summary>Stops the deployment (see <see cref="StopAsync"/>).</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopping.Dispose();
        GC.SuppressFinalize(this);
    }

    private protected abstract ValueTask<object> CreateWorkerAsync(CancellationToken cancellationToken);

    /// <summary>Called under the lock with an allocation just marked busy: takes work from the queue and starts it.</summary>
    private protected abstract void Dispatch(Allocation allocation);

    /// <summary>Starts the initial allocations and the scaling timer; derived constructors call it last.</summary>
    private protected void Start()
    {
        lock (_gate)
        {
            _timer = Time.CreateTimer(static state => ((Deployment)state!).Evaluate(), this,
                _settings.Scaling.EvaluationInterval, _settings.Scaling.EvaluationInterval);
            Reconcile();
        }

        Publish();
    }

    /// <summary>Admits a request's units to the queue or throws <see cref="InferenceOverloadedException"/> at once.</summary>
    private protected void Enqueue(WorkRequest request, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            ThrowIfStopping();
            var batching = _settings.Batching;
            long tokens = 0;
            foreach (var unit in request.Units)
            {
                tokens += unit.Tokens;
            }

            // An empty queue takes any one request, so a request larger than the limits can still be served.
            if (_queue.Count > 0
                && (_queue.Count + request.Units.Length > batching.MaxQueuedItems || _queuedTokens + tokens > batching.MaxQueuedTokens))
            {
                throw new InferenceOverloadedException(
                    $"Deployment '{DeploymentId}' is overloaded: its queue is full ({_queue.Count} inputs and {_queuedTokens} tokens waiting; "
                    + $"limits {batching.MaxQueuedItems} inputs, {batching.MaxQueuedTokens} tokens); retry later.");
            }

            var now = Time.GetUtcNow();
            _lastRequestAt = now;
            // A request is what retries a deployment whose allocations failed to start.
            _startsSuspended = false;
            if (_settings.Allocations.IsAdaptive && _target == 0)
            {
                _target = 1;
                _lastScaleChangeAt = now;
                _logger.ColdStart(DeploymentId);
            }

            foreach (var unit in request.Units)
            {
                unit.EnqueuedAt = now;
                unit.Node = _queue.AddLast(unit);
            }

            _queuedTokens += tokens;
            Reconcile();
            Pump();
        }

        Publish();
    }

    /// <summary>Cancels a request: its waiting units leave the queue; units already running finish and are dropped.</summary>
    private protected void Cancel(WorkRequest request, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (request.IsCompleted)
            {
                return;
            }

            RemoveQueued(request);
            request.Cancel(cancellationToken);
        }

        Publish();
    }

    /// <summary>Takes one unit out of the queue (under the lock).</summary>
    private protected void TakeFromQueue(QueuedWork unit)
    {
        if (unit.Node is { } node)
        {
            _queue.Remove(node);
            _queuedTokens -= unit.Tokens;
            unit.Node = null;
        }
    }

    /// <summary>Fails a request and drops its waiting units (under the lock).</summary>
    private protected void FailRequest(WorkRequest request, Exception exception)
    {
        RemoveQueued(request);
        request.Fail(exception);
    }

    /// <summary>
    /// Ends a piece of work on <paramref name="allocation"/> (under the lock): counts it, then frees the allocation, or
    /// replaces it when <paramref name="crash"/> is set, and dispatches waiting work.
    /// </summary>
    private protected void FinishWork(Allocation allocation, int items, TimeSpan elapsed, Exception? crash)
    {
        if (crash is null && items > 0)
        {
            _inferenceCount += items;
            _inferenceMillisecondsTotal += elapsed.TotalMilliseconds * items;
        }

        if (crash is not null)
        {
            RecordAllocationFailure($"allocation {allocation.Id} crashed: {crash.Message}");
            _logger.AllocationCrashed(crash, DeploymentId, allocation.Id);
            RemoveLocked(allocation);
            Reconcile();
        }
        else if (allocation.Retiring || _stopRequested)
        {
            RemoveLocked(allocation);
        }
        else
        {
            allocation.State = AllocationWorkState.Idle;
            allocation.IdleSince = Time.GetUtcNow();
        }

        Pump();
        SignalIfDrained();
    }

    /// <summary>The exception a request sees when its work failed with <paramref name="error"/>.</summary>
    private protected Exception TranslateFailure(Exception error) => error switch
    {
        InferenceInputException input => input,
        OperationCanceledException when _stopping.IsCancellationRequested =>
            new ModelUnavailableException(ModelId, $"Deployment '{DeploymentId}' of model '{ModelId}' stopped.", error),
        _ => new ModelUnavailableException(ModelId, $"Model '{ModelId}' failed in deployment '{DeploymentId}': {error.Message}", error),
    };

    /// <summary>Whether <paramref name="error"/> means the worker is broken (not a bad input, not a stop).</summary>
    private protected bool IsCrash(Exception? error) =>
        error is not null
        && error is not InferenceInputException
        && !(error is OperationCanceledException && _stopping.IsCancellationRequested);

    /// <summary>Runs <paramref name="work"/> in the background; stopping waits for it (call under the lock).</summary>
    private protected void Track(Func<Task> work)
    {
        _background.RemoveAll(static task => task.IsCompleted);
        _background.Add(Task.Run(work));
    }

    /// <summary>Raises <see cref="Changed"/> when what it reports changed since it was last raised (call outside the lock).</summary>
    private protected void Publish()
    {
        DeploymentSnapshot? snapshot = null;
        lock (_gate)
        {
            var current = BuildSnapshot();
            var key = (current.State, current.AllocationState, current.AllocationCount, current.TargetAllocationCount,
                current.FailureReason, current.AllocationFailures, current.Allocations);
            if (!key.Equals(_publishedKey))
            {
                _publishedKey = key;
                snapshot = current;
            }
        }

        if (snapshot is not null && Changed is { } handler)
        {
            try
            {
                handler(snapshot);
            }
#pragma warning disable CA1031 // A subscriber's fault must not break scheduling.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                _logger.SubscriberFailed(exception, DeploymentId);
            }
        }
    }

    private static int InitialTarget(AllocationSettings allocations) =>
        allocations.IsAdaptive ? allocations.MinimumAllocations : allocations.NumberOfAllocations;

    private void ThrowIfStopping()
    {
        if (_stopRequested)
        {
            throw new ModelUnavailableException(ModelId, $"Deployment '{DeploymentId}' of model '{ModelId}' is stopped.");
        }
    }

    private void RemoveQueued(WorkRequest request)
    {
        foreach (var unit in request.Units)
        {
            TakeFromQueue(unit);
        }
    }

    private void FailAllQueued(Exception exception)
    {
        var requests = _queue.Select(static unit => unit.Request).Distinct().ToList();
        foreach (var request in requests)
        {
            FailRequest(request, exception);
        }
    }

    // Hands waiting work to idle allocations, the most recently used first, so the others stay idle long enough to be
    // scaled down.
    private void Pump()
    {
        while (_queue.Count > 0 && !_stopRequested)
        {
            Allocation? chosen = null;
            foreach (var allocation in _allocations)
            {
                if (allocation.State == AllocationWorkState.Idle && !allocation.Retiring
                    && (chosen is null || allocation.IdleSince > chosen.IdleSince))
                {
                    chosen = allocation;
                }
            }

            if (chosen is null)
            {
                return;
            }

            chosen.State = AllocationWorkState.Busy;
            Dispatch(chosen);
        }
    }

    // Brings the live allocations (starting, idle or busy, not retiring) to the target.
    private void Reconcile()
    {
        if (_stopRequested)
        {
            return;
        }

        var live = _allocations.Where(static allocation => !allocation.Retiring).ToList();
        if (live.Count < _target)
        {
            if (!_startsSuspended)
            {
                for (var i = live.Count; i < _target; i++)
                {
                    StartAllocation();
                }
            }

            return;
        }

        var surplus = live.Count - _target;
        var order = live
            .OrderBy(static allocation => allocation.State switch
            {
                AllocationWorkState.Idle => 0,
                AllocationWorkState.Starting => 1,
                _ => 2,
            })
            .ThenBy(static allocation => allocation.IdleSince)
            .Take(surplus)
            .ToList();
        foreach (var allocation in order)
        {
            RetireLocked(allocation);
        }
    }

    private void StartAllocation()
    {
        var allocation = new Allocation(++_nextAllocationId);
        _allocations.Add(allocation);
        _logger.AllocationStarting(DeploymentId, allocation.Id);
        Track(() => StartAllocationAsync(allocation));
    }

    private async Task StartAllocationAsync(Allocation allocation)
    {
        object worker;
        try
        {
            worker = await CreateWorkerAsync(_stopping.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Any failure to start is reported on the deployment and retried by the next request.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            lock (_gate)
            {
                _allocations.Remove(allocation);
                if (!_stopRequested)
                {
                    _logger.AllocationStartFailed(exception, DeploymentId, allocation.Id);
                    var reason = $"Model '{ModelId}' could not start: {exception.Message}";
                    RecordAllocationFailure(reason);
                    // Retrying in a loop would hammer a broken model; the next request (or an update) tries again.
                    _startsSuspended = true;
                    if (!_allocations.Any(static a => !a.Retiring))
                    {
                        _failureReason = reason;
                        FailAllQueued(new ModelUnavailableException(ModelId, reason, exception));
                    }
                }

                SignalIfDrained();
            }

            Publish();
            return;
        }

        lock (_gate)
        {
            if (_stopRequested || allocation.Retiring)
            {
                _allocations.Remove(allocation);
                DisposeLater(worker);
                SignalIfDrained();
            }
            else
            {
                allocation.Worker = worker;
                allocation.State = AllocationWorkState.Idle;
                allocation.IdleSince = Time.GetUtcNow();
                _everReady = true;
                _failureReason = null;
                _logger.AllocationStarted(DeploymentId, allocation.Id);
                Pump();
            }
        }

        Publish();
    }

    private void RetireLocked(Allocation allocation)
    {
        if (allocation.State == AllocationWorkState.Idle)
        {
            RemoveLocked(allocation);
        }
        else
        {
            // Starting: disposed once its worker exists; busy: once its work is done.
            allocation.Retiring = true;
        }
    }

    private void RemoveLocked(Allocation allocation)
    {
        _allocations.Remove(allocation);
        DisposeLater(allocation.Worker);
        allocation.Worker = null;
    }

    private void DisposeLater(object? worker)
    {
        if (worker is IAsyncDisposable or IDisposable)
        {
            Track(() => DisposeWorkerAsync(worker));
        }
    }

    private async Task DisposeWorkerAsync(object worker)
    {
        try
        {
            if (worker is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
            }
            else if (worker is IDisposable disposable)
            {
                disposable.Dispose();
            }
        }
#pragma warning disable CA1031 // A worker that fails to dispose is logged; the deployment goes on.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            _logger.DisposeFailed(exception, DeploymentId);
        }
    }

    private void RecordAllocationFailure(string reason)
    {
        _allocationFailures++;
        _lastAllocationFailure = reason;
    }

    private void SignalIfDrained()
    {
        if (_stopRequested && _allocations.Count == 0)
        {
            _drained.TrySetResult();
        }
    }

    // Re-evaluates adaptive allocations on the timer: one more allocation while work waits too long or too deep (one
    // start at a time), one fewer when one has been idle long enough, down to the minimum after a long time without requests.
    private void Evaluate()
    {
        lock (_gate)
        {
            var allocations = _settings.Allocations;
            if (_stopRequested || !allocations.IsAdaptive)
            {
                return;
            }

            var scaling = _settings.Scaling;
            var now = Time.GetUtcNow();
            var live = _allocations.Where(static allocation => !allocation.Retiring).ToList();
            var ready = live.Count(static allocation => allocation.State != AllocationWorkState.Starting);
            var starting = live.Count - ready;
            if (_queue.Count > 0)
            {
                var waited = now - _queue.First!.Value.EnqueuedAt;
                var deep = _queue.Count > (long)scaling.ScaleUpQueueDepthPerAllocation * Math.Max(ready, 1);
                // No scale-up while starts are suspended by a failure: that would retry a broken model in a loop.
                if (!_startsSuspended && starting == 0 && _target < allocations.MaximumAllocations
                    && (waited >= scaling.ScaleUpQueueDelay || deep))
                {
                    _target++;
                    _lastScaleChangeAt = now;
                    _logger.ScaledUp(DeploymentId, _target, _queue.Count, (long)waited.TotalMilliseconds);
                    Reconcile();
                }
            }
            else
            {
                var sinceRequest = _lastRequestAt is { } last ? now - last : TimeSpan.MaxValue;
                if (sinceRequest >= scaling.ScaleToMinimumAfter && _target > allocations.MinimumAllocations)
                {
                    _target = allocations.MinimumAllocations;
                    _lastScaleChangeAt = now;
                    _logger.ScaledToMinimum(DeploymentId, sinceRequest, _target);
                    Reconcile();
                }
                else if (_target > Math.Max(allocations.MinimumAllocations, 1)
                    && now - _lastScaleChangeAt >= scaling.ScaleDownAfterIdle
                    && live.Any(allocation => allocation.State == AllocationWorkState.Idle && now - allocation.IdleSince >= scaling.ScaleDownAfterIdle))
                {
                    _target--;
                    _lastScaleChangeAt = now;
                    _logger.ScaledDown(DeploymentId, _target);
                    Reconcile();
                }
            }
        }

        Publish();
    }

    private async Task RunStopAsync()
    {
        var timeout = _settings.Scaling.StopTimeout;
        try
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            _timer?.Dispose();
            await _drained.Task.WaitAsync(timeout, Time).ConfigureAwait(false);
            Task[] background;
            lock (_gate)
            {
                background = [.. _background];
            }

            await Task.WhenAll(background).WaitAsync(timeout, Time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _logger.StopTimedOut(DeploymentId, timeout);
        }
        finally
        {
            _logger.Stopped(DeploymentId);
            _stopped.TrySetResult();
        }
    }

    private DeploymentSnapshot BuildSnapshot()
    {
        var ready = 0;
        var busy = 0;
        foreach (var allocation in _allocations)
        {
            if (allocation.State == AllocationWorkState.Busy)
            {
                busy++;
            }

            if (!allocation.Retiring && allocation.State != AllocationWorkState.Starting)
            {
                ready++;
            }
        }

        var state = _stopRequested ? DeploymentState.Stopping
            : _failureReason is not null && ready == 0 ? DeploymentState.Failed
            : !_everReady && _target > 0 ? DeploymentState.Starting
            : DeploymentState.Started;
        var allocationState = ready >= _target ? AllocationState.FullyAllocated
            : ready > 0 ? AllocationState.Started
            : AllocationState.Starting;
        return new DeploymentSnapshot
        {
            DeploymentId = _settings.DeploymentId,
            ModelId = _settings.ModelId,
            State = state,
            AllocationState = allocationState,
            AllocationCount = ready,
            TargetAllocationCount = _target,
            NumberOfAllocations = _target,
            ThreadsPerAllocation = _settings.ThreadsPerAllocation,
            Allocations = _settings.Allocations,
            InferenceCount = _inferenceCount,
            AverageInferenceTimeMs = _inferenceCount == 0 ? 0 : _inferenceMillisecondsTotal / _inferenceCount,
            QueueSize = _queue.Count,
            QueuedTokens = _queuedTokens,
            BusyAllocations = busy,
            FailureReason = state == DeploymentState.Failed ? _failureReason : null,
            AllocationFailures = _allocationFailures,
            LastAllocationFailure = _lastAllocationFailure,
            LastRequestAt = _lastRequestAt,
            Version = ++_version,
        };
    }
}

/// <summary>What an allocation is doing.</summary>
internal enum AllocationWorkState
{
    Starting,
    Idle,
    Busy,
}

/// <summary>One allocation: one worker, running one piece of work at a time. Guarded by its deployment's lock.</summary>
internal sealed class Allocation(int id)
{
    public int Id { get; } = id;

    public AllocationWorkState State { get; set; } = AllocationWorkState.Starting;

    /// <summary>To be removed once it is no longer starting or busy.</summary>
    public bool Retiring { get; set; }

    public object? Worker { get; set; }

    public DateTimeOffset IdleSince { get; set; }
}

/// <summary>One unit in a deployment's queue: an input of a batched request, or a whole generation request.</summary>
internal class QueuedWork(WorkRequest request, int tokens)
{
    public WorkRequest Request { get; } = request;

    public int Tokens { get; } = tokens;

    public DateTimeOffset EnqueuedAt { get; set; }

    /// <summary>Set while the unit waits in the queue.</summary>
    public LinkedListNode<QueuedWork>? Node { get; set; }
}

/// <summary>A caller's request, completed once by its deployment (under the deployment's lock).</summary>
internal abstract class WorkRequest
{
    public QueuedWork[] Units { get; set; } = [];

    public abstract bool IsCompleted { get; }

    public abstract void Fail(Exception exception);

    public abstract void Cancel(CancellationToken cancellationToken);
}
