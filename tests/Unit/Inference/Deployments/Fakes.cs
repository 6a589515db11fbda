using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using WebConsole.Inference.Deployments;

namespace WebConsole.Unit.Inference.Deployments;

/// <summary>One input of the fake encoder: an id to trace it and its length in tokens.</summary>
internal sealed record Text(string Id, int Tokens);

/// <summary>
/// Stands in for the sessions a deployment loads (the model boundary): counts creations, can fail or hold a start, records
/// every batch, can hold batches until released, and can crash a given worker on its first batch.
/// </summary>
internal sealed class FakeEncoderPool
{
    private readonly ConcurrentQueue<(int Worker, Text[] Batch)> _batches = new();
    private readonly ConcurrentBag<FakeEncoder> _workers = [];
    private int _created;
    private volatile TaskCompletionSource? _batchGate;
    private volatile TaskCompletionSource? _startGate;

    /// <summary>Workers to create that fail to start (by creation number, from 1).</summary>
    public HashSet<int> FailingStarts { get; } = [];

    /// <summary>Workers (by creation number) that throw on their first batch.</summary>
    public HashSet<int> CrashingWorkers { get; } = [];

    /// <summary>Runs inside every batch (e.g. to move the fake clock as if the batch took time).</summary>
    public Action? DuringBatch { get; set; }

    public int Created => Volatile.Read(ref _created);

    public IReadOnlyList<(int Worker, Text[] Batch)> Batches => [.. _batches];

    public IReadOnlyList<FakeEncoder> Workers => [.. _workers.OrderBy(static w => w.Number)];

    public int Disposed => _workers.Count(static w => w.IsDisposed);

    /// <summary>Batches that start from now on wait until <see cref="ReleaseBatches"/>.</summary>
    public void HoldBatches() => _batchGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ReleaseBatches() => Interlocked.Exchange(ref _batchGate, null)?.TrySetResult();

    /// <summary>Worker creations from now on wait until <see cref="ReleaseStarts"/>.</summary>
    public void HoldStarts() => _startGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ReleaseStarts() => Interlocked.Exchange(ref _startGate, null)?.TrySetResult();

    public async ValueTask<IBatchWorker<Text, string>> CreateAsync(CancellationToken cancellationToken)
    {
        var number = Interlocked.Increment(ref _created);
        if (_startGate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        await Task.Yield();
        if (FailingStarts.Contains(number))
        {
            throw new FileNotFoundException($"weights of worker {number} are missing");
        }

        var worker = new FakeEncoder(this, number);
        _workers.Add(worker);
        return worker;
    }

    internal async ValueTask<IReadOnlyList<string>> RunAsync(FakeEncoder worker, IReadOnlyList<Text> batch, CancellationToken cancellationToken)
    {
        Assert.False(worker.IsDisposed, "a disposed worker was given a batch");
        Assert.True(worker.Enter(), "two batches ran at once on one allocation");
        try
        {
            _batches.Enqueue((worker.Number, [.. batch]));
            DuringBatch?.Invoke();
            if (_batchGate is { } gate)
            {
                await gate.Task.WaitAsync(cancellationToken);
            }

            await Task.Yield();
            if (CrashingWorkers.Contains(worker.Number))
            {
                throw new InvalidOperationException($"session of worker {worker.Number} exploded");
            }

            return [.. batch.Select(static text => "r:" + text.Id)];
        }
        finally
        {
            worker.Exit();
        }
    }
}

internal sealed class FakeEncoder(FakeEncoderPool pool, int number) : IBatchWorker<Text, string>, IDisposable
{
    private int _running;

    public int Number { get; } = number;

    public bool IsDisposed { get; private set; }

    public ValueTask<IReadOnlyList<string>> RunBatchAsync(IReadOnlyList<Text> batch, CancellationToken cancellationToken) =>
        pool.RunAsync(this, batch, cancellationToken);

    public void Dispose() => IsDisposed = true;

    /// <summary>False when a batch is already running on this worker (an allocation must run one batch at a time).</summary>
    public bool Enter() => Interlocked.Exchange(ref _running, 1) == 0;

    public void Exit() => Volatile.Write(ref _running, 0);
}

/// <summary>Stands in for a decoder session: yields tokens until cancelled, or crashes when told to.</summary>
internal sealed class FakeDecoder(int number) : IAsyncDisposable
{
    public int Number { get; } = number;

    public bool Crash { get; set; }

    public bool IsDisposed { get; private set; }

    public async IAsyncEnumerable<int> GenerateAsync(int maxTokens, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var i = 0; i < maxTokens; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            if (Crash)
            {
                throw new InvalidOperationException($"decoder {Number} exploded");
            }

            yield return i;
        }
    }

    public ValueTask DisposeAsync()
    {
        IsDisposed = true;
        return ValueTask.CompletedTask;
    }
}

internal static class Wait
{
    /// <summary>Polls until <paramref name="condition"/> holds: background starts and batches run on the thread pool.</summary>
    public static async Task UntilAsync(Func<bool> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new Xunit.Sdk.XunitException($"Timed out waiting until {what}.");
            }

            await Task.Delay(2);
        }
    }
}
