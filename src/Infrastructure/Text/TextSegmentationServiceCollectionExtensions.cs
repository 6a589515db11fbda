using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WebConsole.Domain.Text;

namespace WebConsole.Infrastructure.Text;

public static class TextSegmentationServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ITextSegmenter"/> on the system ICU as a singleton. ICU is loaded when the segmenter is
    /// first resolved; a missing ICU then fails with a <see cref="DllNotFoundException"/> listing what was searched.
    /// </summary>
    public static IServiceCollection AddIcuTextSegmentation(this IServiceCollection services)
    {
        services.TryAddSingleton(_ => IcuLibrary.Shared);
        services.TryAddSingleton(sp => new IcuTextSegmenter(sp.GetRequiredService<IcuLibrary>()));
        services.TryAddSingleton<ITextSegmenter>(sp => sp.GetRequiredService<IcuTextSegmenter>());
        return services;
    }
}
