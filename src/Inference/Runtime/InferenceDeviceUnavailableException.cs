namespace WebConsole.Inference.Runtime;

/// <summary>
/// The configured inference device cannot be used with the ONNX Runtime this process loaded. Thrown at start so a
/// GPU deployment never degrades to the CPU unnoticed.
/// </summary>
public sealed class InferenceDeviceUnavailableException : InvalidOperationException
{
    /// <summary>Creates the exception for a device and the providers that were available instead.</summary>
    /// <param name="device">The configured device.</param>
    /// <param name="availableProviders">The execution providers ONNX Runtime offered.</param>
    public InferenceDeviceUnavailableException(InferenceDevice device, IEnumerable<string> availableProviders)
        : base(Describe(device, [.. availableProviders]))
    {
        Device = device;
    }

    /// <summary>The configured device that is unavailable.</summary>
    public InferenceDevice Device { get; }

    private static string Describe(InferenceDevice device, string[] available)
    {
        var offered = available.Length == 0 ? "none" : string.Join(", ", available);
        return device == InferenceDevice.Cuda
            ? $"The inference device is set to 'cuda' but ONNX Runtime offers no {ExecutionProviders.Cuda} (available: {offered}). "
              + "Install ONNX Runtime's CUDA provider libraries with CUDA and cuDNN on this host, or set the device to 'auto' or 'cpu'."
            : $"The inference device '{device}' is not available (ONNX Runtime offers: {offered}).";
    }
}
