using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using WebConsole.Domain.Usage;
using WebConsole.E2E.Infrastructure;
using WebConsole.E2E.Inference;
using WebConsole.E2E.Playground;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.Sqlite;
using WebConsole.TestModels;
using WebConsole.TestModels.Decoder;
using WebConsole.Web.Apis.Playground;
using Xunit.Abstractions;

namespace WebConsole.E2E.Reliability;

/// <summary>
/// Allocations crashing mid-request, on real ONNX Runtime: two broken exports whose config.json declares more positions
/// than their graphs hold, so ONNX Runtime fails inside a run (a decoder at sequence position
/// <see cref="DecoderTestModels.CrashPosition"/>, mid-stream; an encoder on an input longer than its position table). The
/// request in flight fails in its surface's shape naming the model, what was produced is billed and nothing more, the
/// crashed allocation is replaced (the stats count the failure) and the next request is served; other endpoints never stop.
/// </summary>
public sealed class AllocationCrashTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string ChatModel = "crash-chat";
    private const string EmbedModel = "crash-embedder";
    private const string SteadyModel = "steady-embedder";

    private readonly string _models = Path.Combine(Path.GetTempPath(), "webconsole-crash-models-" + Guid.NewGuid().ToString("N"));
    private WebConsoleServer? _server;

    public async Task InitializeAsync()
    {
        // A copy of the generated BERT whose configuration claims 2,048 positions while the graph's table has 512.
        var bert = await TestModelStore.GetAsync(TestModelKind.BertMeanPooling);
        var broken = Path.Combine(_models, "bert-long-claims");
        Folders.Copy(bert, broken);
        Patch(Path.Combine(broken, "config.json"), "max_position_embeddings", 2048);
        Patch(Path.Combine(broken, "tokenizer_config.json"), "model_max_length", 2048);

        var settings = ServerFixture.Settings.ToDictionary();
        settings[$"Inference:Models:{ChatModel}:Path"] = await DecoderTestModels.GetAsync(DecoderVariant.Qwen3CrashingMidStream);
        settings[$"Inference:Models:{EmbedModel}:Path"] = broken;
        settings[$"Inference:Models:{SteadyModel}:Path"] = bert;
        _server = await WebConsoleServer.StartAsync(settings);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Directory.Delete(_models, recursive: true);
    }

    [Fact]
    public async Task A_decoder_allocation_crashing_mid_stream_ends_the_stream_with_an_error_bills_what_it_produced_and_is_replaced()
    {
        using var client = _server!.CreateApiKeyClient();
        await CreateAsync(client, "chat_completion", "ep-crash-chat", ChatModel);
        await CreateAsync(client, "text_embedding", "ep-steady", SteadyModel);
        using (var price = await client.PostAsJsonAsync("/api/prices", new { model_id = ChatModel, input_per_million = 1m, output_per_million = 2m }))
        {
            Assert.True(price.IsSuccessStatusCode, await price.Content.ReadAsStringAsync());
        }

        // Over SSE: tokens arrive, then the graph fails at the crash position and the stream ends with an error event.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/_inference/chat_completion/ep-crash-chat/_stream")
        {
            Content = InferenceApiServer.Json(new { messages = new[] { new { role = "user", content = "Tell me a story about the sea." } }, max_completion_tokens = 500, temperature = 0 }),
        };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        var events = ServerSentEventsOf(text);
        var deltas = events.Count(e => e.Name == "message" && e.Data.Contains("\"content\"", StringComparison.Ordinal));
        var error = Assert.Single(events, e => e.Name == "error");
        Assert.Equal("error", events[^1].Name);
        Assert.True(deltas >= 5, $"{deltas} deltas before the crash: {text[..Math.Min(text.Length, 2000)]}");
        var envelope = JsonNode.Parse(error.Data)!;
        Assert.Equal(503, envelope["status"]!.GetValue<int>());
        Assert.Contains(ChatModel, envelope["error"]!["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        output.WriteLine($"SSE: {deltas} deltas, then {error.Data}");

        // One record, failed, billing the prompt and the tokens produced before the crash (no more than the graph could make).
        var record = await SingleRecordAsync("ep-crash-chat", r => r.Outcome != UsageOutcome.InProgress);
        Assert.Equal(UsageOutcome.Failed, record.Outcome);
        Assert.InRange(record.OutputTokens, deltas, DecoderTestModels.CrashPosition);
        Assert.InRange(record.InputTokens + record.OutputTokens, DecoderTestModels.CrashPosition - 2, DecoderTestModels.CrashPosition + 1);
        Assert.Equal(((record.InputTokens * 1m) + (record.OutputTokens * 2m)) / 1_000_000m, record.Cost);

        // The allocation was replaced: the failure is counted, and a short request (within the graph's table) is served.
        var stats = await DeploymentStatsAsync(client, "ep-crash-chat");
        Assert.True(stats["allocation_failure_count"]!.GetValue<long>() >= 1, stats.ToJsonString());
        Assert.Contains("crashed", stats["last_allocation_failure"]!.GetValue<string>(), StringComparison.Ordinal);
        using (var shortChat = await client.PostAsync("/_inference/chat_completion/ep-crash-chat",
            InferenceApiServer.Json(new { messages = new[] { new { role = "user", content = "Hi" } }, max_completion_tokens = 4, temperature = 0 })))
        {
            Assert.True(shortChat.StatusCode == HttpStatusCode.OK, await shortChat.Content.ReadAsStringAsync());
        }

        // Over the SignalR hub: the same crash is a typed hub error after the first items.
        await using (var connection = await HubClients.ConnectWithKeyAsync(_server.BaseAddress, ServerFixture.BootstrapApiKey))
        {
            var items = 0;
            var hubError = await Assert.ThrowsAsync<HubException>(async () =>
            {
                await foreach (var item in connection.StreamAsync<ChatStreamChunk>("StreamChat", new ChatStreamRequest
                {
                    InferenceId = "ep-crash-chat",
                    Messages = [new ChatStreamMessage("user", "Tell me a story about the sea.")],
                    MaxCompletionTokens = 500,
                    Temperature = 0,
                }))
                {
                    items++;
                }
            });
            var typed = ChatStreamError.Parse(hubError.Message) ?? throw new Xunit.Sdk.XunitException($"not a typed error: {hubError.Message}");
            Assert.Equal(503, typed.Status);
            Assert.Contains(ChatModel, typed.Reason, StringComparison.Ordinal);
            Assert.True(items >= 5, $"{items} items before the crash");
        }

        // The other endpoint never stopped, and the crashed one is served again.
        using (var steady = await client.PostAsync("/_inference/text_embedding/ep-steady", InferenceApiServer.Json(new { input = "still serving" })))
        {
            Assert.Equal(HttpStatusCode.OK, steady.StatusCode);
        }

        stats = await DeploymentStatsAsync(client, "ep-crash-chat");
        Assert.True(stats["allocation_failure_count"]!.GetValue<long>() >= 2, stats.ToJsonString());
        using (var again = await client.PostAsync("/_inference/chat_completion/ep-crash-chat",
            InferenceApiServer.Json(new { messages = new[] { new { role = "user", content = "Hi again" } }, max_completion_tokens = 4, temperature = 0 })))
        {
            Assert.True(again.StatusCode == HttpStatusCode.OK, await again.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task An_encoder_allocation_crashing_on_a_batch_fails_that_request_clearly_bills_nothing_and_the_next_is_served()
    {
        using var client = _server!.CreateApiKeyClient();
        await CreateAsync(client, "text_embedding", "ep-crash-embed", EmbedModel);
        await CreateAsync(client, "text_embedding", "ep-steady-2", SteadyModel);
        using (var warm = await client.PostAsync("/_inference/text_embedding/ep-crash-embed", InferenceApiServer.Json(new { input = "warm up" })))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        var billed = await RecordCountAsync("ep-crash-embed");
        var failuresBefore = (await DeploymentStatsAsync(client, "ep-crash-embed"))["allocation_failure_count"]!.GetValue<long>();

        // 700 tokens fit the declared 2,048 positions but not the graph's 512-row table: ONNX Runtime fails inside the run.
        var longInput = string.Join(' ', Enumerable.Repeat("harbour", 700));
        var crashing = client.PostAsync("/_inference/text_embedding/ep-crash-embed", InferenceApiServer.Json(new { input = longInput }));
        var others = Enumerable.Range(0, 4).Select(i => client.PostAsync("/_inference/text_embedding/ep-steady-2", InferenceApiServer.Json(new { input = $"steady {i}" }))).ToList();
        using (var response = await crashing)
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            var envelope = JsonNode.Parse(text)!;
            Assert.Equal(503, envelope["status"]!.GetValue<int>());
            Assert.Contains(EmbedModel, envelope["error"]!["reason"]!.GetValue<string>(), StringComparison.Ordinal);
            output.WriteLine(text);
        }

        foreach (var other in others)
        {
            using var answer = await other;
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        // Replaced and serving; the failed request cost nothing.
        var stats = await DeploymentStatsAsync(client, "ep-crash-embed");
        Assert.Equal(failuresBefore + 1, stats["allocation_failure_count"]!.GetValue<long>());
        using (var next = await client.PostAsync("/_inference/text_embedding/ep-crash-embed", InferenceApiServer.Json(new { input = "a short one" })))
        {
            Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        }

        Assert.Equal(billed + 1, await RecordCountAsync("ep-crash-embed"));
    }

    private static async Task CreateAsync(HttpClient client, string taskType, string id, string model)
    {
        using var created = await client.PutAsJsonAsync($"/_inference/{taskType}/{id}", new
        {
            service = "elasticsearch",
            service_settings = new { model_id = model, num_allocations = 1, num_threads = 1 },
        });
        Assert.True(created.IsSuccessStatusCode, $"{id}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
    }

    private static async Task<JsonNode> DeploymentStatsAsync(HttpClient client, string deploymentId)
    {
        var stats = JsonNode.Parse(await client.GetStringAsync($"/_ml/trained_models/_all/_stats"))!["trained_model_stats"]!.AsArray();
        return stats.Select(s => s!["deployment_stats"]).Single(d => d?["deployment_id"]?.GetValue<string>() == deploymentId)!;
    }

    private async Task<UsageRecord> SingleRecordAsync(string endpointId, Func<UsageRecord, bool> settled)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var records = (await RecordsAsync()).Where(r => r.InferenceId == endpointId).ToList();
            if ((records.Count == 1 && settled(records[0])) || DateTime.UtcNow > deadline)
            {
                return Assert.Single(records);
            }

            await Task.Delay(100);
        }
    }

    private async Task<int> RecordCountAsync(string endpointId) => (await RecordsAsync()).Count(r => r.InferenceId == endpointId);

    private async Task<List<UsageRecord>> RecordsAsync()
    {
        var options = new DbContextOptionsBuilder<WebConsoleDbContext>();
        SqliteDatabase.Configure(options, SqliteDatabase.DefaultConnectionString(_server!.DataDirectory));
        await using var context = new WebConsoleDbContext(options.Options);
        return await context.UsageRecords.AsNoTracking().ToListAsync();
    }

    private static List<(string Name, string Data)> ServerSentEventsOf(string text) =>
        [.. text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(block =>
        {
            var lines = block.Split('\n');
            var name = lines.FirstOrDefault(l => l.StartsWith("event: ", StringComparison.Ordinal))?[7..] ?? string.Empty;
            var data = lines.FirstOrDefault(l => l.StartsWith("data: ", StringComparison.Ordinal))?[6..] ?? string.Empty;
            return (name, data);
        })];

    private static void Patch(string file, string property, int value)
    {
        var json = JsonNode.Parse(File.ReadAllText(file))!;
        json[property] = value;
        File.WriteAllText(file, json.ToJsonString());
    }
}
