using Microsoft.Extensions.Logging;

namespace WebConsole.Inference.Deployments;

/// <summary>
/// A deployment whose requests are split into items that a dynamic batcher groups across requests (encoders: embeddings,
/// sparse embeddings, rerank pairs). Each idle allocation takes the oldest waiting item plus the waiting items of the most
/// similar length that fit the token budget; a request's items may run in several batches on several allocations and come
/// back in the request's order. Thread-safe.
/// </summary>
/// <typeparam name="TItem">One input as the pipeline prepared it (e.g. a tokenized text).</typeparam>
/// <typeparam name="TResult">The worker's output for one input.</typeparam>
public sealed class BatchingDeployment<TItem, TResult> : Deployment
{
    private readonly Func<CancellationToken, ValueTask<IBatchWorker<TItem, TResult>>> _workerFactory;
    private readonly Func<TItem, int> _tokenCount;

    /// <summary>Creates the deployment and starts its initial allocations in the background.</summary>
    /// <param name="settings">Identity, allocations, batching and scaling.</param>
    /// <param name="workerFactory">Creates one allocation's worker (loads a session); may throw to report the model unusable.</param>
    /// <param name="tokenCount">An item's length in tokens, which the token budget and the length sorting use.</param>
    /// <param name="timeProvider">The clock for queueing delays, idle periods and timings (the system clock when null).</param>
    /// <param name="logger">Where allocation starts, failures and scaling are logged.</param>
    public BatchingDeployment(
        DeploymentSettings settings,
        Func<CancellationToken, ValueTask<IBatchWorker<TItem, TResult>>> workerFactory,
        Func<TItem, int> tokenCount,
        TimeProvider? timeProvider = null,
        ILogger? logger = null)
        : base(settings, timeProvider, logger)
    {
        ArgumentNullException.ThrowIfNull(workerFactory);
        ArgumentNullException.ThrowIfNull(tokenCount);
        _workerFactory = workerFactory;
        _tokenCount = tokenCount;
        Start();
    }

    /// <summary>
    /// Runs <paramref name="items"/> and returns one result per item, in order. Waits for a cold start when no allocation
    /// runs. Throws <see cref="Abstractions.InferenceOverloadedException"/> at once when the queue is full,
    /// <see cref="Abstractions.ModelUnavailableException"/> when the model fails or the deployment stops, and
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> is cancelled (waiting items leave the
    /// queue; running ones finish and their results are dropped).
    /// </summary>
    public async Task<IReadOnlyList<TResult>> InferAsync(IReadOnlyList<TItem> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0)
        {
            return [];
        }

        var request = new BatchRequest(items.Count);
        var units = new QueuedWork[items.Count];
        for (var i = 0; i < units.Length; i++)
        {
            units[i] = new QueuedItem(request, i, items[i], Math.Max(1, _tokenCount(items[i])));
        }

        request.Units = units;
        Enqueue(request, cancellationToken);
        using var registration = cancellationToken.Register(() => Cancel(request, cancellationToken));
        return await request.Task.ConfigureAwait(false);
    }

    private protected override async ValueTask<object> CreateWorkerAsync(CancellationToken cancellationToken) =>
        await _workerFactory(cancellationToken).ConfigureAwait(false);

    private protected override void Dispatch(Allocation allocation)
    {
        var batching = SettingsLocked.Batching;
        var window = new List<QueuedItem>(Math.Min(batching.LookAhead, Queue.Count));
        for (var node = Queue.First; node is not null && window.Count < batching.LookAhead; node = node.Next)
        {
            window.Add((QueuedItem)node.Value);
        }

        var plan = BatchPlanner.Plan(window.ConvertAll(static item => item.Tokens), batching.MaxBatchTokens, batching.MaxBatchSize, batching.MaxPaddingRatio);
        var batch = new QueuedItem[plan.Count];
        for (var i = 0; i < plan.Count; i++)
        {
            batch[i] = window[plan[i]];
            TakeFromQueue(batch[i]);
        }

        var worker = (IBatchWorker<TItem, TResult>)allocation.Worker!;
        Track(() => RunBatchAsync(allocation, worker, batch));
    }

    private async Task RunBatchAsync(Allocation allocation, IBatchWorker<TItem, TResult> worker, QueuedItem[] batch)
    {
        var inputs = Array.ConvertAll(batch, static item => item.Item);
        var started = Time.GetTimestamp();
        IReadOnlyList<TResult>? results = null;
        Exception? error = null;
        try
        {
            results = await worker.RunBatchAsync(inputs, StoppingToken).ConfigureAwait(false);
            if (results is null || results.Count != inputs.Length)
            {
                throw new InvalidOperationException($"The worker returned {results?.Count ?? 0} results for {inputs.Length} inputs.");
            }
        }
#pragma warning disable CA1031 // Every worker failure is reported to the batch's requests.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            error = exception;
        }

        var elapsed = Time.GetElapsedTime(started);
        lock (Gate)
        {
            if (error is null)
            {
                for (var i = 0; i < batch.Length; i++)
                {
                    batch[i].Owner.SetResult(batch[i].Index, results![i]);
                }
            }
            else
            {
                var failure = TranslateFailure(error);
                foreach (var request in batch.Select(static item => item.Owner).Distinct())
                {
                    if (!request.IsCompleted)
                    {
                        FailRequest(request, failure);
                    }
                }
            }

            FinishWork(allocation, error is null ? batch.Length : 0, elapsed, IsCrash(error) ? error : null);
        }

        Publish();
    }

    private sealed class QueuedItem(BatchRequest request, int index, TItem item, int tokens) : QueuedWork(request, tokens)
    {
        public BatchRequest Owner { get; } = request;

        public int Index { get; } = index;

        public TItem Item { get; } = item;
    }

    private sealed class BatchRequest(int count) : WorkRequest
    {
        private readonly TaskCompletionSource<IReadOnlyList<TResult>> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TResult[] _results = new TResult[count];
        private int _remaining = count;

        public Task<IReadOnlyList<TResult>> Task => _completion.Task;

        public override bool IsCompleted => _completion.Task.IsCompleted;

        public void SetResult(int index, TResult result)
        {
            // Results of a cancelled or failed request are dropped.
            if (IsCompleted)
            {
                return;
            }

            _results[index] = result;
            if (--_remaining == 0)
            {
                _completion.TrySetResult(_results);
            }
        }

        public override void Fail(Exception exception) => _completion.TrySetException(exception);

        public override void Cancel(CancellationToken cancellationToken) => _completion.TrySetCanceled(cancellationToken);
    }
}
