using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using WebConsole.E2E.Infrastructure;
using WebConsole.Tests.Shared;

namespace WebConsole.E2E.Portal;

/// <summary>A real server with a generated embedding model registered, for the endpoints page's tests.</summary>
public sealed class EndpointsPageServer : IAsyncLifetime
{
    public const string Model = "portal-bert";

    private WebConsoleServer? _server;

    public WebConsoleServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    /// <summary>The embedding model's dimensions.</summary>
    public int Dimensions { get; private set; }

    public async Task InitializeAsync()
    {
        var settings = ServerFixture.Settings.ToDictionary();
        Dimensions = await GeneratedModels.RegisterAsync(settings, Model, "portal-splade", "portal-cross-encoder", "portal-llama3");
        _server = await WebConsoleServer.StartAsync(settings);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>
/// The inference endpoints page in Chromium, as a new operator would use it: add an endpoint through the flyout (a server
/// validation message first, beside its field), find it by search and filters, copy its id, watch its deployment go
/// live, run "try it" on its details page, and delete it through the dry-run flow past an API key that references it.
/// Screenshots of the list and the details at 1280x800 and 390x844 are saved as artifacts.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class EndpointsPageTests(BrowserFixture browser, EndpointsPageServer server) : IClassFixture<EndpointsPageServer>
{
    private const string Endpoint = "portal-e5";
    private const string Reserved = ".starter-embedding-elasticsearch";
    private static readonly LocatorAssertionsToHaveAttributeOptions Wait = new() { Timeout = 30_000 };

    [Fact]
    public async Task An_operator_adds_finds_copies_tries_and_deletes_an_endpoint_and_cannot_delete_a_reserved_one()
    {
        var (page, errors) = await browser.NewSignedInPageAsync(server.Server.BaseAddress, ServerFixture.OperatorEmail, ServerFixture.OperatorPassword);
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = server.Server.BaseAddress.GetLeftPart(UriPartial.Authority) });
        await page.SetViewportSizeAsync(1280, 800);
        await page.GotoAsync("/endpoints");
        var table = page.GetByTestId("endpoints-table");
        await Assertions.Expect(table).ToBeVisibleAsync(new() { Timeout = 30_000 });

        // The preconfigured endpoints: badged, and their delete is disabled.
        var reserved = Row(page, Reserved);
        await Assertions.Expect(reserved.GetByTestId("badge-preconfigured")).ToBeVisibleAsync();
        await Assertions.Expect(reserved.GetByTestId("endpoint-delete")).ToBeDisabledAsync();
        var endpointsBefore = int.Parse(await page.GetByTestId("stat-endpoints").GetAttributeAsync("data-value") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(endpointsBefore >= 7, $"the reserved endpoints should be listed: {endpointsBefore}");

        // A marker in the page's JavaScript state: it survives only if the page is never reloaded.
        await page.EvaluateAsync("() => { window.__endpointsMarker = 'kept'; }");

        // The flyout: service, then task type, then the service's fields; a server validation message beside its field.
        await page.GetByTestId("add-endpoint").ClickAsync();
        var form = page.GetByTestId("add-endpoint-form");
        await form.GetByLabel("Inference ID").FillAsync(Endpoint);
        await form.GetByLabel("Service").SelectOptionAsync("elasticsearch");
        await form.GetByLabel("Task type").SelectOptionAsync("text_embedding");
        await Assertions.Expect(form.GetByTestId("setting-model_id")).ToHaveAttributeAsync("data-required", "true");
        await Assertions.Expect(form.GetByTestId("chunking-settings")).ToBeVisibleAsync();
        await Assertions.Expect(form.GetByTestId("field-num_threads")).ToHaveValueAsync("1");
        await form.GetByLabel("Model ID").FillAsync(EndpointsPageServer.Model);
        await form.GetByLabel("Number Threads").FillAsync("3");
        await form.GetByTestId("add-endpoint-submit").ClickAsync();
        await Assertions.Expect(form.GetByTestId("error-num_threads")).ToContainTextAsync("[num_threads] must be a power of 2");
        await Assertions.Expect(form.GetByLabel("Number Threads")).ToHaveAttributeAsync("aria-invalid", "true");
        await form.GetByLabel("Number Threads").FillAsync("1");
        await form.GetByTestId("add-endpoint-submit").ClickAsync();
        await Assertions.Expect(form).ToHaveCountAsync(0, new() { Timeout = 30_000 });
        await Assertions.Expect(Toast(page, "Endpoint added")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("stat-endpoints")).ToHaveAttributeAsync("data-value", (endpointsBefore + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));

        // Found by search, then by the service and task type filters (the other task types filtered out).
        await page.GetByLabel("Search endpoints").FillAsync("portal-e");
        await Assertions.Expect(table).ToHaveAttributeAsync("data-row-count", "1");
        await Assertions.Expect(Row(page, Endpoint)).ToBeVisibleAsync();
        await page.GetByLabel("Search endpoints").FillAsync(string.Empty);
        await page.GetByLabel("Filter by Task type").ClickAsync();
        await page.GetByTestId("filter-task-type").GetByLabel("rerank").CheckAsync();
        await Assertions.Expect(Row(page, Endpoint)).ToHaveCountAsync(0);
        await page.GetByTestId("filter-task-type").GetByLabel("rerank").UncheckAsync();
        await page.GetByTestId("filter-task-type").GetByLabel("text_embedding").CheckAsync();
        await page.GetByLabel("Filter by Service").ClickAsync();
        await page.GetByTestId("filter-service").GetByLabel("elasticsearch").CheckAsync();
        await Assertions.Expect(Row(page, Endpoint)).ToBeVisibleAsync();
        var taskTypes = await table.GetByTestId("endpoint-row").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.taskType)");
        Assert.All(taskTypes, t => Assert.Equal("text_embedding", t));
        await page.GetByLabel("Filter by Service").ClickAsync();
        await page.GetByLabel("Filter by Task type").ClickAsync();

        // Copy its id: the clipboard holds it and a toast says so.
        await Row(page, Endpoint).GetByTestId("endpoint-copy").ClickAsync();
        await Assertions.Expect(Toast(page, "ID copied")).ToBeVisibleAsync();
        Assert.Equal(Endpoint, await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));

