using Microsoft.Extensions.Diagnostics.HealthChecks;
using WebConsole.Infrastructure.Text;

namespace WebConsole.Web.Health;

/// <summary>The system ICU loads and splits a sentence (chunking depends on it).</summary>
internal sealed class TextSegmentationHealthCheck(IServiceProvider services) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var segmenter = services.GetRequiredService<IcuTextSegmenter>();
            var sentences = segmenter.SplitSentences("WebConsole splits text. 它支持中文。").Count;
            var data = new Dictionary<string, object>
            {
                ["library"] = segmenter.Library.LibraryName,
                ["version"] = segmenter.IcuVersion.ToString(),
            };
            return Task.FromResult(sentences == 2
                ? HealthCheckResult.Healthy($"ICU {segmenter.IcuVersion} ({segmenter.Library.LibraryName})", data)
                : HealthCheckResult.Unhealthy($"ICU {segmenter.IcuVersion} split a two-sentence probe into {sentences} sentences", data: data));
        }
        catch (DllNotFoundException ex)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(ex.Message));
        }
    }
}
