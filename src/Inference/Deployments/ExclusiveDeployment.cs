using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using WebConsole.Inference.Abstractions;

namespace WebConsole.Inference.Deployments;

/// <summary>
/// A deployment whose unit of work is a whole request holding one allocation (decoders: one sequence at a time per
/// allocation). Requests wait in a bounded first-in-first-out queue. Thread-safe.
/// </summary>
/// <typeparam name="TWorker">One allocation's worker (e.g. a decoder session); disposed with its allocation when disposable.</typeparam>
public sealed class ExclusiveDeployment<TWorker> : Deployment
    where TWorker : class
{
    private readonly Func<CancellationToken, ValueTask<TWorker>> _workerFactory;

    /// <summary>Creates the deployment and starts its initial allocations in the background.</summary>
    /// <param name="settings">Identity, allocations, queue limits and scaling (batch limits are unused).</param>
    /// <param name="workerFactory">Creates one allocation's worker (loads a session); may throw to report the model unusable.</param>
    /// <param name="timeProvider">The clock for queueing delays, idle periods and timings (the system clock when null).</param>
    /// <param name="logger">Where allocation starts, failures and scaling are logged.</param>
    public ExclusiveDeployment(
        DeploymentSettings settings,
        Func<CancellationToken, ValueTask<TWorker>> workerFactory,
        TimeProvider? timeProvider = null,
        ILogger? logger = null)
        : base(settings, timeProvider, logger)
    {
        ArgumentNullException.ThrowIfNull(workerFactory);
        _workerFactory = workerFactory;
        Start();
    }

    /// <summary>
    /// Waits for an allocation and hands it over until the lease is disposed. Throws
    /// <see cref="InferenceOverloadedException"/> at once when the queue is full, <see cref="ModelUnavailableException"/> when
    /// the model cannot start or the deployment stops, <see cref="OperationCanceledException"/> when cancelled while waiting
    /// (the request leaves the queue). Prefer <see cref="StreamAsync{T}"/> or <see cref="RunAsync{T}"/>, which release the
    /// allocation however the work ends.
    /// </summary>
    /// <param name="tokenCount">The request's prompt tokens, counted against the queue's token limit.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public async Task<AllocationLease<TWorker>> AcquireAsync(int tokenCount = 0, CancellationToken cancellationToken = default)
    {
        var request = new LeaseRequest();
        request.Units = [new QueuedWork(request, Math.Max(1, tokenCount))];
        Enqueue(request, cancellationToken);
        using var registration = cancellationToken.Register(() => Cancel(request, cancellationToken));
        return await request.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Runs <paramref name="run"/> on an allocation and streams its items. Cancelling <paramref name="cancellationToken"/>
    /// (or disposing the enumerator) stops the work at its next step and frees the allocation at once; a failure other than
    /// a bad input replaces the allocation and surfaces as <see cref="ModelUnavailableException"/>.
    /// </summary>
    public async IAsyncEnumerable<T> StreamAsync<T>(
        Func<TWorker, CancellationToken, IAsyncEnumerable<T>> run,
        int tokenCount = 0,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        using var lease = await AcquireAsync(tokenCount, cancellationToken).ConfigureAwait(false);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease.StoppingToken);
        var enumerator = run(lease.Worker, linked.Token).GetAsyncEnumerator(linked.Token);
        try
        {
            while (true)
            {
                T current;
                try
                {
                    if (!await enumerator.MoveNextAsync().ConfigureAwait(false))
                    {
                        break;
                    }

                    current = enumerator.Current;
                }
                catch (Exception exception) when (IsCrash(exception) && !(exception is OperationCanceledException && linked.IsCancellationRequested))
                {
                    lease.MarkFaulted(exception);
                    throw TranslateFailure(exception);
                }

                yield return current;
            }
        }
        finally
        {
            await enumerator.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Runs <paramref name="run"/> on an allocation and frees it when done, as <see cref="StreamAsync{T}"/> does.</summary>
    public async Task<T> RunAsync<T>(
        Func<TWorker, CancellationToken, ValueTask<T>> run,
        int tokenCount = 0,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        using var lease = await AcquireAsync(tokenCount, cancellationToken).ConfigureAwait(false);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease.StoppingToken);
        try
        {
            return await run(lease.Worker, linked.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsCrash(exception) && !(exception is OperationCanceledException && linked.IsCancellationRequested))
        {
            lease.MarkFaulted(exception);
            throw TranslateFailure(exception);
        }
    }

    private protected override async ValueTask<object> CreateWorkerAsync(CancellationToken cancellationToken) =>
        await _workerFactory(cancellationToken).ConfigureAwait(false);

    private protected override void Dispatch(Allocation allocation)
    {
        var unit = Queue.First!.Value;
        TakeFromQueue(unit);
        var lease = new AllocationLease<TWorker>(this, allocation, (TWorker)allocation.Worker!, Time.GetTimestamp(), StoppingToken);
        // The lease is handed over under the lock, so a cancellation (which takes the lock too) cannot lose it.
        ((LeaseRequest)unit.Request).Complete(lease);
    }

    internal void Release(Allocation allocation, long startedTimestamp, Exception? fault)
    {
        lock (Gate)
        {
            FinishWork(allocation, fault is null ? 1 : 0, Time.GetElapsedTime(startedTimestamp), fault);
        }

        Publish();
    }

    private sealed class LeaseRequest : WorkRequest
    {
        private readonly TaskCompletionSource<AllocationLease<TWorker>> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<AllocationLease<TWorker>> Task => _completion.Task;

        public override bool IsCompleted => _completion.Task.IsCompleted;

        public void Complete(AllocationLease<TWorker> lease) => _completion.TrySetResult(lease);

        public override void Fail(Exception exception) => _completion.TrySetException(exception);

        public override void Cancel(CancellationToken cancellationToken) => _completion.TrySetCanceled(cancellationToken);
    }
}

/// <summary>
/// Exclusive use of one allocation's worker until disposed. Not thread-safe: one caller drives the worker.
/// </summary>
/// <typeparam name="TWorker">The allocation's worker.</typeparam>
public sealed class AllocationLease<TWorker> : IDisposable, IAsyncDisposable
    where TWorker : class
{
    private readonly ExclusiveDeployment<TWorker> _owner;
    private readonly Allocation _allocation;
    private readonly long _startedTimestamp;
    private Exception? _fault;
    private int _released;

    internal AllocationLease(ExclusiveDeployment<TWorker> owner, Allocation allocation, TWorker worker, long startedTimestamp, CancellationToken stoppingToken)
    {
        _owner = owner;
        _allocation = allocation;
        _startedTimestamp = startedTimestamp;
        Worker = worker;
        StoppingToken = stoppingToken;
    }

    /// <summary>The allocation's worker, for this lease's holder alone.</summary>
    public TWorker Worker { get; }

    /// <summary>Cancelled when the deployment stops: the holder must end its work and dispose the lease.</summary>
    public CancellationToken StoppingToken { get; }

    /// <summary>Reports the worker broken: on release the allocation is replaced instead of reused.</summary>
    public void MarkFaulted(Exception exception) => _fault ??= exception;

    /// <summary>Frees the allocation for the next request (once; later calls do nothing).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _owner.Release(_allocation, _startedTimestamp, _fault);
        }
    }

    /// <summary>Frees the allocation for the next request.</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
