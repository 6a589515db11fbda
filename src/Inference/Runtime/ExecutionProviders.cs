namespace WebConsole.Inference.Runtime;

/// <summary>
/// Execution provider names as ONNX Runtime reports them, and the choice of provider for a configured device.
/// </summary>
public static class ExecutionProviders
{
    /// <summary>The CPU execution provider, built into every ONNX Runtime.</summary>
    public const string Cpu = "CPUExecutionProvider";

    /// <summary>The CUDA execution provider (libonnxruntime_providers_cuda plus CUDA and cuDNN on the host).</summary>
    public const string Cuda = "CUDAExecutionProvider";

    /// <summary>
    /// Decides where sessions run: <see cref="InferenceDevice.Cpu"/> or <see cref="InferenceDevice.Cuda"/>, never
    /// <see cref="InferenceDevice.Auto"/>. A pure function, so the decision is testable without a GPU.
    /// </summary>
    /// <param name="configured">The device the deployment asked for.</param>
    /// <param name="availableProviders">The providers ONNX Runtime offers, e.g. <see cref="OnnxRuntimeInfo.AvailableProviders"/>.</param>
    /// <returns>The device to use.</returns>
    /// <exception cref="InferenceDeviceUnavailableException">CUDA is configured but not available.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="configured"/> is not a defined device.</exception>
    public static InferenceDevice Select(InferenceDevice configured, IEnumerable<string> availableProviders)
    {
        ArgumentNullException.ThrowIfNull(availableProviders);
        var available = availableProviders as IReadOnlyCollection<string> ?? [.. availableProviders];
        var hasCuda = available.Contains(Cuda, StringComparer.Ordinal);

        return configured switch
        {
            InferenceDevice.Cpu => InferenceDevice.Cpu,
            InferenceDevice.Auto => hasCuda ? InferenceDevice.Cuda : InferenceDevice.Cpu,
            InferenceDevice.Cuda when hasCuda => InferenceDevice.Cuda,
            InferenceDevice.Cuda => throw new InferenceDeviceUnavailableException(configured, available),
            _ => throw new ArgumentOutOfRangeException(nameof(configured), configured, "Unknown inference device."),
        };
    }
}
