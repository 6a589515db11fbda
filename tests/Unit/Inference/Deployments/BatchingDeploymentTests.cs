using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Deployments;

namespace WebConsole.Unit.Inference.Deployments;

public sealed class BatchingDeploymentTests
{
    private readonly FakeEncoderPool _pool = new();
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public async Task Batches_respect_the_token_budget_and_group_similar_lengths()
    {
        await using var deployment = Create(batching: new BatchingOptions { MaxBatchTokens = 64, MaxBatchSize = 8 });
        var blocker = await OccupyTheOnlyAllocationAsync(deployment);
        int[] lengths = [16, 2, 15, 3, 14, 4, 16, 2];
        var texts = lengths.Select((tokens, i) => new Text($"t{i}", tokens)).ToArray();

        var request = deployment.InferAsync(texts);
        await Wait.UntilAsync(() => deployment.GetSnapshot().QueueSize == 8, "the request waits");
        _pool.ReleaseBatches();

        Assert.Equal(texts.Select(static t => "r:" + t.Id), await request);
        await blocker;
        var batches = _pool.Batches.Skip(1).Select(static b => b.Batch.Select(static t => t.Tokens).ToArray()).ToList();
        // The short ones fit the budget together, but 2, 2, 3, 4 padded to 4 would be 45% padding (over the default 20%).
        Assert.Equal([[14, 15, 16, 16], [2, 2], [3, 4]], batches);
        Assert.All(batches, batch => Assert.True(batch.Max() * batch.Length <= 64));
    }

    [Fact]
    public async Task A_request_split_across_batches_and_allocations_gets_its_results_in_order()
    {
        // Mixed lengths, and padding is not what this test is about: only the batch size splits the request.
        await using var deployment = Create(AllocationSettings.Fixed(2), new BatchingOptions { MaxBatchSize = 3, MaxPaddingRatio = double.PositiveInfinity });
        await Wait.UntilAsync(() => deployment.GetSnapshot().AllocationCount == 2, "both allocations are ready");
        var texts = Enumerable.Range(0, 10).Select(i => new Text($"t{i}", 1 + (i * 7 % 5))).ToArray();
        // Hold the first batches until both allocations have one, so the request is provably spread over both.
        _pool.HoldBatches();

        var request = deployment.InferAsync(texts);
        await Wait.UntilAsync(() => _pool.Batches.Select(static b => b.Worker).Distinct().Count() == 2, "both allocations run a batch");
        _pool.ReleaseBatches();

        Assert.Equal(texts.Select(static t => "r:" + t.Id), await request);
        Assert.Equal(4, _pool.Batches.Count);
        Assert.Equal(texts.Select(static t => t.Id).Order(), _pool.Batches.SelectMany(static b => b.Batch).Select(static t => t.Id).Order());
    }

    [Fact]
    public async Task Concurrent_requests_are_batched_together_and_each_gets_its_own_results()
    {
        await using var deployment = Create(batching: new BatchingOptions { MaxBatchSize = 32 });
        var blocker = await OccupyTheOnlyAllocationAsync(deployment);

        var requests = Enumerable.Range(0, 5)
            .Select(r => deployment.InferAsync([new Text($"a{r}", 4), new Text($"b{r}", 5)]))
            .ToArray();
        await Wait.UntilAsync(() => deployment.GetSnapshot().QueueSize == 10, "the requests wait");
        _pool.ReleaseBatches();

        for (var r = 0; r < requests.Length; r++)
        {
            Assert.Equal([$"r:a{r}", $"r:b{r}"], await requests[r]);
        }

        await blocker;
        Assert.Equal(2, _pool.Batches.Count);
        Assert.Equal(10, _pool.Batches[1].Batch.Length);
    }

    [Fact]
    public async Task A_full_queue_answers_overloaded_at_once()
    {
        await using var deployment = Create(batching: new BatchingOptions { MaxQueuedItems = 4, MaxQueuedTokens = 40 });
        var blocker = await OccupyTheOnlyAllocationAsync(deployment);
        var waiting = deployment.InferAsync([new("a", 5), new("b", 5), new("c", 5)]);

        var tooMany = deployment.InferAsync([new("d", 5), new("e", 5)]);
        var tooLong = deployment.InferAsync([new("f", 30)]);

        Assert.True(tooMany.IsFaulted && tooLong.IsFaulted, "an overloaded answer must not wait");
        await Assert.ThrowsAsync<InferenceOverloadedException>(() => tooMany);
        await Assert.ThrowsAsync<InferenceOverloadedException>(() => tooLong);
        Assert.Equal(3, deployment.GetSnapshot().QueueSize);
        var fits = deployment.InferAsync([new("g", 5)]);
        _pool.ReleaseBatches();
        Assert.Equal(["r:a", "r:b", "r:c"], await waiting);
        Assert.Equal(["r:g"], await fits);
        await blocker;
    }

