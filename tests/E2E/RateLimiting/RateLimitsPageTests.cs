using System.Net;
using System.Net.Http.Json;
using Microsoft.Playwright;
using WebConsole.E2E.Infrastructure;

namespace WebConsole.E2E.RateLimiting;

/// <summary>The portal's rate-limits page in Chromium: the defaults, an override added, changed and deleted, and the chart.</summary>
public sealed class RateLimitsPageTests(RateLimitServer fixture, BrowserFixture browser) : IClassFixture<RateLimitServer>, IClassFixture<BrowserFixture>
{
    private static readonly LocatorAssertionsToHaveAttributeOptions Wait = new() { Timeout = 30_000 };

    [Fact]
    public async Task An_operator_adds_changes_and_deletes_an_override_that_requests_obey_at_once()
    {
        var (page, errors) = await browser.NewSignedInPageAsync(fixture.Server.BaseAddress, ServerFixture.OperatorEmail, ServerFixture.OperatorPassword);
        await page.GetByTestId("nav").GetByText("Rate limits", new LocatorGetByTextOptions { Exact = true }).ClickAsync();
        await page.WaitForURLAsync("**/rate-limits");
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Rate limits");

        var defaults = page.Locator("[data-testid=rate-limit-row][data-scope=global][data-selector='family:text_embedding']");
        await Assertions.Expect(defaults.GetByTestId("policy-rpm")).ToHaveTextAsync("6,000");
        await Assertions.Expect(defaults.GetByTestId("policy-search")).ToHaveTextAsync("600,000");
        var chart = page.GetByTestId("rate-limits-chart");
        await Assertions.Expect(chart.Locator("svg").First).ToBeVisibleAsync();
        var barsBefore = int.Parse(await chart.GetAttributeAsync("data-bar-count") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(barsBefore > 0);

        // Add an organization policy for one model.
        await page.GetByTestId("add-rate-limit").ClickAsync();
        var form = page.GetByTestId("rate-limit-form");
        await form.GetByText("One model", new LocatorGetByTextOptions { Exact = true }).ClickAsync();
        await form.GetByTestId("rate-limit-model").FillAsync(RateLimitServer.ModelOf("rl-portal"));
        await form.GetByTestId("rate-limit-rpm").Locator("input").FillAsync("7");
        await form.GetByTestId("rate-limit-submit").ClickAsync();
        await Assertions.Expect(form).ToHaveCountAsync(0);

        var row = page.Locator("[data-testid=rate-limit-row][data-scope=organization][data-selector='model:rl-portal-model']");
        await Assertions.Expect(row.GetByTestId("policy-rpm")).ToHaveTextAsync("7");
        await Assertions.Expect(row.GetByTestId("policy-search")).ToHaveTextAsync("unlimited");
        await Assertions.Expect(chart).ToHaveAttributeAsync("data-bar-count", (barsBefore + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), Wait);
        Assert.Equal("7", await LimitSeenByRequestsAsync());

        // Change its limit.
        await row.GetByTestId("edit-rate-limit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("rate-limit-identity")).ToContainTextAsync("model:rl-portal-model");
        await page.GetByTestId("rate-limit-rpm").Locator("input").FillAsync("9");
        await page.GetByTestId("rate-limit-submit").ClickAsync();
        await Assertions.Expect(row.GetByTestId("policy-rpm")).ToHaveTextAsync("9");
        Assert.Equal("9", await LimitSeenByRequestsAsync());

        // Delete it: the default applies again. Defaults themselves offer no delete.
        await Assertions.Expect(defaults.GetByTestId("delete-rate-limit")).ToHaveCountAsync(0);
        await row.GetByTestId("delete-rate-limit").ClickAsync();
        await page.Locator(".rz-dialog").GetByRole(AriaRole.Button, new() { Name = "Delete policy" }).ClickAsync();
        await Assertions.Expect(row).ToHaveCountAsync(0);
        Assert.Equal("6000", await LimitSeenByRequestsAsync());
        Assert.Empty(errors);
    }

    private async Task<string> LimitSeenByRequestsAsync()
    {
        using var client = fixture.Client();
        using var response = await client.PostAsJsonAsync("/_inference/text_embedding/rl-portal", new { input = "hello" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return string.Join(",", response.Headers.GetValues("x-ratelimit-limit-requests"));
    }
}
