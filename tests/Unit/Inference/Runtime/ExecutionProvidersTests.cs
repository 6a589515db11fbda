using Microsoft.ML.OnnxRuntime;
using WebConsole.Inference.Runtime;
using WebConsole.Inference.Onnx;

namespace WebConsole.Unit.Inference.Runtime;

public sealed class ExecutionProvidersTests
{
    private static readonly string[] CpuOnly = [ExecutionProviders.Cpu];
    private static readonly string[] CudaAndCpu = [ExecutionProviders.Cuda, ExecutionProviders.Cpu];

    [Fact]
    public void Auto_picks_cuda_when_the_runtime_offers_it()
    {
        Assert.Equal(InferenceDevice.Cuda, ExecutionProviders.Select(InferenceDevice.Auto, CudaAndCpu));
    }

    [Fact]
    public void Auto_falls_back_to_the_cpu_without_cuda()
    {
        Assert.Equal(InferenceDevice.Cpu, ExecutionProviders.Select(InferenceDevice.Auto, CpuOnly));
    }

    [Fact]
    public void Cpu_stays_on_the_cpu_even_when_cuda_is_offered()
    {
        Assert.Equal(InferenceDevice.Cpu, ExecutionProviders.Select(InferenceDevice.Cpu, CudaAndCpu));
    }

    [Fact]
    public void Cuda_is_used_when_offered()
    {
        Assert.Equal(InferenceDevice.Cuda, ExecutionProviders.Select(InferenceDevice.Cuda, CudaAndCpu));
    }

    [Fact]
    public void Cuda_without_the_cuda_provider_fails_with_a_message_that_says_what_to_do()
    {
        var error = Assert.Throws<InferenceDeviceUnavailableException>(
            () => ExecutionProviders.Select(InferenceDevice.Cuda, CpuOnly));

        Assert.Equal(InferenceDevice.Cuda, error.Device);
        Assert.Contains("'cuda'", error.Message, StringComparison.Ordinal);
        Assert.Contains("CUDAExecutionProvider", error.Message, StringComparison.Ordinal);
        Assert.Contains("available: CPUExecutionProvider", error.Message, StringComparison.Ordinal);
        Assert.Contains("'auto' or 'cpu'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Provider_names_are_matched_exactly()
    {
        // ONNX Runtime's names are case-sensitive identifiers; a near miss must not enable CUDA.
        Assert.Equal(InferenceDevice.Cpu, ExecutionProviders.Select(InferenceDevice.Auto, ["cudaexecutionprovider", ExecutionProviders.Cpu]));
    }

    [Fact]
    public void Auto_picks_a_provider_the_real_runtime_can_run_a_model_on()
    {
        // onnxruntime-node's core reports CUDA even where its provider libraries are absent (as on CI); choosing from
        // the reported list would pick CUDA there and fail to create any session.
        var runtime = OnnxRuntimeInfo.Read();
        var device = ExecutionProviders.Select(InferenceDevice.Auto, runtime.AvailableProviders);

        using var options = new SessionOptions();
        if (device == InferenceDevice.Cuda)
        {
            options.AppendExecutionProvider_CUDA(0);
        }

        var model = new OnnxModelBuilder()
            .Input("X", OnnxDataType.Float, "batch")
            .Node("Neg", ["X"], ["Y"])
            .Output("Y", OnnxDataType.Float, "batch")
            .Build();
        using var session = new InferenceSession(model, options);
        using var x = OrtValue.CreateTensorValueFromMemory(new[] { 1f, -2f }, [2]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, ["X"], [x], ["Y"]);

        Assert.Equal([-1f, 2f], Assert.Single(results).GetTensorDataAsSpan<float>().ToArray());
        Assert.Equal(runtime.CudaUnavailableReason is null, device == InferenceDevice.Cuda);
    }
}
