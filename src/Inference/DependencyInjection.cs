using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using WebConsole.Inference.Runtime;

namespace WebConsole.Inference;

/// <summary>Registers the embedded inference host.</summary>
public static class DependencyInjection
{
    /// <summary>Binds <see cref="InferenceOptions"/> (validated at start) and registers the runtime probe.</summary>
    public static IHostApplicationBuilder AddInference(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<InferenceOptions>()
            .BindConfiguration(InferenceOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddSingleton<IInferenceRuntimeProbe, OnnxRuntimeProbe>();
        return builder;
    }
}
