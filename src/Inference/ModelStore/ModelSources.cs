namespace WebConsole.Inference.ModelStore;

/// <summary>Where a model is on its way into the model store (CONTRACT.md's <c>model_download.state</c>).</summary>
public enum ModelDownloadState
{
    /// <summary>Not in the store and nothing is fetching it.</summary>
    Absent,

    /// <summary>Files are being transferred from a hub (or copied from a local folder).</summary>
    Downloading,

    /// <summary>In the store, complete and verified.</summary>
    Downloaded,

    /// <summary>The last attempt failed; <see cref="ModelDownloadStatus.Reason"/> says why. The next request tries again.</summary>
    Failed,

    /// <summary>Being built locally (the offline starter pack).</summary>
    Building,
}

/// <summary>
/// One model's download or build progress, as the trained-model statistics and the portal show it. Immutable.
/// </summary>
/// <param name="ModelId">The model id (store id).</param>
/// <param name="State">Where the model is.</param>
/// <param name="DownloadedBytes">Bytes transferred (or, while building, units of work done) so far.</param>
/// <param name="TotalBytes">Bytes (or units) in all, when known.</param>
/// <param name="BytesPerSecond">The recent transfer rate; 0 when idle.</param>
/// <param name="EstimatedRemaining">Time left at the recent rate, when it can be told.</param>
/// <param name="Reason">Why it failed, or what is happening (e.g. "verifying", "reading word vectors").</param>
/// <param name="UpdatedAt">When this status was taken.</param>
public sealed record ModelDownloadStatus(
    string ModelId,
    ModelDownloadState State,
    long DownloadedBytes,
    long? TotalBytes,
    double BytesPerSecond,
    TimeSpan? EstimatedRemaining,
    string? Reason,
    DateTimeOffset UpdatedAt)
{
    /// <summary>Percent done (0-100) when the total is known; 100 once downloaded.</summary>
    public double? Percent => State == ModelDownloadState.Downloaded
        ? 100
        : TotalBytes is > 0 and var total ? Math.Clamp(DownloadedBytes * 100.0 / total, 0, 100) : null;

    /// <summary>The state as the contract writes it: <c>downloading (42%)</c>, <c>building (7%)</c>, <c>failed: reason</c>, ...</summary>
    public string Describe() => State switch
    {
        ModelDownloadState.Downloading or ModelDownloadState.Building when Percent is { } percent =>
            $"{State.ToString().ToLowerInvariant()} ({Math.Floor(percent).ToString(System.Globalization.CultureInfo.InvariantCulture)}%)",
        ModelDownloadState.Failed => $"failed: {Reason}",
        _ => State.ToString().ToLowerInvariant(),
    };
}

/// <summary>How far a source has come: units done and in all (bytes for transfers).</summary>
/// <param name="Completed">Units done.</param>
/// <param name="Total">Units in all, when known.</param>
/// <param name="Phase">What is being done, e.g. "onnx/model.onnx" or "reading word vectors"; null when nothing to say.</param>
public readonly record struct ModelTransferProgress(long Completed, long? Total, string? Phase = null);

/// <summary>
/// Something that can put one model's files, in the Hugging Face export layout, into a folder: a hub repository, a local
/// folder, a local builder. The model store calls it with an empty staging folder and moves the result into the store
/// once it is complete; a source never writes into the store itself. Implementations are thread-safe.
/// </summary>
public interface IModelSource
{
    /// <summary>Where the model comes from, for people: <c>hub intfloat/multilingual-e5-small@main</c>.</summary>
    string Description { get; }

    /// <summary>The state shown while it works: <see cref="ModelDownloadState.Downloading"/> or <see cref="ModelDownloadState.Building"/>.</summary>
    ModelDownloadState ActiveState { get; }

    /// <summary>
    /// Writes the model's files into <paramref name="stagingFolder"/> (which exists; it may hold what an interrupted earlier
    /// attempt left, to resume from), reporting progress.
    /// </summary>
    /// <exception cref="ModelDownloadException">The files cannot be had or fail verification; the message says why.</exception>
    Task MaterializeAsync(string stagingFolder, IProgress<ModelTransferProgress> progress, CancellationToken cancellationToken);
}

/// <summary>A model could not be downloaded or built; the message names the cause (unreachable hub, checksum, disk space, ...).</summary>
public sealed class ModelDownloadException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModelDownloadException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public ModelDownloadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception without a message (for serializers).</summary>
    public ModelDownloadException()
    {
    }
}
