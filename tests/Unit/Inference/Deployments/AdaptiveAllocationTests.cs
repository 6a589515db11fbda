using WebConsole.Inference.Deployments;

namespace WebConsole.Unit.Inference.Deployments;

public sealed class AdaptiveAllocationTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);
    private readonly FakeEncoderPool _pool = new();
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public async Task Allocations_scale_up_while_requests_wait_and_stop_at_the_maximum()
    {
        await using var deployment = Create(AllocationSettings.Adaptive(1, 3), new ScalingOptions { ScaleUpQueueDelay = Second, ScaleUpQueueDepthPerAllocation = 1_000 });
        await Wait.UntilAsync(() => deployment.GetSnapshot().AllocationCount == 1, "the minimum allocation is ready");
        _pool.HoldBatches();
        var requests = new List<Task<IReadOnlyList<string>>> { deployment.InferAsync([new("a", 2)]) };
        await Wait.UntilAsync(() => _pool.Batches.Count == 1, "a runs");
        requests.Add(deployment.InferAsync([new("b", 2)]));
        requests.Add(deployment.InferAsync([new("c", 2)]));

        _clock.Advance(Second / 2);
        Assert.Equal(1, deployment.GetSnapshot().TargetAllocationCount);

        _clock.Advance(Second / 2);
        Assert.Equal(2, deployment.GetSnapshot().TargetAllocationCount);
        await Wait.UntilAsync(() => deployment.GetSnapshot() is { AllocationCount: 2, BusyAllocations: 2, QueueSize: 1 }, "b runs on a second allocation");

        _clock.Advance(Second);
        await Wait.UntilAsync(() => deployment.GetSnapshot() is { AllocationCount: 3, BusyAllocations: 3, QueueSize: 0 }, "c runs on a third allocation");

        requests.Add(deployment.InferAsync([new("d", 2)]));
        _clock.Advance(Second * 5);
        var atMaximum = deployment.GetSnapshot();
        Assert.Equal((3, 3, 1), (atMaximum.TargetAllocationCount, atMaximum.AllocationCount, atMaximum.QueueSize));
        Assert.Equal(3, _pool.Created);

        _pool.ReleaseBatches();
        await Task.WhenAll(requests);
    }

    [Fact]
    public async Task A_deep_queue_scales_up_before_the_delay_is_reached()
    {
        await using var deployment = Create(AllocationSettings.Adaptive(1, 4), new ScalingOptions { ScaleUpQueueDelay = TimeSpan.FromHours(1), ScaleUpQueueDepthPerAllocation = 2 });
        await Wait.UntilAsync(() => deployment.GetSnapshot().AllocationCount == 1, "the minimum allocation is ready");
        _pool.HoldBatches();
        var running = deployment.InferAsync([new("a", 2)]);
        await Wait.UntilAsync(() => _pool.Batches.Count == 1, "a runs");
        var twoWaiting = deployment.InferAsync([new("b", 2), new("c", 2)]);

        _clock.Advance(Second);
        Assert.Equal(1, deployment.GetSnapshot().TargetAllocationCount);

        var threeWaiting = deployment.InferAsync([new("d", 2)]);
        _clock.Advance(Second);
        Assert.Equal(2, deployment.GetSnapshot().TargetAllocationCount);

        _pool.ReleaseBatches();
        await Task.WhenAll(running, twoWaiting, threeWaiting);
    }

    [Fact]
    public async Task Idle_allocations_scale_down_one_at_a_time_to_at_least_one()
    {
        var scaling = new ScalingOptions { ScaleDownAfterIdle = TimeSpan.FromMinutes(2) };
        await using var deployment = Create(AllocationSettings.Adaptive(3, 3), scaling);
        await Wait.UntilAsync(() => deployment.GetSnapshot().AllocationCount == 3, "three allocations are ready");
        await deployment.InferAsync([new("a", 2)]);
        deployment.UpdateAllocations(AllocationSettings.Adaptive(0, 3));

        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(2, deployment.GetSnapshot().TargetAllocationCount);
        await Wait.UntilAsync(() => _pool.Disposed == 1, "one allocation leaves");

        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(2, deployment.GetSnapshot().TargetAllocationCount);

        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, deployment.GetSnapshot().TargetAllocationCount);

        _clock.Advance(TimeSpan.FromMinutes(10));
        var beforeTheIdlePeriod = deployment.GetSnapshot();
        Assert.Equal((1, 1), (beforeTheIdlePeriod.TargetAllocationCount, beforeTheIdlePeriod.AllocationCount));
        await Wait.UntilAsync(() => _pool.Disposed == 2, "two allocations have left");
    }

    [Fact]
    public async Task Allocations_scale_to_zero_after_the_idle_period_and_the_next_request_waits_for_a_cold_start()
    {
        await using var deployment = Create(AllocationSettings.Adaptive(0, 2));
        var idle = deployment.GetSnapshot();
        Assert.Equal((0, 0, DeploymentState.Started, AllocationState.FullyAllocated), (idle.AllocationCount, idle.TargetAllocationCount, idle.State, idle.AllocationState));
        Assert.Equal(0, _pool.Created);

        Assert.Equal(["r:first"], await deployment.InferAsync([new("first", 2)]));
        Assert.Equal(1, deployment.GetSnapshot().AllocationCount);

        _clock.Advance(TimeSpan.FromMinutes(14));
        Assert.Equal(1, deployment.GetSnapshot().AllocationCount);

        _clock.Advance(TimeSpan.FromMinutes(1));
        var scaledToZero = deployment.GetSnapshot();
        Assert.Equal((0, 0), (scaledToZero.AllocationCount, scaledToZero.TargetAllocationCount));
        await Wait.UntilAsync(() => _pool.Disposed == 1, "the allocation's worker is disposed");

        _pool.HoldStarts();
        var next = deployment.InferAsync([new("next", 2)]);
        await Wait.UntilAsync(() => _pool.Created == 2, "a cold start begins");
        var coldStart = deployment.GetSnapshot();
        Assert.Equal((0, 1, "starting", 1), (coldStart.AllocationCount, coldStart.TargetAllocationCount, coldStart.AllocationState.ToContractName(), coldStart.QueueSize));
        Assert.False(next.IsCompleted);

        _pool.ReleaseStarts();
        Assert.Equal(["r:next"], await next);
        Assert.Equal(1, deployment.GetSnapshot().AllocationCount);
    }

    [Fact]
    public async Task The_idle_period_is_configurable_and_counts_from_the_last_request()
    {
        await using var deployment = Create(AllocationSettings.Adaptive(0, 1), new ScalingOptions { ScaleToMinimumAfter = TimeSpan.FromMinutes(1) });
        await deployment.InferAsync([new("a", 2)]);
        _clock.Advance(TimeSpan.FromSeconds(50));
        await deployment.InferAsync([new("b", 2)]);

        _clock.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal(1, deployment.GetSnapshot().AllocationCount);

        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(0, deployment.GetSnapshot().AllocationCount);
    }

    [Fact]
    public async Task A_request_waiting_for_a_cold_start_can_be_cancelled()
    {
        await using var deployment = Create(AllocationSettings.Adaptive(0, 1));
        _pool.HoldStarts();
        using var cancellation = new CancellationTokenSource();
        var request = deployment.InferAsync([new("a", 2)], cancellation.Token);
        await Wait.UntilAsync(() => _pool.Created == 1, "a cold start begins");

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        Assert.Equal(0, deployment.GetSnapshot().QueueSize);
        _pool.ReleaseStarts();
        await Wait.UntilAsync(() => deployment.GetSnapshot().AllocationCount == 1, "the started allocation stays for the next request");
        Assert.Empty(_pool.Batches);
    }

    private BatchingDeployment<Text, string> Create(AllocationSettings allocations, ScalingOptions? scaling = null) =>
        new(
            new DeploymentSettings
            {
                DeploymentId = "adaptive",
                ModelId = "model",
                Allocations = allocations,
                Batching = new BatchingOptions { MaxBatchSize = 1 },
                Scaling = scaling ?? new ScalingOptions(),
            },
            _pool.CreateAsync,
            static text => text.Tokens,
            _clock);
}
