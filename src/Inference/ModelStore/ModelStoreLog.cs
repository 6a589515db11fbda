using Microsoft.Extensions.Logging;

namespace WebConsole.Inference.ModelStore;

/// <summary>The model store's log messages.</summary>
internal static partial class ModelStoreLog
{
    [LoggerMessage(EventId = 3200, Level = LogLevel.Information, Message = "Model {ModelId}: fetching from {Source} into {StagingFolder}")]
    public static partial void MaterializationStarted(this ILogger logger, string modelId, string source, string stagingFolder);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Information,
        Message = "Model {ModelId}: in the store ({TotalBytes} bytes) after {Seconds} s; {TransferredBytes} bytes fetched from {Source} at {MebibytesPerSecond} MiB/s")]
    public static partial void MaterializationCompleted(
        this ILogger logger, string modelId, long totalBytes, double seconds, long transferredBytes, string source, double mebibytesPerSecond);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Error, Message = "Model {ModelId}: fetching from {Source} failed after {Seconds} s: {Reason}")]
    public static partial void MaterializationFailed(this ILogger logger, string modelId, string source, double seconds, string reason, Exception exception);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Information, Message = "Model {ModelId}: fetching from {Source} stopped by shutdown; the next start resumes it")]
    public static partial void MaterializationStopped(this ILogger logger, string modelId, string source);

    [LoggerMessage(EventId = 3204, Level = LogLevel.Information, Message = "Model {ModelId}: deleted from the store")]
    public static partial void ModelDeleted(this ILogger logger, string modelId);

    [LoggerMessage(EventId = 3205, Level = LogLevel.Warning, Message = "A model download observer failed on a status of {ModelId}")]
    public static partial void ObserverFailed(this ILogger logger, string modelId, Exception exception);
}
