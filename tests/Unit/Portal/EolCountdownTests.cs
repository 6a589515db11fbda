using WebConsole.Domain.Catalog;
using WebConsole.Domain.Endpoints;
using WebConsole.Web.Apis.Management;
using WebConsole.Web.Components.Shared;

namespace WebConsole.Unit.Portal;

/// <summary>The catalog's end-of-life cell: date, countdown, and the warning colour inside 90 days.</summary>
public sealed class EolCountdownTests
{
    private static readonly DateOnly Today = new(2026, 11, 22);

    [Theory]
    [InlineData(91, "ok", "91 days left")]
    [InlineData(90, "warning", "90 days left")]
    [InlineData(30, "warning", "30 days left")]
    [InlineData(1, "warning", "1 day left")]
    [InlineData(0, "ended", "reached: serves no requests")]
    [InlineData(-12, "ended", "reached: serves no requests")]
    public async Task The_countdown_turns_amber_inside_90_days_and_red_once_reached(int daysLeft, string state, string countdown)
    {
        var html = await RenderAsync(Today.AddDays(daysLeft));

        Assert.Contains($"data-eol-state=\"{state}\"", html, StringComparison.Ordinal);
        Assert.Contains(Today.AddDays(daysLeft).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), html, StringComparison.Ordinal);
        Assert.Contains(countdown, html, StringComparison.Ordinal);
        var amber = html.Contains("var(--rz-warning-dark", StringComparison.Ordinal);
        var red = html.Contains("var(--rz-danger)", StringComparison.Ordinal);
        Assert.Equal((state == "warning", state == "ended"), (amber, red));
    }

    [Fact]
    public async Task A_model_without_an_eol_date_says_so_in_plain_colour()
    {
        var html = await RenderAsync(null);

        Assert.Contains("data-eol-state=\"none\"", html, StringComparison.Ordinal);
        Assert.Contains("none announced", html, StringComparison.Ordinal);
        Assert.DoesNotContain("color:", html, StringComparison.Ordinal);
    }

    private static Task<string> RenderAsync(DateOnly? eol)
    {
        var model = CatalogModel.Create(
            "test-model", "Test", "Test model", TaskType.ChatCompletion, new CatalogLink("Model card", "https://example.invalid/card"),
            [new CatalogLink("Terms", null)], ["text"], ["text"], eol, "None", false, ["EU"], ReleaseStatus.GenerallyAvailable, "9.3");
        int? days = eol is { } date ? date.DayNumber - Today.DayNumber : null;
        var view = new CatalogModelView(model, null, model.IsEndOfLife(Today), model.IsEolSoon(Today), days);
        return PortalRenderer.RenderAsync<EolCountdown>(new Dictionary<string, object?> { [nameof(EolCountdown.View)] = view });
    }
}
