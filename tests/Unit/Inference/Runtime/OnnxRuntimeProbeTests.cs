using WebConsole.Inference.Runtime;

namespace WebConsole.Unit.Inference.Runtime;

public sealed class OnnxRuntimeProbeTests
{
    [Fact]
    public void The_real_runtime_is_healthy_and_reports_its_version_and_the_cpu_provider()
    {
        var health = new OnnxRuntimeProbe().Check();

        Assert.True(health.IsHealthy, health.Reason);
        Assert.Null(health.Reason);
        Assert.NotNull(health.Runtime);
        Assert.StartsWith("1.", health.Runtime.Version, StringComparison.Ordinal);
        Assert.Contains(ExecutionProviders.Cpu, health.Runtime.AvailableProviders);
        Assert.Contains(ExecutionProviders.Cpu, health.Runtime.ReportedProviders);
    }

    [Fact]
    public void The_native_library_is_shipped_next_to_the_tests()
    {
        Assert.True(
            File.Exists(Path.Combine(AppContext.BaseDirectory, OnnxRuntimeInfo.NativeLibraryFileName)),
            $"{OnnxRuntimeInfo.NativeLibraryFileName} is missing from {AppContext.BaseDirectory}");
    }

    [Fact]
    public void A_missing_native_library_is_unhealthy_and_named_instead_of_thrown()
    {
        // What the managed API throws when libonnxruntime.so is absent: its static constructor fails to bind.
        var probe = new OnnxRuntimeProbe(() => throw new TypeInitializationException(
            "Microsoft.ML.OnnxRuntime.NativeMethods",
            new DllNotFoundException("Unable to load shared library 'onnxruntime' or one of its dependencies.")));

        var health = probe.Check();

        Assert.False(health.IsHealthy);
        Assert.Null(health.Runtime);
        Assert.Contains(OnnxRuntimeInfo.NativeLibraryFileName, health.Reason, StringComparison.Ordinal);
        Assert.Contains("could not be loaded", health.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_runtime_without_the_cpu_provider_is_unhealthy()
    {
        var probe = new OnnxRuntimeProbe(() => new OnnxRuntimeInfo("1.29.0", [ExecutionProviders.Cuda], [ExecutionProviders.Cuda], null));

        var health = probe.Check();

        Assert.False(health.IsHealthy);
        Assert.Contains(ExecutionProviders.Cpu, health.Reason, StringComparison.Ordinal);
    }
}
