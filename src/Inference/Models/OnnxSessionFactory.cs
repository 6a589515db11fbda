using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;
using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Runtime;

namespace WebConsole.Inference.Models;

/// <summary>
/// Opens ONNX Runtime sessions for model folders: <c>IntraOpNumThreads</c> = the allocation's <c>num_threads</c>, one
/// inter-op thread (each allocation runs one graph at a time), every graph optimization, and the execution provider
/// <see cref="ExecutionProviders.Select"/> picks for <see cref="InferenceOptions.Device"/>; each session logs its
/// provider. Thread-safe.
/// </summary>
public sealed partial class OnnxSessionFactory
{
    private readonly InferenceOptions _options;
    private readonly ILogger<OnnxSessionFactory> _logger;
    private readonly Func<OnnxRuntimeInfo> _runtime;

    /// <summary>Creates the factory for the ONNX Runtime loaded into this process.</summary>
    public OnnxSessionFactory(IOptions<InferenceOptions> options, ILogger<OnnxSessionFactory> logger)
        : this(options, logger, OnnxRuntimeInfo.Read)
    {
    }

    // Tests stand in for the native boundary to see the choice with and without CUDA.
    internal OnnxSessionFactory(IOptions<InferenceOptions> options, ILogger<OnnxSessionFactory> logger, Func<OnnxRuntimeInfo> runtime)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _logger = logger;
        _runtime = runtime;
    }

    /// <summary>Where sessions of this factory run, after <c>auto</c> is resolved.</summary>
    /// <exception cref="InferenceDeviceUnavailableException">CUDA is configured but not available.</exception>
    public InferenceDevice ResolveDevice() => ExecutionProviders.Select(_options.Device, _runtime().AvailableProviders);

    /// <summary>Opens a session of the model's ONNX graph.</summary>
    /// <param name="model">The model folder.</param>
    /// <param name="numThreads">Threads of one allocation (the endpoint's <c>num_threads</c>).</param>
    /// <exception cref="ModelUnavailableException">The graph cannot be loaded.</exception>
    /// <exception cref="InferenceDeviceUnavailableException">CUDA is configured but not available.</exception>
    public InferenceSession Create(ModelFolder model, int numThreads)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(numThreads, 1);
        var runtime = _runtime();
        var device = ExecutionProviders.Select(_options.Device, runtime.AvailableProviders);

        using var options = new SessionOptions
        {
            IntraOpNumThreads = numThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        if (!_options.AllowSpinning)
        {
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        }

        try
        {
            if (device == InferenceDevice.Cuda)
            {
                options.AppendExecutionProvider_CUDA(0);
            }

            var session = new InferenceSession(model.OnnxPath, options);
            var provider = device == InferenceDevice.Cuda ? ExecutionProviders.Cuda : ExecutionProviders.Cpu;
            if (device == InferenceDevice.Cpu && _options.Device == InferenceDevice.Auto)
            {
                LogCpuFallback(model.Id, provider, numThreads, runtime.CudaUnavailableReason ?? "not offered");
            }
            else
            {
                LogSession(model.Id, provider, numThreads);
            }

            return session;
        }
        catch (OnnxRuntimeException exception)
        {
            throw new ModelUnavailableException(model.Id, $"Model '{model.Id}': ONNX Runtime cannot load {model.OnnxPath}: {exception.Message}", exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {ModelId} runs on {Provider} with {Threads} threads")]
    private partial void LogSession(string modelId, string provider, int threads);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {ModelId} runs on {Provider} with {Threads} threads; CUDA is not used: {Reason}")]
    private partial void LogCpuFallback(string modelId, string provider, int threads, string reason);
}
