using System.Globalization;

namespace WebConsole.Web.Components.Endpoints;

/// <summary>Where a catalog model stands with its end of life.</summary>
public enum EndOfLife
{
    /// <summary>No end-of-life date within 90 days (or not a catalog model).</summary>
    None,

    /// <summary>Within 90 days of it.</summary>
    Soon,

    /// <summary>Reached: the endpoint answers 410.</summary>
    Past,
}

/// <summary>What an endpoint's embedded deployment and model are doing now (null fields: nothing to show).</summary>
/// <param name="DeploymentState">The deployment's contract state (<c>starting</c>, <c>started</c>, ...), null when not deployed.</param>
/// <param name="AllocationCount">Allocations ready.</param>
/// <param name="TargetAllocationCount">Allocations wanted.</param>
/// <param name="DownloadState">The model's download state while it downloads or builds (<c>downloading</c>, <c>building</c>), else null.</param>
/// <param name="DownloadPercent">How far the download is, when known.</param>
public sealed record EndpointLiveState(
    string? DeploymentState,
    int AllocationCount,
    int TargetAllocationCount,
    string? DownloadState,
    double? DownloadPercent)
{
    /// <summary>Nothing deployed, nothing downloading.</summary>
    public static EndpointLiveState Idle { get; } = new(null, 0, 0, null, null);

    /// <summary>A deployment starting or a model on its way in: the DEPLOYING badge.</summary>
    public bool IsDeploying => DownloadState is not null || DeploymentState == "starting";

    /// <summary>The DEPLOYING badge's percent: the download's, else the share of allocations ready.</summary>
    public double? ProgressPercent => DownloadState is not null
        ? DownloadPercent
        : TargetAllocationCount > 0 ? Math.Round(100.0 * AllocationCount / TargetAllocationCount, 1) : null;

    /// <summary>A short text for the row: "deploying 42%", "started 1/1", "not deployed".</summary>
    public string Describe()
    {
        if (DownloadState is not null)
        {
            return DownloadPercent is { } percent
                ? $"{DownloadState} {Math.Floor(percent).ToString(CultureInfo.InvariantCulture)}%"
                : DownloadState;
        }

        return DeploymentState is null
            ? "not deployed"
            : $"{DeploymentState} {AllocationCount.ToString(CultureInfo.InvariantCulture)}/{TargetAllocationCount.ToString(CultureInfo.InvariantCulture)}";
    }
}

/// <summary>One row of the endpoints table.</summary>
/// <param name="InferenceId">The endpoint's id.</param>
/// <param name="Service">Its service, e.g. <c>elasticsearch</c>.</param>
/// <param name="ModelId">Its model, when its settings name one.</param>
/// <param name="TaskType">Its task type's wire name.</param>
/// <param name="IsReserved">A preconfigured endpoint (cannot be changed or deleted).</param>
/// <param name="IsTechPreview">Its catalog model is a preview release.</param>
/// <param name="EndOfLife">Its catalog model's end of life.</param>
/// <param name="EolDate">That date, when there is one.</param>
/// <param name="Live">Its deployment and model download now.</param>
public sealed record EndpointRow(
    string InferenceId,
    string Service,
    string? ModelId,
    string TaskType,
    bool IsReserved,
    bool IsTechPreview,
    EndOfLife EndOfLife,
    DateOnly? EolDate,
    EndpointLiveState Live)
{
    /// <summary>The embedded deployment it names with <c>deployment_id</c>, when it runs on another endpoint's.</summary>
    public string? DeploymentId { get; init; }

    /// <summary>The model as grouping and the provider column show it.</summary>
    public string ModelText => ModelId ?? "—";
}
