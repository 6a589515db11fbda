using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using WebConsole.E2E.Infrastructure;
using WebConsole.Infrastructure.Models;
using WebConsole.TestModels;
using WebConsole.Tests.Hub;

namespace WebConsole.E2E.Portal;

/// <summary>
/// The models page in Chromium: a built-in model downloaded from a throttled loopback hub with its progress shown live,
/// deletion past the endpoints that use a model, imports, and the read-only view of a user who is not an operator.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed partial class ModelsPageTests(ServerFixture shared, BrowserFixture browser)
{
    private const string EmbedderRepository = "test-org/e5-export";
    private const string BuiltIn = ".multilingual-e5-small";
    private static readonly LocatorAssertionsToHaveAttributeOptions Wait = new() { Timeout = 30_000 };

    [Fact]
    public async Task An_operator_watches_a_download_progress_live_deletes_past_the_endpoint_conflict_and_imports_a_model()
    {
        var repository = await TestModelStore.GetAsync(TestModelKind.BertMeanPooling);
        await using var hub = await FakeHubServer.StartAsync(new Dictionary<string, string> { [EmbedderRepository] = repository });
        var settings = ServerFixture.Settings.ToDictionary();
        settings["Inference:Hub:BaseUrl"] = hub.BaseUrl;
        settings[$"Inference:BuiltInModels:{BuiltIn}:Repository"] = EmbedderRepository;
        await using var server = await WebConsoleServer.StartAsync(settings);
        var modelBytes = Directory.EnumerateFiles(repository, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        hub.Throttle(Math.Max(200_000, modelBytes / 4));

        var (page, errors) = await browser.NewSignedInPageAsync(server.BaseAddress, ServerFixture.OperatorEmail, ServerFixture.OperatorPassword);
        await OpenModelsPageAsync(page);
        var row = Row(page, BuiltIn);
        await Assertions.Expect(row).ToHaveAttributeAsync("data-state", "absent", Wait);
        await Assertions.Expect(page.GetByTestId("model-sizes")).ToHaveCountAsync(0);

        // A marker in the page's JavaScript state: it survives only if the page is never reloaded.
        await page.EvaluateAsync("() => { window.__modelsPageMarker = 'kept'; }");
        await row.GetByTestId("download-model").ClickAsync();

        // Sampled while the (throttled, about four seconds) download runs: the bar's percent and the rate/ETA line.
        var samples = new List<(double Percent, string Text)>();
        var clock = Stopwatch.StartNew();
        string? state = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var sample = await page.EvaluateAsync<string[]?>(
                """
                id => {
                    const row = [...document.querySelectorAll('[data-testid=model-row]')].find(r => r.dataset.modelId === id);
                    if (!row) return null;
                    const progress = row.querySelector('[data-testid=model-progress]');
                    const rate = row.querySelector('[data-testid=model-rate]');
                    return [row.dataset.state, progress ? progress.dataset.percent : '', rate ? rate.textContent : ''];
                }
                """,
                BuiltIn);
            state = sample?[0];
            if (state == "downloaded")
            {
                break;
            }

            if (sample is [_, { Length: > 0 } percent, var text])
            {
                samples.Add((double.Parse(percent, CultureInfo.InvariantCulture), text));
            }

            await Task.Delay(100);
        }

        Assert.Equal("downloaded", state);
        var percents = samples.Select(s => s.Percent).ToList();
        Assert.True(percents.Distinct().Count() >= 3, $"the percent should rise in steps: {string.Join(", ", percents)}");
        Assert.True(percents.Zip(percents.Skip(1)).All(p => p.Second >= p.First), $"the percent went back: {string.Join(", ", percents)}");
        Assert.True(percents[^1] > percents[0], string.Join(", ", percents));
        Assert.Contains(samples, s => RateAndEta().IsMatch(s.Text));

        // Done without a reload: the bar is gone, the size is on the row and in the chart, and Delete replaces Download.
        Assert.Equal("kept", await page.EvaluateAsync<string>("() => window.__modelsPageMarker"));
        await Assertions.Expect(row.GetByTestId("model-progress")).ToHaveCountAsync(0);
        await Assertions.Expect(row.GetByTestId("model-size")).ToHaveTextAsync(new Regex(@"^\d+\.\d MB$"));
        await Assertions.Expect(page.GetByTestId("model-sizes")).ToHaveAttributeAsync("data-model-count", "1", Wait);
        await Assertions.Expect(row.GetByTestId("download-model")).ToHaveCountAsync(0);

        // An endpoint uses the model: deleting it is refused with the conflict, and goes through when forced.
        using (var client = server.CreateApiKeyClient())
        {
            using var created = await client.PutAsJsonAsync("/_inference/text_embedding/models-page-e5", new
            {
                service = "elasticsearch",
                service_settings = new { model_id = BuiltIn, num_allocations = 1, num_threads = 1 },
            });
            Assert.True(created.StatusCode == HttpStatusCode.OK, await created.Content.ReadAsStringAsync());
        }

        await row.GetByTestId("delete-model").ClickAsync();
        await page.Locator(".rz-dialog").GetByRole(AriaRole.Button, new() { Name = "Delete model" }).ClickAsync();
        var conflict = page.GetByTestId("delete-conflict");
        await Assertions.Expect(conflict).ToContainTextAsync("models-page-e5");
        await Assertions.Expect(row).ToHaveAttributeAsync("data-state", "downloaded");
        await conflict.GetByTestId("delete-force").ClickAsync();
        await Assertions.Expect(row).ToHaveAttributeAsync("data-state", "absent", Wait);
        await Assertions.Expect(conflict).ToHaveCountAsync(0);
        await Assertions.Expect(row.GetByTestId("download-model")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("model-sizes")).ToHaveCountAsync(0);

        // Import: a reserved id is refused inside the dialog; a valid one closes it and the new row arrives downloaded.
        hub.Throttle(0);
        await page.GetByTestId("import-model").ClickAsync();
        await page.GetByTestId("import-model-id").FillAsync(".mine");
        await page.GetByTestId("import-model-repository").FillAsync(EmbedderRepository);
        await page.GetByTestId("import-model-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("import-model-error")).ToContainTextAsync("reserved for built-in models");
        await page.GetByTestId("import-model-id").FillAsync("team/e5-copy");
        await page.GetByTestId("import-model-submit").ClickAsync();
        await Assertions.Expect(page.GetByTestId("import-model-form")).ToHaveCountAsync(0);
        var imported = Row(page, "team/e5-copy");
        await Assertions.Expect(imported).ToHaveAttributeAsync("data-state", "downloaded", Wait);
        await Assertions.Expect(imported.GetByTestId("model-source")).ToHaveTextAsync("imported, hub");
        await Assertions.Expect(imported).ToContainTextAsync("text_embedding");
        Assert.Equal("kept", await page.EvaluateAsync<string>("() => window.__modelsPageMarker"));
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_member_sees_every_built_in_model_with_its_description_and_no_operator_actions()
    {
        const string email = "models-reader@e2e.test";
        const string oneTime = "models-reader-one-time-1";
        const string chosen = "models-reader-password-1";
        using (var client = shared.Server.CreateApiKeyClient())
        {
            using var team = await client.PostAsJsonAsync("/api/teams", new { name = "models-readers" });
            var body = await team.Content.ReadAsStringAsync();
            Assert.True(team.StatusCode == HttpStatusCode.Created, body);
            var teamId = JsonNode.Parse(body)!["id"]!.GetValue<string>();
            using var member = await client.PostAsJsonAsync($"/api/teams/{teamId}/members", new { email, role = "member", password = oneTime });
            Assert.True(member.StatusCode == HttpStatusCode.OK, await member.Content.ReadAsStringAsync());
        }

        // First sign-in with the admin's one-time password: choose one's own, then land on the models page.
        var (page, errors) = await browser.NewPageAsync(shared.Server.BaseAddress);
        await page.GotoAsync("/models");
        await page.WaitForURLAsync("**/account/signin?**");
        await BrowserFixture.SignInAsync(page, email, oneTime);
        await page.WaitForURLAsync("**/account/password?**");
        await page.GetByTestId("password-current").FillAsync(oneTime);
        await page.GetByTestId("password-new").FillAsync(chosen);
        await page.GetByTestId("password-confirm").FillAsync(chosen);
        await page.GetByTestId("password-submit").ClickAsync();
        await page.WaitForURLAsync("**/models");
        await Assertions.Expect(page.GetByTestId("layout")).ToHaveAttributeAsync("data-interactive", "true", Wait);

        await Assertions.Expect(page.GetByTestId("models-grid")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        foreach (var model in BuiltInModels.Defaults)
        {
            var row = Row(page, model.Id);
            await Assertions.Expect(row.GetByTestId("model-description")).ToHaveTextAsync(model.Description);
            await Assertions.Expect(row.GetByTestId("model-source"))
                .ToHaveTextAsync(model.IsLocal ? "built-in, local build" : "built-in, hub");
        }

        await Assertions.Expect(page.GetByTestId("models-read-only")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("download-model")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByTestId("delete-model")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByTestId("import-model")).ToHaveCountAsync(0);
        Assert.Empty(errors);
    }

    private static async Task OpenModelsPageAsync(IPage page)
    {
        await page.GetByTestId("nav").GetByText("Models", new LocatorGetByTextOptions { Exact = true }).ClickAsync();
        await page.WaitForURLAsync("**/models");
        await Assertions.Expect(page.GetByTestId("models-grid")).ToBeVisibleAsync(new() { Timeout = 30_000 });
    }

    private static ILocator Row(IPage page, string modelId) => page.Locator($"[data-testid=model-row][data-model-id='{modelId}']");

    // "1.2 of 4.8 MB · 0.9 MB/s · 4 s left · onnx/model.onnx"
    [GeneratedRegex(@"\d+\.\d MB/s · \d+ (s|min \d+ s) left")]
    private static partial Regex RateAndEta();
}
