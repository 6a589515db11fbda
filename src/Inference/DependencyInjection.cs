using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WebConsole.Inference.Deployments;
using WebConsole.Inference.Hosting;
using WebConsole.Inference.Models;
using WebConsole.Inference.Runtime;

namespace WebConsole.Inference;

/// <summary>Registers the embedded inference host.</summary>
public static class DependencyInjection
{
    /// <summary>
    /// Binds <see cref="InferenceOptions"/> and <see cref="ModelRegistryOptions"/> (validated at start) and registers the runtime
    /// probe, the model registry, the session factory, the deployments and <see cref="EmbeddedInferenceHost"/>.
    /// </summary>
    public static IHostApplicationBuilder AddInference(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<InferenceOptions>()
            .BindConfiguration(InferenceOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<ModelRegistryOptions>()
            .BindConfiguration(InferenceOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        // Batch and queue limits of every deployment (TEI's max-batch-tokens and max-concurrent-requests counterparts).
        builder.Services.AddOptions<BatchingOptions>().BindConfiguration(BatchingOptions.SectionName);
        builder.Services.TryAddSingleton<IInferenceRuntimeProbe, OnnxRuntimeProbe>();
        builder.Services.TryAddSingleton<ModelRegistry>();
        builder.Services.TryAddSingleton<OnnxSessionFactory>();
        builder.Services.TryAddSingleton(sp => new DeploymentManager(sp.GetService<TimeProvider>(), sp.GetService<ILoggerFactory>()));
        builder.Services.TryAddSingleton<EmbeddedInferenceHost>();
        return builder;
    }
}
