namespace WebConsole.Inference.Runtime;

/// <summary>
/// Checks that the inference runtime can be used in this process; backs the health endpoint and the start-up log.
/// Implementations never throw and are safe to call from several threads at once.
/// </summary>
public interface IInferenceRuntimeProbe
{
    /// <summary>Checks the runtime now.</summary>
    /// <returns>Healthy with the runtime's description, or unhealthy with a reason an operator can act on.</returns>
    InferenceRuntimeHealth Check();
}
