namespace WebConsole.Inference.Runtime;

/// <summary>The outcome of <see cref="IInferenceRuntimeProbe.Check"/>.</summary>
/// <param name="IsHealthy">Whether models can be loaded and run.</param>
/// <param name="Reason">Why the runtime is unusable; <see langword="null"/> when healthy.</param>
/// <param name="Runtime">The loaded runtime; <see langword="null"/> when it could not be read.</param>
public sealed record InferenceRuntimeHealth(bool IsHealthy, string? Reason, OnnxRuntimeInfo? Runtime)
{
    /// <summary>A healthy result for a runtime that loaded.</summary>
    /// <param name="runtime">The runtime's description.</param>
    /// <returns>The result.</returns>
    public static InferenceRuntimeHealth Healthy(OnnxRuntimeInfo runtime) => new(true, null, runtime);

    /// <summary>An unhealthy result.</summary>
    /// <param name="reason">Why, in words an operator can act on.</param>
    /// <returns>The result.</returns>
    public static InferenceRuntimeHealth Unhealthy(string reason) => new(false, reason, null);
}
