using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WebConsole.Web.Components.Pages;

/// <summary>The overview: the same checks as <c>/healthz</c>, shown per component, re-run on demand.</summary>
public sealed partial class Home
{
    private static readonly Dictionary<string, string> Titles = new()
    {
        ["database"] = "Database",
        ["inference_runtime"] = "Inference runtime",
        ["text_segmentation"] = "Text segmentation (ICU)",
    };

    private HealthReport? _report;
    private DateTimeOffset _checkedAt;
    private int _checkCount;
    private bool _checking;

    [Inject]
    private HealthCheckService Health { get; set; } = default!;

    [Inject]
    private TimeProvider Clock { get; set; } = default!;

    protected override Task OnInitializedAsync() => RefreshAsync();

    private async Task RefreshAsync()
    {
        _checking = true;
        try
        {
            _report = await Health.CheckHealthAsync();
            _checkedAt = Clock.GetUtcNow();
            _checkCount++;
        }
        finally
        {
            _checking = false;
        }
    }
}
