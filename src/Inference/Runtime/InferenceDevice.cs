namespace WebConsole.Inference.Runtime;

/// <summary>The device a deployment asks ONNX Runtime to run its models on.</summary>
public enum InferenceDevice
{
    /// <summary>CUDA when ONNX Runtime offers it, otherwise the CPU.</summary>
    Auto,

    /// <summary>The CPU execution provider, always present.</summary>
    Cpu,

    /// <summary>The CUDA execution provider; refusing to start is better than silently falling back to the CPU.</summary>
    Cuda,
}