    [Fact]
    public async Task Cancelling_a_request_removes_its_waiting_items_from_the_queue()
    {
        await using var deployment = Create();
        var blocker = await OccupyTheOnlyAllocationAsync(deployment);
        using var cancellation = new CancellationTokenSource();
        var cancelled = deployment.InferAsync([new("x1", 3), new("x2", 3), new("x3", 3)], cancellation.Token);
        var kept = deployment.InferAsync([new("k", 3)]);
        Assert.Equal(4, deployment.GetSnapshot().QueueSize);

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(1, deployment.GetSnapshot().QueueSize);
        _pool.ReleaseBatches();
        Assert.Equal(["r:k"], await kept);
        await blocker;
        Assert.DoesNotContain(_pool.Batches.SelectMany(static b => b.Batch), text => text.Id.StartsWith('x'));
    }

    [Fact]
    public async Task Cancelling_a_request_whose_batch_runs_returns_at_once_and_the_allocation_goes_on()
    {
        await using var deployment = Create();
        _pool.HoldBatches();
        using var cancellation = new CancellationTokenSource();
        var running = deployment.InferAsync([new("r", 3)], cancellation.Token);
        await Wait.UntilAsync(() => _pool.Batches.Count == 1, "the batch runs");

        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);

        _pool.ReleaseBatches();
        Assert.Equal(["r:next"], await deployment.InferAsync([new("next", 3)]));
        Assert.Equal(1, _pool.Created);
    }

    [Fact]
    public async Task A_crashing_worker_fails_its_batch_and_is_replaced()
    {
        _pool.CrashingWorkers.Add(1);
        await using var deployment = Create();
        var changes = new List<DeploymentSnapshot>();
        deployment.Changed += snapshot => { lock (changes) { changes.Add(snapshot); } };

        var failure = await Assert.ThrowsAsync<ModelUnavailableException>(() => deployment.InferAsync([new("a", 3)]));

        Assert.Equal("model", failure.ModelId);
        Assert.Contains("session of worker 1 exploded", failure.Message, StringComparison.Ordinal);
        Assert.Equal(["r:b"], await deployment.InferAsync([new("b", 3)]));
        Assert.Equal(2, _pool.Created);
        await Wait.UntilAsync(() => _pool.Workers[0].IsDisposed, "the crashed worker is disposed");
        var snapshot = deployment.GetSnapshot();
        Assert.Equal(1, snapshot.AllocationFailures);
        Assert.Contains("exploded", snapshot.LastAllocationFailure, StringComparison.Ordinal);
        Assert.Equal(DeploymentState.Started, snapshot.State);
        Assert.Equal(1, snapshot.AllocationCount);
        lock (changes)
        {
            Assert.Contains(changes, change => change.AllocationFailures == 1);
        }
    }

    [Fact]
    public async Task A_failing_start_marks_the_deployment_failed_and_the_next_request_tries_again()
    {
        _pool.FailingStarts.Add(1);
        await using var deployment = Create();
        var changes = new List<DeploymentSnapshot>();
        deployment.Changed += snapshot => { lock (changes) { changes.Add(snapshot); } };

        await Wait.UntilAsync(() => deployment.GetSnapshot().State == DeploymentState.Failed, "the deployment fails");
        var failed = deployment.GetSnapshot();
        Assert.Contains("weights of worker 1 are missing", failed.FailureReason, StringComparison.Ordinal);
        Assert.Equal("failed", failed.State.ToContractName());
        Assert.Equal(0, failed.AllocationCount);
        await Task.Delay(20);
        Assert.Equal(1, _pool.Created);

        Assert.Equal(["r:a"], await deployment.InferAsync([new("a", 3)]));
        var recovered = deployment.GetSnapshot();
        Assert.Equal(DeploymentState.Started, recovered.State);
        Assert.Null(recovered.FailureReason);
        lock (changes)
        {
            Assert.Contains(changes, change => change.State == DeploymentState.Failed);
        }
    }

    [Fact]
    public async Task A_request_waiting_for_a_start_that_fails_gets_the_reason()
    {
        _pool.FailingStarts.Add(1);
        _pool.HoldStarts();
        await using var deployment = Create(AllocationSettings.Adaptive(0, 2));

        var request = deployment.InferAsync([new("a", 3)]);
        await Wait.UntilAsync(() => _pool.Created == 1, "the cold start begins");
        _pool.ReleaseStarts();

        var failure = await Assert.ThrowsAsync<ModelUnavailableException>(() => request);
        Assert.Contains("weights of worker 1 are missing", failure.Message, StringComparison.Ordinal);
        Assert.Equal(DeploymentState.Failed, deployment.GetSnapshot().State);
        Assert.Equal(["r:b"], await deployment.InferAsync([new("b", 3)]));
        Assert.Equal(2, _pool.Created);
    }

    [Fact]
    public async Task Statistics_count_inferences_and_average_their_time()
    {
        _pool.DuringBatch = () => _clock.Advance(TimeSpan.FromMilliseconds(10));
        await using var deployment = Create(AllocationSettings.Fixed(1), threads: 4);
        await Wait.UntilAsync(() => deployment.GetSnapshot().AllocationCount == 1, "the allocation is ready");

        await deployment.InferAsync([new("a", 3), new("b", 4), new("c", 5)]);
        await deployment.InferAsync([new("d", 3)]);

        var snapshot = deployment.GetSnapshot();
        Assert.Equal(4, snapshot.InferenceCount);
        Assert.Equal(10, snapshot.AverageInferenceTimeMs, precision: 6);
        Assert.Equal(0, snapshot.QueueSize);
        Assert.Equal(0, snapshot.BusyAllocations);
        Assert.Equal(4, snapshot.ThreadsPerAllocation);
        Assert.Equal(1, snapshot.NumberOfAllocations);
        Assert.Equal(("dep", "model"), (snapshot.DeploymentId, snapshot.ModelId));
        Assert.Equal(("started", "fully_allocated"), (snapshot.State.ToContractName(), snapshot.AllocationState.ToContractName()));
        Assert.Equal(_clock.GetUtcNow() - TimeSpan.FromMilliseconds(10), snapshot.LastRequestAt);
    }

    [Fact]
    public async Task Stopping_fails_waiting_and_running_requests_and_disposes_the_workers()
    {
        var deployment = Create();
        var blocker = await OccupyTheOnlyAllocationAsync(deployment);
        var waiting = deployment.InferAsync([new("w", 3)]);

        await deployment.DisposeAsync();

        await Assert.ThrowsAsync<ModelUnavailableException>(() => waiting);
        await Assert.ThrowsAsync<ModelUnavailableException>(() => blocker);
        await Assert.ThrowsAsync<ModelUnavailableException>(() => deployment.InferAsync([new("late", 3)]));
        Assert.All(_pool.Workers, worker => Assert.True(worker.IsDisposed));
        Assert.Equal(DeploymentState.Stopping, deployment.GetSnapshot().State);
    }

    private BatchingDeployment<Text, string> Create(
        AllocationSettings? allocations = null, BatchingOptions? batching = null, ScalingOptions? scaling = null, int threads = 1) =>
        new(
            new DeploymentSettings
            {
                DeploymentId = "dep",
                ModelId = "model",
                ThreadsPerAllocation = threads,
                Allocations = allocations ?? AllocationSettings.Fixed(1),
                Batching = batching ?? new BatchingOptions(),
                Scaling = scaling ?? new ScalingOptions(),
            },
            _pool.CreateAsync,
            static text => text.Tokens,
            _clock);

    // Holds batches and runs one request, so that later requests wait in the queue until ReleaseBatches; returns that request.
    private async Task<Task<IReadOnlyList<string>>> OccupyTheOnlyAllocationAsync(BatchingDeployment<Text, string> deployment)
    {
        _pool.HoldBatches();
        var blocker = deployment.InferAsync([new Text("blocker", 1)]);
        await Wait.UntilAsync(() => _pool.Batches.Count == 1, "the blocking batch runs");
        return blocker;
    }
}
