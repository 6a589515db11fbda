using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace WebConsole.Inference.Runtime;

/// <summary>What the ONNX Runtime loaded into this process is: its version and the execution providers it offers.</summary>
/// <param name="Version">The native library's version, e.g. <c>1.29.0</c>.</param>
/// <param name="AvailableProviders">
/// Providers a session can actually be given here: <see cref="ExecutionProviders.Cpu"/>, plus
/// <see cref="ExecutionProviders.Cuda"/> only when its provider library loads. This is the list to choose from.
/// </param>
/// <param name="ReportedProviders">
/// What <c>OrtEnv.GetAvailableProviders()</c> reports: the providers compiled into the library. A build with CUDA entry
/// points reports CUDA even where libonnxruntime_providers_cuda and the CUDA libraries are absent.
/// </param>
/// <param name="CudaUnavailableReason">Why CUDA cannot be used; <see langword="null"/> when it can.</param>
public sealed record OnnxRuntimeInfo(
    string Version,
    IReadOnlyList<string> AvailableProviders,
    IReadOnlyList<string> ReportedProviders,
    string? CudaUnavailableReason)
{
    // The loaded native library cannot change within a process; reading once also keeps ONNX Runtime from logging
    // the failed CUDA load on every health check. A failure (missing library) is cached the same way.
    private static readonly Lazy<OnnxRuntimeInfo> Current = new(ReadUncached, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// The file name the managed API loads the native library under on this operating system
    /// (<c>libonnxruntime.so</c> on Linux); the build copies it next to the application.
    /// </summary>
    public static string NativeLibraryFileName { get; } =
        RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "onnxruntime.dll"
        : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "libonnxruntime.dylib"
        : "libonnxruntime.so";

    /// <summary>File name of ONNX Runtime's CUDA execution provider library on this platform.</summary>
    public static string CudaProviderLibraryFileName { get; } =
        RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "onnxruntime_providers_cuda.dll" : "libonnxruntime_providers_cuda.so";

    /// <summary>
    /// Loads the native library (first call only) and describes it; later calls return the same description.
    /// Throws what the runtime throws, e.g. <see cref="TypeInitializationException"/> wrapping
    /// <see cref="DllNotFoundException"/> when the native library is missing; <see cref="OnnxRuntimeProbe"/> never throws.
    /// </summary>
    /// <returns>The runtime's description.</returns>
    public static OnnxRuntimeInfo Read() => Current.Value;

    /// <summary>Whether a session can be given the named execution provider in this process.</summary>
    /// <param name="provider">A provider name such as <see cref="ExecutionProviders.Cuda"/>.</param>
    /// <returns><see langword="true"/> when the provider is in <see cref="AvailableProviders"/>.</returns>
    public bool Offers(string provider) => AvailableProviders.Contains(provider, StringComparer.Ordinal);

    private static OnnxRuntimeInfo ReadUncached()
    {
        var env = OrtEnv.Instance();
        var reported = env.GetAvailableProviders();
        var cudaProblem = CheckCuda(reported);

        List<string> available = [];
        if (reported.Contains(ExecutionProviders.Cpu, StringComparer.Ordinal))
        {
            available.Add(ExecutionProviders.Cpu);
        }

        if (cudaProblem is null)
        {
            available.Insert(0, ExecutionProviders.Cuda);
        }

        return new OnnxRuntimeInfo(env.GetVersionString(), available, reported, cudaProblem);
    }

    private static string? CheckCuda(string[] reported)
    {
        if (!reported.Contains(ExecutionProviders.Cuda, StringComparer.Ordinal))
        {
            return $"this ONNX Runtime build has no {ExecutionProviders.Cuda}";
        }

        // ONNX Runtime looks for the provider library beside its own; when it is not there, trying would only make the
        // native side print a load error on every start of a CPU-only installation.
        var providerLibrary = Path.Combine(AppContext.BaseDirectory, CudaProviderLibraryFileName);
        if (!File.Exists(providerLibrary))
        {
            return $"the CUDA provider library {CudaProviderLibraryFileName} is not installed beside ONNX Runtime";
        }

        // Appending the provider loads libonnxruntime_providers_shared/_cuda and their CUDA dependencies, which is
        // exactly what a session would need; it does not allocate on the GPU.
        try
        {
            using var options = new SessionOptions();
            options.AppendExecutionProvider_CUDA(0);
            return null;
        }
        catch (OnnxRuntimeException exception)
        {
            return exception.Message;
        }
    }
}
