using WebConsole.Inference.Deployments;

namespace WebConsole.Unit.Inference.Deployments;

public sealed class DeploymentManagerTests
{
    private readonly FakeEncoderPool _pool = new();
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public async Task Endpoints_naming_the_same_deployment_id_share_one_deployment()
    {
        await using var manager = new DeploymentManager(_clock);

        var first = AddEncoder(manager, "shared", "model-a");
        var second = AddEncoder(manager, "shared", "model-a", AllocationSettings.Fixed(4));

        Assert.Same(first, second);
        Assert.Same(first, manager.Find("shared"));
        await Wait.UntilAsync(() => first.GetSnapshot().AllocationCount == 1, "the allocation is ready");
        Assert.Equal(1, _pool.Created);
        Assert.Throws<DeploymentConflictException>(() => AddEncoder(manager, "shared", "model-b"));
        Assert.Throws<DeploymentConflictException>(() => manager.GetOrAddExclusive(
            new DeploymentSettings { DeploymentId = "shared", ModelId = "model-a" }, _ => ValueTask.FromResult(new FakeDecoder(1))));
    }

    [Fact]
    public async Task Allocations_change_live_and_removing_a_deployment_disposes_its_workers()
    {
        await using var manager = new DeploymentManager(_clock);
        var changes = new List<DeploymentSnapshot>();
        var removed = new List<string>();
        manager.Changed += snapshot => { lock (changes) { changes.Add(snapshot); } };
        manager.Removed += removed.Add;
        var deployment = AddEncoder(manager, "e5", "e5-small");
        await Wait.UntilAsync(() => deployment.GetSnapshot().AllocationCount == 1, "the allocation is ready");

        Assert.True(manager.UpdateAllocations("e5", AllocationSettings.Fixed(3)));
        await Wait.UntilAsync(() => deployment.GetSnapshot() is { AllocationCount: 3, AllocationState: AllocationState.FullyAllocated }, "three allocations are ready");
        Assert.True(manager.UpdateAllocations("e5", AllocationSettings.Fixed(1)));
        await Wait.UntilAsync(() => _pool.Disposed == 2, "two allocations leave");
        Assert.Equal((1, 1), (deployment.GetSnapshot().AllocationCount, deployment.GetSnapshot().NumberOfAllocations));
        Assert.Equal(["r:x"], await deployment.InferAsync([new("x", 2)]));
        Assert.False(manager.UpdateAllocations("absent", AllocationSettings.Fixed(1)));

        Assert.Equal(["e5"], manager.GetSnapshots().Select(static s => s.DeploymentId));
        Assert.True(await manager.RemoveAsync("e5"));

        Assert.Equal(3, _pool.Disposed);
        Assert.Null(manager.Find("e5"));
        Assert.Empty(manager.GetSnapshots());
        Assert.Equal(["e5"], removed);
        Assert.False(await manager.RemoveAsync("e5"));
        lock (changes)
        {
            Assert.Contains(changes, change => change is { DeploymentId: "e5", AllocationCount: 3, TargetAllocationCount: 3 });
        }
    }

    [Fact]
    public async Task Disposing_the_manager_stops_every_deployment()
    {
        var manager = new DeploymentManager(_clock);
        var a = AddEncoder(manager, "a", "model-a");
        var b = AddEncoder(manager, "b", "model-b", AllocationSettings.Fixed(2));
        await Wait.UntilAsync(() => a.GetSnapshot().AllocationCount == 1 && b.GetSnapshot().AllocationCount == 2, "all allocations are ready");

        await manager.DisposeAsync();

        Assert.Equal(3, _pool.Disposed);
        Assert.Throws<ObjectDisposedException>(() => AddEncoder(manager, "c", "model-c"));
    }

    private BatchingDeployment<Text, string> AddEncoder(DeploymentManager manager, string id, string model, AllocationSettings? allocations = null) =>
        manager.GetOrAddBatching<Text, string>(
            new DeploymentSettings { DeploymentId = id, ModelId = model, Allocations = allocations ?? AllocationSettings.Fixed(1) },
            _pool.CreateAsync,
            static text => text.Tokens);
}
