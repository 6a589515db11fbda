using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Playwright;
using WebConsole.E2E.Infrastructure;
using WebConsole.Web.Components;

namespace WebConsole.E2E.Portal;

/// <summary>
/// The portal as a new operator uses it, in Chromium against the real server: a key created and used, the usage page
/// filling without a reload, the CSV export, the audit log, an EOL warning, and every page at desktop and phone sizes.
/// </summary>
public sealed class UsageAndKeysPageTests(PortalServer fixture, BrowserFixture browser) : IClassFixture<PortalServer>, IClassFixture<BrowserFixture>
{
    private static readonly LocatorAssertionsToHaveAttributeOptions Wait = new() { Timeout = 30_000 };
    private static readonly LocatorAssertionsToHaveTextOptions WaitForText = new() { Timeout = 30_000 };

    [Fact]
    public async Task A_key_made_in_the_portal_fills_the_usage_charts_live_exports_as_csv_and_is_audited_and_invalidated()
    {
        var (page, errors) = await SignInAsync();
        await GoToSectionAsync(page, PortalSections.Teams);

        // Create a key: the secret is shown once.
        await page.GetByTestId("create-key").ClickAsync();
        await page.GetByTestId("key-name").FillAsync("usage-e2e");
        await page.GetByTestId("key-endpoints").FillAsync(PortalServer.Endpoint);
        await page.GetByTestId("create-key-submit").ClickAsync();
        var encoded = await page.GetByTestId("created-key-encoded").InputValueAsync();
        var keyId = await page.GetByTestId("created-key-id").InnerTextAsync();
        await page.GetByTestId("created-key-done").ClickAsync();
        var row = page.Locator($"[data-testid=key-row][data-key-id='{keyId}']");
        await Assertions.Expect(row).ToHaveAttributeAsync("data-state", "active", Wait);
        await Assertions.Expect(row.GetByTestId("key-allowed")).ToHaveTextAsync(PortalServer.Endpoint);
        await Assertions.Expect(row.GetByTestId("key-budget")).ToHaveTextAsync("no budget");

        // The usage page, reached in the app (no reload from here on), before any request of this key.
        await GoToSectionAsync(page, PortalSections.Usage);
        var totals = page.GetByTestId("usage-totals");
        await Assertions.Expect(totals).Not.ToHaveAttributeAsync("data-refresh-count", "0", Wait);
        await Assertions.Expect(page.GetByTestId("usage-tokens-chart")).ToHaveAttributeAsync("data-bucket-count", "24");
        var before = long.Parse(await totals.GetAttributeAsync("data-requests") ?? "0", CultureInfo.InvariantCulture);

        using (var client = fixture.Server.CreateApiKeyClient(encoded))
        {
            foreach (var input in new[] { "one small request", "a second request to count", "third" })
            {
                using var response = await client.PostAsJsonAsync($"/_inference/text_embedding/{PortalServer.Endpoint}", new { input });
                Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            }
        }

        // The page follows the ledger by itself.
        await Assertions.Expect(totals).ToHaveAttributeAsync("data-requests", (before + 3).ToString(CultureInfo.InvariantCulture), Wait);
        Assert.NotEqual("0", await page.GetByTestId("usage-tokens-chart").GetAttributeAsync("data-tokens"));
        await Assertions.Expect(page.GetByTestId("usage-tokens-chart").Locator("svg").First).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator($"[data-testid=usage-group][data-key='{PortalServer.Model}']")).ToBeVisibleAsync();

