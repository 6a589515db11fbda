namespace WebConsole.Inference.Deployments;

/// <summary>A deployment's state as Elasticsearch's trained-model statistics report it.</summary>
public enum DeploymentState
{
    /// <summary>No allocation has become ready yet.</summary>
    Starting,

    /// <summary>Serving, or ready to cold-start an allocation on the next request.</summary>
    Started,

    /// <summary>Being stopped: no new requests, running work finishing.</summary>
    Stopping,

    /// <summary>No allocation could be started; see <see cref="DeploymentSnapshot.FailureReason"/>. The next request tries again.</summary>
    Failed,
}

/// <summary>The allocation status's state.</summary>
public enum AllocationState
{
    /// <summary>No allocation is ready while some are wanted.</summary>
    Starting,

    /// <summary>Some, not all, wanted allocations are ready.</summary>
    Started,

    /// <summary>As many allocations are ready as are wanted.</summary>
    FullyAllocated,
}

/// <summary>
/// An immutable view of one deployment, shaped for <c>deployment_stats</c> (CONTRACT.md "Deployments and downloads").
/// </summary>
public sealed record DeploymentSnapshot
{
    /// <summary><c>deployment_id</c>.</summary>
    public required string DeploymentId { get; init; }

    /// <summary>The model served.</summary>
    public required string ModelId { get; init; }

    /// <summary><c>state</c>.</summary>
    public required DeploymentState State { get; init; }

    /// <summary><c>allocation_status.state</c>.</summary>
    public required AllocationState AllocationState { get; init; }

    /// <summary><c>allocation_status.allocation_count</c>: allocations ready to run.</summary>
    public required int AllocationCount { get; init; }

    /// <summary><c>allocation_status.target_allocation_count</c>: allocations wanted now.</summary>
    public required int TargetAllocationCount { get; init; }

    /// <summary><c>number_of_allocations</c>: the fixed number, or the adaptive target.</summary>
    public required int NumberOfAllocations { get; init; }

    /// <summary><c>threads_per_allocation</c>.</summary>
    public required int ThreadsPerAllocation { get; init; }

    /// <summary>The allocation settings in force.</summary>
    public required AllocationSettings Allocations { get; init; }

    /// <summary><c>inference_count</c>: items (inputs, or generation requests) run to completion.</summary>
    public required long InferenceCount { get; init; }

    /// <summary>
    /// <c>average_inference_time_ms</c>: the average time an item spent in a running batch (or a generation held its
    /// allocation), queueing excluded.
    /// </summary>
    public required double AverageInferenceTimeMs { get; init; }

    /// <summary><c>queue_size</c>: items waiting for an allocation.</summary>
    public required int QueueSize { get; init; }

    /// <summary>Tokens waiting for an allocation.</summary>
    public required long QueuedTokens { get; init; }

    /// <summary>Allocations running work now.</summary>
    public required int BusyAllocations { get; init; }

    /// <summary>Why the deployment failed (set with <see cref="DeploymentState.Failed"/>; cleared when an allocation starts).</summary>
    public string? FailureReason { get; init; }

    /// <summary>Allocations that crashed or could not start since the deployment was created.</summary>
    public required long AllocationFailures { get; init; }

    /// <summary>The last allocation failure, kept after recovery for the portal.</summary>
    public string? LastAllocationFailure { get; init; }

    /// <summary>When the last request arrived (null before the first).</summary>
    public DateTimeOffset? LastRequestAt { get; init; }

    /// <summary>Increases with every snapshot taken, so a subscriber can ignore one that arrives late.</summary>
    public required long Version { get; init; }
}

/// <summary>The wire names of the deployment enumerations.</summary>
public static class DeploymentStateNames
{
    /// <summary><c>starting</c>, <c>started</c>, <c>stopping</c> or <c>failed</c>.</summary>
    public static string ToContractName(this DeploymentState state) => state switch
    {
        DeploymentState.Starting => "starting",
        DeploymentState.Started => "started",
        DeploymentState.Stopping => "stopping",
        DeploymentState.Failed => "failed",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    /// <summary><c>starting</c>, <c>started</c> or <c>fully_allocated</c>.</summary>
    public static string ToContractName(this AllocationState state) => state switch
    {
        AllocationState.Starting => "starting",
        AllocationState.Started => "started",
        AllocationState.FullyAllocated => "fully_allocated",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };
}