        // Its deployment goes live without a reload.
        await Assertions.Expect(Row(page, Endpoint)).ToHaveAttributeAsync("data-deployment-state", "started", Wait);
        Assert.Equal("kept", await page.EvaluateAsync<string>("() => window.__endpointsMarker"));
        await ScreenshotAsync(page, "endpoints-list-1280x800");

        // Details: deployment, "try it" through the inference path (usage recorded), chunking preview.
        await Row(page, Endpoint).GetByTestId("endpoint-link").ClickAsync();
        await Assertions.Expect(page.GetByTestId("details-deployment")).ToHaveAttributeAsync("data-deployment-state", "started", Wait);
        await Assertions.Expect(page.GetByTestId("details-config-json")).ToContainTextAsync(EndpointsPageServer.Model);
        await page.GetByLabel("Input text", new() { Exact = true }).FillAsync("Portal tries the endpoint.");
        await page.GetByTestId("try-run").ClickAsync();
        await Assertions.Expect(page.GetByTestId("try-summary")).ToContainTextAsync(
            $"1 embedding(s) of {server.Dimensions.ToString(System.Globalization.CultureInfo.InvariantCulture)} dimensions", new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByTestId("details-usage")).ToHaveAttributeAsync("data-requests", "1", Wait);
        Assert.NotEqual("0", await page.GetByTestId("details-usage").GetAttributeAsync("data-tokens"));
        await page.GetByTestId("edit-num_allocations").FillAsync("2");
        await page.GetByTestId("edit-save").ClickAsync();
        await Assertions.Expect(Toast(page, "Endpoint updated")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByTestId("details-config-json")).ToContainTextAsync("\"num_allocations\": 2");
        await page.GetByLabel("Text to chunk").FillAsync("One sentence here. Another sentence there.");
        await page.GetByTestId("chunk-preview").ClickAsync();
        await Assertions.Expect(page.GetByTestId("chunk-list")).ToHaveAttributeAsync("data-count", new Regex("^[1-9]"));
        await ScreenshotAsync(page, "endpoint-details-1280x800");
        await page.SetViewportSizeAsync(390, 844);
        await Assertions.Expect(page.GetByTestId("try-run")).ToBeVisibleAsync();
        await AssertNoHorizontalScrollAsync(page);
        await ScreenshotAsync(page, "endpoint-details-390x844");

