using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Deployments;

namespace WebConsole.Unit.Inference.Deployments;

public sealed class ExclusiveDeploymentTests
{
    private readonly FakeTimeProvider _clock = new();
    private readonly List<FakeDecoder> _decoders = [];

    [Fact]
    public async Task Cancelling_a_generation_stops_it_and_frees_the_allocation_for_the_next_request()
    {
        await using var deployment = Create();
        using var cancellation = new CancellationTokenSource();
        var first = deployment.StreamAsync((decoder, token) => decoder.GenerateAsync(int.MaxValue, token), cancellationToken: cancellation.Token)
            .GetAsyncEnumerator();
        for (var i = 0; i < 3; i++)
        {
            Assert.True(await first.MoveNextAsync());
        }

        var second = CollectAsync(deployment.StreamAsync((decoder, token) => decoder.GenerateAsync(4, token)));
        await Wait.UntilAsync(() => deployment.GetSnapshot().QueueSize == 1, "the second generation waits");
        Assert.False(second.IsCompleted);

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await first.MoveNextAsync());
        Assert.Equal([0, 1, 2, 3], await second);
        await first.DisposeAsync();
        var snapshot = deployment.GetSnapshot();
        Assert.Equal((0, 0, 1), (snapshot.BusyAllocations, snapshot.QueueSize, snapshot.AllocationCount));
        Assert.Single(_decoders);
    }

    [Fact]
    public async Task Abandoning_a_stream_frees_the_allocation()
    {
        await using var deployment = Create();
        await foreach (var token in deployment.StreamAsync((decoder, t) => decoder.GenerateAsync(int.MaxValue, t)))
        {
            if (token == 2)
            {
                break;
            }
        }

        Assert.Equal(0, deployment.GetSnapshot().BusyAllocations);
        Assert.Equal([0, 1], await CollectAsync(deployment.StreamAsync((decoder, t) => decoder.GenerateAsync(2, t))));
    }

    [Fact]
    public async Task A_waiting_generation_leaves_the_queue_when_cancelled_and_a_full_queue_answers_overloaded()
    {
        await using var deployment = Create(new BatchingOptions { MaxQueuedItems = 1 });
        var held = await deployment.AcquireAsync();
        using var cancellation = new CancellationTokenSource();
        var waiting = deployment.AcquireAsync(tokenCount: 12, cancellationToken: cancellation.Token);
        Assert.Equal((1, 12L), (deployment.GetSnapshot().QueueSize, deployment.GetSnapshot().QueuedTokens));

        await Assert.ThrowsAsync<InferenceOverloadedException>(() => deployment.AcquireAsync());
        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(0, deployment.GetSnapshot().QueueSize);

        await held.DisposeAsync();
        await using var next = await deployment.AcquireAsync();
        Assert.Same(held.Worker, next.Worker);
        Assert.Equal(1, deployment.GetSnapshot().BusyAllocations);
    }

    [Fact]
    public async Task A_generation_that_crashes_replaces_its_allocation()
    {
        await using var deployment = Create();
        var failure = await Assert.ThrowsAsync<ModelUnavailableException>(() => CollectAsync(deployment.StreamAsync((decoder, t) =>
        {
            decoder.Crash = true;
            return decoder.GenerateAsync(5, t);
        })));

        Assert.Contains("decoder 1 exploded", failure.Message, StringComparison.Ordinal);
        Assert.Equal(42, await deployment.RunAsync((decoder, _) => ValueTask.FromResult(decoder.Number * 21)));
        await Wait.UntilAsync(() => _decoders[0].IsDisposed, "the crashed decoder is disposed");
        Assert.Equal(1, deployment.GetSnapshot().AllocationFailures);
    }

    [Fact]
    public async Task Generations_spread_over_the_allocations_and_are_counted()
    {
        await using var deployment = Create(allocations: AllocationSettings.Fixed(2));
        await Wait.UntilAsync(() => deployment.GetSnapshot().AllocationCount == 2, "both allocations are ready");

        await using (var a = await deployment.AcquireAsync())
        await using (var b = await deployment.AcquireAsync())
        {
            Assert.NotSame(a.Worker, b.Worker);
            _clock.Advance(TimeSpan.FromMilliseconds(30));
        }

        var snapshot = deployment.GetSnapshot();
        Assert.Equal(2, snapshot.InferenceCount);
        Assert.Equal(30, snapshot.AverageInferenceTimeMs, precision: 6);
    }

    private ExclusiveDeployment<FakeDecoder> Create(BatchingOptions? batching = null, AllocationSettings? allocations = null) =>
        new(
            new DeploymentSettings
            {
                DeploymentId = "chat",
                ModelId = "decoder",
                Allocations = allocations ?? AllocationSettings.Fixed(1),
                Batching = batching ?? new BatchingOptions(),
            },
            _ =>
            {
                lock (_decoders)
                {
                    var decoder = new FakeDecoder(_decoders.Count + 1);
                    _decoders.Add(decoder);
                    return ValueTask.FromResult(decoder);
                }
            },
            _clock);

    private static async Task<List<int>> CollectAsync(IAsyncEnumerable<int> tokens)
    {
        var list = new List<int>();
        await foreach (var token in tokens)
        {
            list.Add(token);
        }

        return list;
    }
}