        // By key: the key's name, not only its id.
        await page.GetByTestId("usage-dimension").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "API key", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("usage-breakdown")).ToHaveAttributeAsync("data-dimension", "key", Wait);
        await Assertions.Expect(page.Locator($"[data-testid=usage-group][data-key='{keyId}']")).ToContainTextAsync("usage-e2e");

        // The CSV export: a header, this key's three rows, the billing dimension on every line.
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("usage-export").ClickAsync());
        var csv = await File.ReadAllTextAsync(await download.PathAsync());
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0].Split(',');
        Assert.Equal("billing_dimension", header[^1]);
        Assert.All(lines.Skip(1), line => Assert.EndsWith(",Inference", line, StringComparison.Ordinal));
        var keyColumn = Array.IndexOf(header, "api_key_id");
        Assert.Equal(3, lines.Skip(1).Count(line => line.Split(',')[keyColumn] == keyId));

        // Back to the key: its creation is in the audit log; invalidating it refuses it and is audited too.
        await GoToSectionAsync(page, PortalSections.Teams);
        await Assertions.Expect(page.Locator($"[data-testid=audit-row][data-action='api_key.create'][data-resource-id='{keyId}']")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await row.GetByTestId("invalidate-key").ClickAsync();
        await page.Locator(".rz-dialog").GetByRole(AriaRole.Button, new() { Name = "Invalidate key" }).ClickAsync();
        await Assertions.Expect(row).ToHaveAttributeAsync("data-state", "invalidated", Wait);
        await page.GetByTestId("audit-action").Locator("input").Or(page.Locator("input#audit-action")).First.FillAsync("api_key.*");
        await page.GetByTestId("audit-apply").ClickAsync();
        await Assertions.Expect(page.Locator($"[data-testid=audit-row][data-action='api_key.invalidate'][data-resource-id='{keyId}']")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator("[data-testid=audit-row]:not([data-action^='api_key.'])")).ToHaveCountAsync(0);
        using (var client = fixture.Server.CreateApiKeyClient(encoded))
        {
            using var refused = await client.PostAsJsonAsync($"/_inference/text_embedding/{PortalServer.Endpoint}", new { input = "after" });
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_catalog_model_whose_end_of_life_is_within_90_days_is_shown_as_a_warning_with_its_countdown()
    {
        // The fixture moved this model's end of life to 30 days from its start (as a newer catalog.json would).
        const string CatalogId = PortalServer.EolSoonModel;
        var (page, errors) = await SignInAsync();
        await GoToSectionAsync(page, PortalSections.Catalog);
        var row = page.Locator($"[data-testid=catalog-row][data-catalog-id='{CatalogId}']");

        // The catalog is re-read within its refresh interval; the page shows what it read when it opened.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await row.GetAttributeAsync("data-eol-state") != "warning" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(1000);
            await page.ReloadAsync();
            await Assertions.Expect(page.GetByTestId("layout")).ToHaveAttributeAsync("data-interactive", "true", Wait);
        }

        await Assertions.Expect(row).ToHaveAttributeAsync("data-eol-state", "warning");
        var countdown = row.GetByTestId("catalog-eol-countdown");
        var daysLeft = fixture.EolSoonDate.DayNumber - DateOnly.FromDateTime(DateTime.UtcNow).DayNumber;
        await Assertions.Expect(countdown).ToHaveTextAsync($"{daysLeft} days left");
        Assert.Contains("warning", await countdown.GetAttributeAsync("style") ?? string.Empty, StringComparison.Ordinal);
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Every_page_works_at_desktop_and_phone_sizes_without_console_errors_overflow_or_unlabelled_controls()
    {
        // Both sizes at once, each in its own browser context, to keep the test short.
        var problems = await Task.WhenAll(VisitEveryPageAsync(1280, 800), VisitEveryPageAsync(390, 844));

        var all = problems.SelectMany(p => p).ToList();
        Assert.True(all.Count == 0, string.Join('\n', all));
    }

    private async Task<List<string>> VisitEveryPageAsync(int width, int height)
    {
        var problems = new List<string>();
        var (page, errors) = await SignInAsync();
        await page.SetViewportSizeAsync(width, height);
        foreach (var section in PortalSections.All)
        {
            await page.GotoAsync("/" + section.Path);
            await Assertions.Expect(page.GetByTestId("layout")).ToHaveAttributeAsync("data-interactive", "true", Wait);
            await Assertions.Expect(page.Locator("h1").First).ToHaveTextAsync(section.Title, WaitForText);
            var name = $"{(section.Path.Length == 0 ? "overview" : section.Path)}-{width}x{height}";
            await page.ScreenshotAsync(new() { Path = TestArtifacts.ScreenshotPath(name), FullPage = true });

            var overflow = await page.EvaluateAsync<int>("document.documentElement.scrollWidth - window.innerWidth");
            if (overflow > 1)
            {
                problems.Add($"{name}: {overflow}px wider than the window");
            }

            var unlabelled = await page.EvaluateAsync<string[]>(UnlabelledControlsScript);
            problems.AddRange(unlabelled.Select(control => $"{name}: control without a label: {control}"));

            // The keyboard reaches the page's controls: Tab moves the focus onto something focusable.
            await page.Locator("body").FocusAsync();
            await page.Keyboard.PressAsync("Tab");
            var focused = await page.EvaluateAsync<string>("document.activeElement ? document.activeElement.tagName : ''");
            if (focused is "" or "BODY")
            {
                problems.Add($"{name}: Tab focuses nothing");
            }
        }

        lock (errors)
        {
            problems.AddRange(errors.Select(e => $"{width}x{height}: browser error: {e}"));
        }

        await page.Context.CloseAsync();
        return problems;
    }

    // Visible inputs, selects, text areas and buttons that a screen reader could not name.
    private const string UnlabelledControlsScript = """
        () => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button, [role=combobox], [role=button]')]
          .filter(e => e.offsetParent !== null && !e.closest('[aria-hidden=true]'))
          .filter(e => {
            const text = (e.getAttribute('aria-label') || e.getAttribute('title') || e.innerText || e.value || '').trim();
            const labelledBy = e.getAttribute('aria-labelledby');
            const label = e.id && document.querySelector(`label[for="${CSS.escape(e.id)}"]`);
            const wrapped = e.closest('label');
            return !text && !labelledBy && !label && !wrapped && !(e.type === 'submit' || e.type === 'button' ? e.value : '');
          })
          .map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${[...e.classList].join('.')} in ${e.closest('[data-testid]')?.getAttribute('data-testid') ?? 'page'}`)
        """;

    private async Task<(IPage Page, List<string> Errors)> SignInAsync() =>
        await browser.NewSignedInPageAsync(fixture.Server.BaseAddress, ServerFixture.OperatorEmail, ServerFixture.OperatorPassword);

    private static async Task GoToSectionAsync(IPage page, PortalSection section)
    {
        await page.GetByTestId("nav").GetByText(section.Title, new LocatorGetByTextOptions { Exact = true }).ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath == "/" + section.Path, new() { WaitUntil = WaitUntilState.Commit });
        await Assertions.Expect(page.Locator("h1").First).ToHaveTextAsync(section.Title, WaitForText);
    }
}