        // Delete through the dry run: an API key references the endpoint; confirm is enabled only after "ignore the warning".
        using (var client = server.Server.CreateApiKeyClient())
        {
            using var key = await client.PostAsJsonAsync("/_security/api_key", new { name = "portal-ref-key", metadata = new { allowed_endpoints = new[] { Endpoint } } });
            Assert.True(key.StatusCode == HttpStatusCode.OK, await key.Content.ReadAsStringAsync());
        }

        await page.GetByTestId("back-to-endpoints").ClickAsync();
        await Assertions.Expect(Row(page, Endpoint)).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await AssertNoHorizontalScrollAsync(page);
        await ScreenshotAsync(page, "endpoints-list-390x844");
        await page.SetViewportSizeAsync(1280, 800);
        await Row(page, Endpoint).GetByTestId("endpoint-delete").ClickAsync();
        var dialog = page.GetByTestId("delete-endpoint-dialog");
        await Assertions.Expect(dialog.GetByTestId("delete-reference")).ToHaveTextAsync("api_keys: portal-ref-key");
        await Assertions.Expect(dialog.GetByTestId("delete-warning")).ToContainTextAsync("use force to ignore this warning");
        await Assertions.Expect(dialog.GetByTestId("delete-confirm")).ToBeDisabledAsync();
        await dialog.GetByLabel("Ignore the warning and delete the endpoint anyway").CheckAsync();
        await dialog.GetByTestId("delete-confirm").ClickAsync();
        await Assertions.Expect(dialog).ToHaveCountAsync(0, new() { Timeout = 30_000 });
        await Assertions.Expect(Row(page, Endpoint)).ToHaveCountAsync(0);
        await Assertions.Expect(Toast(page, "Endpoint deleted")).ToBeVisibleAsync();
        using (var client = server.Server.CreateApiKeyClient())
        {
            using var gone = await client.GetAsync($"/_inference/{Endpoint}");
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        Assert.Equal("kept", await page.EvaluateAsync<string>("() => window.__endpointsMarker"));
        Assert.Empty(errors);
    }

    private static ILocator Row(IPage page, string inferenceId) =>
        page.Locator($"[data-testid=endpoint-row][data-inference-id='{inferenceId}']");

    private static ILocator Toast(IPage page, string summary) =>
        page.Locator(".rz-notification-item").Filter(new() { HasText = summary }).First;

    private static async Task AssertNoHorizontalScrollAsync(IPage page)
    {
        var (scroll, client) = (await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth"),
            await page.EvaluateAsync<int>("() => document.documentElement.clientWidth"));
        Assert.True(scroll <= client + 1, $"the page scrolls sideways at {client}px: {scroll}px wide");
    }

    // Screenshots go to $WEBCONSOLE_TEST_ARTIFACTS or <repo>/artifacts/screenshots (git-ignored).
    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Environment.GetEnvironmentVariable("WEBCONSOLE_TEST_ARTIFACTS") is { Length: > 0 } artifacts
            ? artifacts
            : Path.Combine(TestEnvironment.RepositoryRoot, "artifacts", "screenshots");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"{name}.png");
        await page.EvaluateAsync("() => document.querySelectorAll('.rz-body, html').forEach(e => e.scrollTo(0, 0))");
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        Assert.True(new FileInfo(path).Length > 0, path);
    }
}
