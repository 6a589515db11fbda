using Microsoft.Extensions.Logging;

namespace WebConsole.Inference.Deployments;

/// <summary>The deployments' log messages.</summary>
internal static partial class DeploymentLog
{
    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "Deployment {DeploymentId}: starting allocation {AllocationId}")]
    public static partial void AllocationStarting(this ILogger logger, string deploymentId, int allocationId);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Deployment {DeploymentId}: allocation {AllocationId} started")]
    public static partial void AllocationStarted(this ILogger logger, string deploymentId, int allocationId);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Error, Message = "Deployment {DeploymentId}: allocation {AllocationId} failed to start")]
    public static partial void AllocationStartFailed(this ILogger logger, Exception exception, string deploymentId, int allocationId);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Error, Message = "Deployment {DeploymentId}: allocation {AllocationId} crashed and is replaced")]
    public static partial void AllocationCrashed(this ILogger logger, Exception exception, string deploymentId, int allocationId);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Information, Message = "Deployment {DeploymentId}: cold start of an allocation for a waiting request")]
    public static partial void ColdStart(this ILogger logger, string deploymentId);

    [LoggerMessage(EventId = 3105, Level = LogLevel.Information,
        Message = "Deployment {DeploymentId}: scaling up to {Target} allocations ({Waiting} inputs waiting, the oldest for {WaitedMs} ms)")]
    public static partial void ScaledUp(this ILogger logger, string deploymentId, int target, int waiting, long waitedMs);

    [LoggerMessage(EventId = 3106, Level = LogLevel.Information, Message = "Deployment {DeploymentId}: idle capacity; scaling down to {Target} allocations")]
    public static partial void ScaledDown(this ILogger logger, string deploymentId, int target);

    [LoggerMessage(EventId = 3107, Level = LogLevel.Information, Message = "Deployment {DeploymentId}: no requests for {Idle}; scaling to {Target} allocations")]
    public static partial void ScaledToMinimum(this ILogger logger, string deploymentId, TimeSpan idle, int target);

    [LoggerMessage(EventId = 3108, Level = LogLevel.Warning, Message = "Deployment {DeploymentId}: disposing a worker failed")]
    public static partial void DisposeFailed(this ILogger logger, Exception exception, string deploymentId);

    [LoggerMessage(EventId = 3109, Level = LogLevel.Warning, Message = "Deployment {DeploymentId}: a change subscriber failed")]
    public static partial void SubscriberFailed(this ILogger logger, Exception exception, string deploymentId);

    [LoggerMessage(EventId = 3110, Level = LogLevel.Warning, Message = "Deployment {DeploymentId}: work still running after {Timeout}; stopped without waiting longer")]
    public static partial void StopTimedOut(this ILogger logger, string deploymentId, TimeSpan timeout);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Information, Message = "Deployment {DeploymentId}: stopped")]
    public static partial void Stopped(this ILogger logger, string deploymentId);
}
