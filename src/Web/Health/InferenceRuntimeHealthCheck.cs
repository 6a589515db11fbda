using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using WebConsole.Inference;
using WebConsole.Inference.Runtime;

namespace WebConsole.Web.Health;

/// <summary>ONNX Runtime's native library loads and offers the configured device.</summary>
internal sealed class InferenceRuntimeHealthCheck(IInferenceRuntimeProbe probe, IOptions<InferenceOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var health = probe.Check();
        if (!health.IsHealthy || health.Runtime is not { } runtime)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(health.Reason));
        }

        var data = new Dictionary<string, object>
        {
            ["version"] = runtime.Version,
            ["providers"] = string.Join(", ", runtime.AvailableProviders),
            ["configured_device"] = options.Value.Device.ToString().ToLowerInvariant(),
        };
        try
        {
            var device = ExecutionProviders.Select(options.Value.Device, runtime.AvailableProviders);
            data["device"] = device.ToString().ToLowerInvariant();
            return Task.FromResult(HealthCheckResult.Healthy($"ONNX Runtime {runtime.Version} on {device.ToString().ToUpperInvariant()}", data));
        }
        catch (InferenceDeviceUnavailableException ex)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(ex.Message, data: data));
        }
    }
}
