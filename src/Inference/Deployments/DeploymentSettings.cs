namespace WebConsole.Inference.Deployments;

/// <summary>How one deployment runs: its identity, its allocations, its batching and its scaling behaviour.</summary>
public sealed record DeploymentSettings
{
    /// <summary>The deployment's id (<c>deployment_id</c>); endpoints that name the same id share the deployment.</summary>
    public required string DeploymentId { get; init; }

    /// <summary>The model the deployment serves (named in errors and statistics).</summary>
    public required string ModelId { get; init; }

    /// <summary>Threads each allocation's session uses (<c>num_threads</c>); reported, the worker factory applies it.</summary>
    public int ThreadsPerAllocation { get; init; } = 1;

    /// <summary>A fixed number of allocations or an adaptive range.</summary>
    public AllocationSettings Allocations { get; init; } = AllocationSettings.Fixed(1);

    /// <summary>Batch and queue limits.</summary>
    public BatchingOptions Batching { get; init; } = new();

    /// <summary>When adaptive allocations scale, and how long stopping may wait.</summary>
    public ScalingOptions Scaling { get; init; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(DeploymentId);
        ArgumentException.ThrowIfNullOrWhiteSpace(ModelId);
        ArgumentNullException.ThrowIfNull(Allocations);
        ArgumentNullException.ThrowIfNull(Batching);
        ArgumentNullException.ThrowIfNull(Scaling);
        if (ThreadsPerAllocation < 1)
        {
            throw new ArgumentException("threads per allocation must be at least 1", nameof(ThreadsPerAllocation));
        }

        Allocations.Validate();
        Batching.Validate();
        Scaling.Validate();
    }
}

/// <summary>
/// A fixed <c>num_allocations</c>, or <c>adaptive_allocations</c> between a minimum (0 allows scaling to zero) and a maximum.
/// </summary>
public sealed record AllocationSettings
{
    private AllocationSettings(bool adaptive, int numberOfAllocations, int minimum, int maximum)
    {
        IsAdaptive = adaptive;
        NumberOfAllocations = numberOfAllocations;
        MinimumAllocations = minimum;
        MaximumAllocations = maximum;
    }

    /// <summary>Whether the number of allocations follows the load.</summary>
    public bool IsAdaptive { get; }

    /// <summary>The fixed number of allocations (unused when adaptive).</summary>
    public int NumberOfAllocations { get; }

    /// <summary><c>min_number_of_allocations</c> when adaptive.</summary>
    public int MinimumAllocations { get; }

    /// <summary><c>max_number_of_allocations</c> when adaptive.</summary>
    public int MaximumAllocations { get; }

    /// <summary>Exactly <paramref name="numberOfAllocations"/> allocations, started at once.</summary>
    public static AllocationSettings Fixed(int numberOfAllocations) => new(false, numberOfAllocations, numberOfAllocations, numberOfAllocations);

    /// <summary>Between <paramref name="minimum"/> and <paramref name="maximum"/> allocations, following the load.</summary>
    public static AllocationSettings Adaptive(int minimum, int maximum) => new(true, 0, minimum, maximum);

    internal void Validate()
    {
        if (!IsAdaptive && NumberOfAllocations < 1)
        {
            throw new ArgumentException("num_allocations must be at least 1", nameof(NumberOfAllocations));
        }

        if (IsAdaptive && (MinimumAllocations < 0 || MaximumAllocations < 1 || MinimumAllocations > MaximumAllocations))
        {
            throw new ArgumentException(
                "adaptive allocations need 0 <= min_number_of_allocations <= max_number_of_allocations and a maximum of at least 1",
                nameof(MaximumAllocations));
        }
    }
}

/// <summary>Limits of the dynamic batcher and of the queue in front of it.</summary>
public sealed record BatchingOptions
{
    /// <summary>The configuration section that sets these limits for every deployment.</summary>
    public const string SectionName = "Inference:Batching";

    /// <summary>
    /// Most tokens one batch may hold, counted as the padded tensor holds them: the longest item's tokens times the batch size
    /// (TEI's <c>max_batch_tokens</c> for padded models). An item longer than this still runs, alone.
    /// </summary>
    public int MaxBatchTokens { get; init; } = 16_384;

    /// <summary>Most items in one batch.</summary>
    public int MaxBatchSize { get; init; } = 32;

    /// <summary>
    /// Most padding a batch may carry, as a share of its real tokens (0.2: at most 20% extra positions). Items of very
    /// different lengths run in separate batches instead: padded positions cost full compute, and on a CPU batching adds
    /// little throughput, so padding was measured to cut it (bench/: a 0.3x drop at 32 concurrent mixed-length texts).
    /// </summary>
    public double MaxPaddingRatio { get; init; } = DefaultMaxPaddingRatio;

    /// <summary>The default of <see cref="MaxPaddingRatio"/>, which the encoder pipelines also apply within one request.</summary>
    public const double DefaultMaxPaddingRatio = 0.2;

    /// <summary>Most items waiting in the queue; a request that would pass it fails at once as overloaded.</summary>
    public int MaxQueuedItems { get; init; } = 4_096;

    /// <summary>Most tokens waiting in the queue; a request that would pass it fails at once as overloaded.</summary>
    public long MaxQueuedTokens { get; init; } = 1_048_576;

    /// <summary>How many waiting items, from the oldest, the batcher considers when it fills a batch with similar lengths.</summary>
    public int LookAhead { get; init; } = 256;

    internal void Validate()
    {
        if (MaxBatchTokens < 1 || MaxBatchSize < 1 || MaxQueuedItems < 1 || MaxQueuedTokens < 1 || LookAhead < 1 || !(MaxPaddingRatio >= 0))
        {
            throw new ArgumentException("batching limits must be positive", nameof(MaxBatchTokens));
        }
    }
}

/// <summary>When adaptive allocations scale up and down.</summary>
public sealed record ScalingOptions
{
    /// <summary>How often the load is re-evaluated.</summary>
    public TimeSpan EvaluationInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Scale up when the oldest waiting item has waited this long.</summary>
    public TimeSpan ScaleUpQueueDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Scale up when more items than this wait per ready allocation.</summary>
    public int ScaleUpQueueDepthPerAllocation { get; init; } = 32;

    /// <summary>Remove one allocation when one has been idle this long (and as long since the last scale change).</summary>
    public TimeSpan ScaleDownAfterIdle { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Fall to <c>min_number_of_allocations</c> (0 by default) after this long without requests.</summary>
    public TimeSpan ScaleToMinimumAfter { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>How long stopping waits for running work to finish before it disposes the workers anyway.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(30);

    internal void Validate()
    {
        if (EvaluationInterval <= TimeSpan.Zero || ScaleUpQueueDelay < TimeSpan.Zero || ScaleUpQueueDepthPerAllocation < 1
            || ScaleDownAfterIdle < TimeSpan.Zero || ScaleToMinimumAfter < TimeSpan.Zero || StopTimeout < TimeSpan.Zero)
        {
            throw new ArgumentException("scaling intervals must be positive", nameof(EvaluationInterval));
        }
    }
}
