using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using WebConsole.Domain.Usage;
using WebConsole.E2E.Infrastructure;
using Xunit.Abstractions;

namespace WebConsole.E2E.Playground;

/// <summary>
/// The playground in headless Chromium against a real server: an answer grows token by token, Stop cuts it mid-stream and
/// the usage figures show what was billed; a finished answer shows its metrics; a saved conversation is listed and counts
/// as a reference of its endpoint; no console errors, at desktop and phone sizes.
/// </summary>
[Collection(PlaygroundCollection.Name)]
public sealed class PlaygroundPageTests(PlaygroundServer fixture, BrowserFixture browser, ITestOutputHelper output)
{
    private static readonly LocatorAssertionsToHaveAttributeOptions Wait = new() { Timeout = 30_000 };

    [Fact]
    public async Task A_prompt_streams_in_steps_Stop_cuts_it_with_the_usage_shown_and_a_saved_conversation_references_its_endpoint()
    {
        var known = await fixture.KnownRequestsAsync();
        var (page, errors) = await browser.NewSignedInPageAsync(fixture.Server.BaseAddress, ServerFixture.OperatorEmail, ServerFixture.OperatorPassword);
        await page.SetViewportSizeAsync(1280, 800);
        await page.GotoAsync("/playground");
        await Assertions.Expect(page.GetByTestId("layout")).ToHaveAttributeAsync("data-interactive", "true", Wait);
        var pane = page.GetByTestId("pane").First;

        // The slow decoder with a large output cap: the answer is watched while it grows, then stopped.
        await page.GetByTestId("endpoint-select").SelectOptionAsync(PlaygroundServer.SlowChat);
        await page.GetByTestId("max-tokens").FillAsync("1900");
        await page.GetByTestId("system-prompt").FillAsync("Answer briefly.");
        await page.GetByTestId("prompt").FillAsync("Tell me a story about the sea.");
        await page.GetByTestId("send").ClickAsync();
        await Assertions.Expect(pane).ToHaveAttributeAsync("data-streaming", "true", Wait);

        var answer = pane.GetByTestId("answer").Last;
        var seen = new List<int>();
        var clock = Stopwatch.StartNew();
        while (seen.Count < 4 && clock.Elapsed < TimeSpan.FromSeconds(40))
        {
            var length = (await answer.InnerTextAsync()).Length;
            if (length > 0 && (seen.Count == 0 || length > seen[^1]))
            {
                seen.Add(length);
            }

            await Task.Delay(150);
        }

        output.WriteLine($"answer lengths seen while streaming: {string.Join(", ", seen)}");
        Assert.True(seen.Count >= 4, $"the answer grew in {seen.Count} steps");
        Assert.Equal("true", await pane.GetAttributeAsync("data-streaming"));
        await Assertions.Expect(pane.GetByTestId("ttft")).Not.ToHaveTextAsync("—");
        await Screenshot(page, "playground-streaming-1280x800");

        await page.GetByTestId("stop").ClickAsync();
        await Assertions.Expect(pane).ToHaveAttributeAsync("data-streaming", "false", Wait);
        await Assertions.Expect(pane.GetByTestId("stream-status")).ToHaveTextAsync("stopped");
        var outputTokens = long.Parse(await pane.GetByTestId("output-tokens").InnerTextAsync(), CultureInfo.InvariantCulture);
        var inputTokens = long.Parse(await pane.GetByTestId("input-tokens").InnerTextAsync(), CultureInfo.InvariantCulture);
        var cost = decimal.Parse(await pane.GetByTestId("cost").InnerTextAsync(), CultureInfo.InvariantCulture);
        output.WriteLine($"stopped: {inputTokens} input, {outputTokens} output tokens, cost {cost}");
        Assert.InRange(outputTokens, 4, 1899);
        Assert.True(inputTokens > 0 && cost > 0);

        // The figures shown are the ledger's: the portal's stream was billed, as cancelled, for exactly these tokens.
        var billed = await fixture.WaitForRecordAsync(PlaygroundServer.SlowChat, known, r => r.Outcome != UsageOutcome.InProgress);
        Assert.Equal((Surface.Portal, UsageOutcome.Cancelled, inputTokens, outputTokens, cost),
            (billed.Surface, billed.Outcome, billed.InputTokens, billed.OutputTokens, billed.Cost));

        // A whole answer on the fast endpoint: it ends by itself with its metrics.
        await page.GetByTestId("new-conversation").ClickAsync();
        await page.GetByTestId("endpoint-select").SelectOptionAsync(PlaygroundServer.Chat);
        await page.GetByTestId("max-tokens").FillAsync("8");
        await page.GetByTestId("prompt").FillAsync("Say hello.");
        await page.GetByTestId("send").ClickAsync();
        await Assertions.Expect(pane.GetByTestId("stream-status")).ToHaveTextAsync("done", new() { Timeout = 30_000 });
        await Assertions.Expect(pane.GetByTestId("tokens-per-second")).Not.ToHaveTextAsync("—");

        // Regenerate replaces the answer; edit-and-resend replaces the prompt and what followed it.
        var messages = pane.GetByTestId("message");
        await page.GetByTestId("regenerate").ClickAsync();
        await Assertions.Expect(messages).ToHaveCountAsync(2);
        await Assertions.Expect(pane).ToHaveAttributeAsync("data-streaming", "false", Wait);
        await pane.GetByTestId("edit-message").ClickAsync();
        await pane.GetByTestId("edit-text").FillAsync("Say hello again.");
        await pane.GetByTestId("resend").ClickAsync();
        await Assertions.Expect(pane.GetByTestId("user-text")).ToHaveTextAsync("Say hello again.");
        await Assertions.Expect(messages).ToHaveCountAsync(2);
        await Assertions.Expect(pane).ToHaveAttributeAsync("data-streaming", "false", Wait);
        await Assertions.Expect(pane.GetByTestId("stream-status")).ToHaveTextAsync("done");
        Assert.NotEmpty(await pane.GetByTestId("answer").Last.InnerTextAsync());

        // View code shows the same request for each client.
        await page.GetByTestId("view-code").ClickAsync();
        foreach (var tab in new[] { "curl", "Elasticsearch client", "OpenAI client", "SignalR client" })
        {
            await page.GetByTestId("code-tab").Filter(new() { HasText = tab }).ClickAsync();
            await Assertions.Expect(page.GetByTestId("code-sample")).ToContainTextAsync(PlaygroundServer.Chat);
        }

        // Saved, listed, and a reference of its endpoint in the delete dry run.
        await page.GetByTestId("save-conversation").ClickAsync();
        await Assertions.Expect(page.GetByTestId("conversation-item")).ToHaveCountAsync(1, new() { Timeout = 15_000 });
        using (var client = fixture.Server.CreateApiKeyClient())
        {
            using var dryRun = await client.DeleteAsync($"/_inference/chat_completion/{PlaygroundServer.Chat}?dry_run=true");
            var body = JsonNode.Parse(await dryRun.Content.ReadAsStringAsync())!;
            output.WriteLine(body.ToJsonString());
            Assert.Equal("Say hello again.", (string?)body["conversations"]?[0]);
        }

        // Compare mode: the same prompt against the fast and the slow chat endpoint, side by side.
        await page.GetByTestId("compare-toggle").CheckAsync();
        await page.GetByTestId("compare-select").SelectOptionAsync(PlaygroundServer.SlowChat);
        await page.GetByTestId("prompt").FillAsync("And now a poem.");
        await page.GetByTestId("send").ClickAsync();
        var panes = page.GetByTestId("pane");
        await Assertions.Expect(panes).ToHaveCountAsync(2);
        await Assertions.Expect(panes.Nth(1).GetByTestId("stream-status")).ToHaveTextAsync("done", new() { Timeout = 30_000 });
        await Assertions.Expect(panes.Nth(0).GetByTestId("message")).ToHaveCountAsync(4);
        await Assertions.Expect(panes.Nth(0)).ToHaveAttributeAsync("data-streaming", "false", Wait);
        await Assertions.Expect(panes.Nth(0).GetByTestId("stream-status")).ToHaveTextAsync("done");
        Assert.NotEmpty(await panes.Nth(1).GetByTestId("answer").Last.InnerTextAsync());
        await Screenshot(page, "playground-compare-1280x800");

        await page.SetViewportSizeAsync(390, 844);
        await Screenshot(page, "playground-390x844");
        Assert.Empty(errors);
    }

    private static async Task Screenshot(IPage page, string name)
    {
        var folder = Environment.GetEnvironmentVariable("WEBCONSOLE_TEST_ARTIFACTS") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Tests.Shared.TestEnvironment.RepositoryRoot, "artifacts", "screenshots");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name + ".png"), FullPage = true });
    }
}
