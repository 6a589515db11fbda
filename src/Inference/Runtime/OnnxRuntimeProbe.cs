using Microsoft.ML.OnnxRuntime;

namespace WebConsole.Inference.Runtime;

/// <summary>
/// Probes the embedded ONNX Runtime: loads the native library and reads its version and execution providers.
/// Never throws; stateless and thread-safe.
/// </summary>
public sealed class OnnxRuntimeProbe : IInferenceRuntimeProbe
{
    private readonly Func<OnnxRuntimeInfo> _read;

    /// <summary>Creates a probe of the ONNX Runtime loaded into this process.</summary>
    public OnnxRuntimeProbe()
        : this(OnnxRuntimeInfo.Read)
    {
    }

    // Lets tests stand in for the native boundary (a missing or mismatched library cannot be staged in-process).
    internal OnnxRuntimeProbe(Func<OnnxRuntimeInfo> read)
    {
        _read = read;
    }

    /// <inheritdoc />
    public InferenceRuntimeHealth Check()
    {
        try
        {
            var runtime = _read();
            return runtime.Offers(ExecutionProviders.Cpu)
                ? InferenceRuntimeHealth.Healthy(runtime)
                : InferenceRuntimeHealth.Unhealthy(
                    $"ONNX Runtime {runtime.Version} offers no {ExecutionProviders.Cpu} (available: {string.Join(", ", runtime.AvailableProviders)}).");
        }
#pragma warning disable CA1031 // A probe reports every failure as unhealthy instead of taking the health endpoint down.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            return InferenceRuntimeHealth.Unhealthy(Explain(exception));
        }
    }

    internal static string Explain(Exception exception)
    {
        // The managed API's static constructors load the library, so the real cause arrives wrapped.
        var cause = exception;
        while (cause is TypeInitializationException { InnerException: { } inner })
        {
            cause = inner;
        }

        var library = OnnxRuntimeInfo.NativeLibraryFileName;
        return cause switch
        {
            DllNotFoundException => $"The ONNX Runtime native library {library} could not be loaded: {cause.Message} "
                + $"It belongs next to the application ({AppContext.BaseDirectory}); the build copies it there.",
            EntryPointNotFoundException => $"The ONNX Runtime native library {library} does not match the managed API "
                + $"(missing entry point): {cause.Message}",
            BadImageFormatException => $"The ONNX Runtime native library {library} is not loadable on this machine: {cause.Message}",
            OnnxRuntimeException => $"ONNX Runtime failed to start: {cause.Message}",
            _ => $"ONNX Runtime could not be probed ({cause.GetType().Name}): {cause.Message}",
        };
    }
}
