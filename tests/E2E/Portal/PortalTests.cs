using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using WebConsole.E2E.Infrastructure;

namespace WebConsole.E2E.Portal;

[Collection(ServerCollection.Name)]
public sealed class PortalTests(ServerFixture server, BrowserFixture browser)
{
    private static readonly LocatorAssertionsToHaveAttributeOptions Wait = new() { Timeout = 30_000 };

    [Fact]
    public async Task Healthz_reports_the_database_and_the_inference_runtime_healthy()
    {
        using var client = server.Server.CreateClient();
        using var response = await client.GetAsync(new Uri("healthz", UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("healthy", json.RootElement.GetProperty("status").GetString());
        var checks = json.RootElement.GetProperty("checks").EnumerateArray()
            .ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("status").GetString());
        Assert.Equal("healthy", checks["database"]);
        Assert.Equal("healthy", checks["inference_runtime"]);
        Assert.Equal("healthy", checks["text_segmentation"]);
    }

    [Fact]
    public async Task Portal_loads_and_an_interactive_Radzen_component_reacts_to_a_click()
    {
        var (page, errors) = await browser.NewPageAsync(server.Server.BaseAddress);
        await page.GotoAsync("/");
        var layout = page.GetByTestId("layout");
        await Assertions.Expect(layout).ToHaveAttributeAsync("data-interactive", "true", Wait);

        // RadzenSidebarToggle: a click goes over the SignalR circuit and the sidebar collapses, then expands again.
        var sidebar = page.GetByTestId("sidebar");
        await Assertions.Expect(sidebar).ToHaveAttributeAsync("data-expanded", "true");
        await page.GetByTestId("sidebar-toggle").ClickAsync();
        await Assertions.Expect(sidebar).ToHaveAttributeAsync("data-expanded", "false", Wait);
        await page.GetByTestId("sidebar-toggle").ClickAsync();
        await Assertions.Expect(sidebar).ToHaveAttributeAsync("data-expanded", "true", Wait);

        // RadzenButton: re-running the health checks renders a new report.
        var checks = page.GetByTestId("health-checks");
        await Assertions.Expect(checks).ToHaveAttributeAsync("data-checked-count", "1", Wait);
        await page.GetByTestId("health-refresh").ClickAsync();
        await Assertions.Expect(checks).ToHaveAttributeAsync("data-checked-count", "2", Wait);
        await Assertions.Expect(page.GetByTestId("health-database")).ToHaveAttributeAsync("data-status", "healthy");

        Assert.Empty(errors);
    }

    [Theory]
    [InlineData("Endpoints", "endpoints")]
    [InlineData("Playground", "playground")]
    [InlineData("Models", "models")]
    [InlineData("Usage", "usage")]
    [InlineData("Teams & keys", "teams")]
    [InlineData("Settings", "settings")]
    public async Task Navigation_reaches_every_section_of_the_portal(string title, string path)
    {
        var (page, errors) = await browser.NewPageAsync(server.Server.BaseAddress);
        await page.GotoAsync("/");
        await Assertions.Expect(page.GetByTestId("layout")).ToHaveAttributeAsync("data-interactive", "true", Wait);

        await page.GetByTestId("nav").GetByText(title, new LocatorGetByTextOptions { Exact = true }).ClickAsync();

        await page.WaitForURLAsync($"**/{path}");
        await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync(title);
        await Assertions.Expect(page.GetByTestId("planned")).ToContainTextAsync("It will hold:");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Blazor_script_is_served_as_javascript()
    {
        using var client = server.Server.CreateClient();
        using var response = await client.GetAsync(new Uri("_framework/blazor.web.js", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.True((await response.Content.ReadAsByteArrayAsync()).Length > 100_000);
    }
}
