namespace WebConsole.Inference.Deployments;

/// <summary>
/// One allocation's worker for batched work (an encoder session): runs one batch at a time, never two at once, so it
/// needs no thread safety of its own. A worker that implements <see cref="IAsyncDisposable"/> or <see cref="IDisposable"/>
/// is disposed when its allocation is removed.
/// </summary>
/// <typeparam name="TItem">One input as the pipeline prepared it (e.g. a tokenized text).</typeparam>
/// <typeparam name="TResult">The worker's output for one input (e.g. an embedding).</typeparam>
public interface IBatchWorker<TItem, TResult>
{
    /// <summary>
    /// Runs <paramref name="batch"/> (ordered by token count, shortest first) and returns one result per item, in the same
    /// order. An exception other than <see cref="Abstractions.InferenceInputException"/> fails the batch's requests with
    /// <see cref="Abstractions.ModelUnavailableException"/> and replaces the allocation.
    /// </summary>
    /// <param name="batch">The items, at most the deployment's batch size and token budget.</param>
    /// <param name="cancellationToken">Cancelled when the deployment stops (not when one request is cancelled).</param>
    ValueTask<IReadOnlyList<TResult>> RunBatchAsync(IReadOnlyList<TItem> batch, CancellationToken cancellationToken);
}
