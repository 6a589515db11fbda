using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.Usage;
using WebConsole.E2E.Inference;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.Sqlite;
using Xunit.Abstractions;

namespace WebConsole.E2E.Usage;

/// <summary>
/// The ledger against what clients were told, on a real server: after a mixed load on every surface (streams included),
/// the usage API's totals are exactly the usage reported in headers and usage chunks; a stream the client cuts was
/// committed before its first byte, follows its tokens while it runs, and is billed for the tokens it produced.
/// </summary>
[Collection(LongStreamsCollection.Name)]
public sealed class StreamLedgerTests(InferenceApiServer fixture, ITestOutputHelper output) : IClassFixture<InferenceApiServer>
{
    private static readonly (string Model, decimal Input, decimal Output)[] Prices =
    [
        ("api-bert", 0.25m, 99m), ("api-splade", 0.3m, 0m), ("api-cross-encoder", 2m, 0m), ("api-llama3", 1.5m, 4m), ("api-qwen3-slow", 1.5m, 4m),
    ];

    private static readonly object[] Conversation = [new { role = "user", content = "Tell me a story about the sea." }];

    [Fact]
    public async Task After_a_mixed_load_the_ledger_totals_equal_the_usage_reported_to_clients_streams_included()
    {
        using var client = fixture.Client();
        await SetPricesAsync(client);
        var before = await TotalsAsync(client);

        // Three rounds of every kind of request at once; the long streams run past a checkpoint.
        var calls = new List<Task<Reported>>();
        for (var round = 0; round < 3; round++)
        {
            var words = string.Join(' ', Enumerable.Repeat("lorem ipsum", round + 1));
            calls.AddRange(
            [
                HeadersAsync("/_inference/text_embedding/" + InferenceApiServer.Embedding, new { input = new[] { "The quick brown fox " + words, "jumps" } }),
                HeadersAsync("/v1/embeddings", new { model = InferenceApiServer.Embedding, input = "Bonjour le monde " + words }),
                HeadersAsync("/_inference/sparse_embedding/" + InferenceApiServer.Sparse, new { input = "sparse " + words }),
                HeadersAsync("/_inference/rerank/" + InferenceApiServer.Rerank, new { query = "fox " + words, input = new[] { "a fox", "a dog", "the sea" } }),
                HeadersAsync($"/_inference/text_embedding/{InferenceApiServer.Embedding}/_chunk",
                    new { input = new[] { "First sentence here. Second sentence there. " + words } }),
                HeadersAsync("/_inference/chat_completion/" + InferenceApiServer.Chat, new { messages = Conversation, max_completion_tokens = 4 + round }),
                HeadersAsync("/v1/chat/completions", new { model = InferenceApiServer.Chat, messages = Conversation, max_completion_tokens = 3 }),
                HeadersAsync("/_inference/completion/" + InferenceApiServer.Completion, new { input = "Once upon a time " + words }),
                StreamAsync($"/_inference/completion/{InferenceApiServer.Completion}/_stream", new { input = "Once upon a time " + words }),
                StreamAsync($"/_inference/chat_completion/{InferenceApiServer.Chat}/_stream", new { messages = Conversation, max_completion_tokens = 6 + round }),
                StreamAsync("/v1/chat/completions", new
                {
                    model = InferenceApiServer.Chat,
                    messages = Conversation,
                    max_completion_tokens = round == 0 ? 1200 : 5,
                    stream = true,
                    stream_options = new { include_usage = true },
                }),
            ]);
        }

        var reported = await Task.WhenAll(calls);
        var after = await TotalsAsync(client);
        output.WriteLine($"{reported.Length} requests, {reported.Sum(r => r.Input)} input, {reported.Sum(r => r.Output)} output tokens, cost {reported.Sum(r => r.Cost)}");
        Assert.All(reported, r => Assert.True(r.Input > 0, r.Path));
        Assert.True(reported.Where(r => r.Path.Contains("chat", StringComparison.Ordinal)).All(r => r.Output > 0));
        Assert.Equal(
            (reported.Length, reported.Sum(r => r.Input), reported.Sum(r => r.Output), reported.Sum(r => r.Cost)),
            (after.Requests - before.Requests, after.Input - before.Input, after.Output - before.Output, after.Cost - before.Cost));

        // Every cost is the price in force times the tokens, and every record ended (none left in progress).
        var records = await RecordsAsync();
        Assert.Equal(records.Count, records.Select(r => r.RequestId).Distinct().Count());
        Assert.DoesNotContain(records, r => r.Outcome == UsageOutcome.InProgress);
        Assert.All(records, r => Assert.Equal(Cost(r.TaskType is TaskType.ChatCompletion or TaskType.Completion,
            r.InputTokens, r.OutputTokens, r.InputPricePerMillion, r.OutputPricePerMillion), r.Cost));
        var prices = Prices.ToDictionary(p => p.Model);
        Assert.All(records.Where(r => prices.ContainsKey(r.ModelId)),
            r => Assert.Equal((prices[r.ModelId].Input, prices[r.ModelId].Output), (r.InputPricePerMillion, r.OutputPricePerMillion)));
    }

    [Fact]
    public async Task A_stream_cut_by_the_client_is_committed_before_its_first_byte_followed_while_it_runs_and_billed_for_the_tokens_produced()
    {
        using var client = fixture.Client();
        await SetPricesAsync(client);
        var known = (await RecordsAsync()).Select(r => r.RequestId).ToHashSet(StringComparer.Ordinal);

        // A decoder without a KV cache generates tens of tokens a second: the client cuts the stream long before its 1900 tokens.
        const string SlowChat = "ledger-slow-chat";
        using (var created = await client.PutAsJsonAsync($"/_inference/chat_completion/{SlowChat}", new
        {
            service = "elasticsearch",
            service_settings = new { model_id = InferenceApiServer.SlowChatModel, num_allocations = 1, num_threads = 1 },
        }))
        {
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/_inference/chat_completion/{SlowChat}/_stream")
        {
            Content = InferenceApiServer.Json(new { messages = Conversation, max_completion_tokens = 1900 }),
        };
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // The headers are the first byte: the record is already committed, in progress, with the prompt's tokens.
        var begun = Assert.Single(await RecordsAsync(), r => !known.Contains(r.RequestId));
        Assert.Equal((UsageOutcome.InProgress, SlowChat), (begun.Outcome, begun.InferenceId));
        Assert.True(begun.InputTokens > 0);

        // Read for a while: the record follows the tokens received with at most a second's delay.
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var arrivals = new List<TimeSpan>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(1.6))
        {
            var line = await reader.ReadLineAsync() ?? throw new Xunit.Sdk.XunitException("The stream ended early");
            Assert.DoesNotContain("[DONE]", line, StringComparison.Ordinal);
            if (line.StartsWith("data: {", StringComparison.Ordinal))
            {
                arrivals.Add(clock.Elapsed);
            }
        }

        var running = Assert.Single(await RecordsAsync(), r => r.RequestId == begun.RequestId);
        var readAt = clock.Elapsed;
        var settled = arrivals.Count(at => at <= readAt - TimeSpan.FromSeconds(1.25));
        Assert.Equal(UsageOutcome.InProgress, running.Outcome);
        Assert.True(running.OutputTokens >= settled, $"{running.OutputTokens} output tokens checkpointed; {settled} chunks had arrived more than a second before");

        // The client leaves: the server notices, stops generating and bills what it produced.
        var received = arrivals.Count;
        response.Dispose();
        var ended = await WaitForAsync(begun.RequestId, r => r.Outcome != UsageOutcome.InProgress);
        output.WriteLine($"{received} chunks received; billed {ended.InputTokens} input and {ended.OutputTokens} output tokens, {ended.Cost}");
        Assert.Equal(UsageOutcome.Cancelled, ended.Outcome);
        Assert.Equal(begun.InputTokens, ended.InputTokens);
        Assert.InRange(ended.OutputTokens, received, 1899);
        Assert.Equal(Cost(true, ended.InputTokens, ended.OutputTokens, 1.5m, 4m), ended.Cost);
        Assert.Single(await RecordsAsync(), r => r.RequestId == begun.RequestId);
    }

    private sealed record Reported(string Path, long Input, long Output, decimal Cost);

    private sealed record Totals(long Requests, long Input, long Output, decimal Cost);

    private async Task<Reported> HeadersAsync(string path, object body)
    {
        using var client = fixture.Client();
        using var response = await client.PostAsync(path, InferenceApiServer.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, fixture.Explain($"{path}: {(int)response.StatusCode} {text}"));
        return new Reported(path,
            long.Parse(Header(response, "x-webconsole-input-tokens"), CultureInfo.InvariantCulture),
            long.Parse(Header(response, "x-webconsole-output-tokens"), CultureInfo.InvariantCulture),
            decimal.Parse(Header(response, "x-webconsole-cost"), NumberStyles.Number, CultureInfo.InvariantCulture));
    }

    // Both surfaces' streams end with a usage object carrying the cost (Elasticsearch's completion wraps it differently).
    private async Task<Reported> StreamAsync(string path, object body)
    {
        using var client = fixture.Client();
        using var response = await client.PostAsync(path, InferenceApiServer.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, fixture.Explain($"{path}: {(int)response.StatusCode} {text}"));
        var usage = text.Split('\n')
            .Where(l => l.StartsWith("data: {", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l["data: ".Length..]).RootElement)
            .Last(c => c.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object)
            .GetProperty("usage");
        return new Reported(path, usage.GetProperty("prompt_tokens").GetInt64(), usage.GetProperty("completion_tokens").GetInt64(),
            usage.GetProperty("cost").GetDecimal());
    }

    private static async Task<Totals> TotalsAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/api/usage/summary");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var totals = JsonDocument.Parse(text).RootElement.GetProperty("totals");
        return new Totals(totals.GetProperty("requests").GetInt64(), totals.GetProperty("input_tokens").GetInt64(),
            totals.GetProperty("output_tokens").GetInt64(), totals.GetProperty("cost").GetDecimal());
    }

    private static async Task SetPricesAsync(HttpClient client)
    {
        var listed = JsonDocument.Parse(await client.GetStringAsync("/api/prices")).RootElement;
        foreach (var (model, input, outputPrice) in Prices)
        {
            if (listed.EnumerateArray().Any(p => p.GetProperty("model_id").GetString() == model))
            {
                continue;
            }

            using var response = await client.PostAsJsonAsync("/api/prices", new { model_id = model, input_per_million = input, output_per_million = outputPrice });
            Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        }
    }

    private async Task<UsageRecord> WaitForAsync(string requestId, Func<UsageRecord, bool> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var record = (await RecordsAsync()).Single(r => r.RequestId == requestId);
            if (condition(record) || deadline.Elapsed > TimeSpan.FromSeconds(20))
            {
                return record;
            }

            await Task.Delay(100);
        }
    }

    private static decimal Cost(bool billsOutput, long input, long outputTokens, decimal inputPrice, decimal outputPrice) =>
        Math.Round((input * inputPrice / 1_000_000m) + (billsOutput ? outputTokens * outputPrice / 1_000_000m : 0m),
            UsageRecord.CostDecimals, MidpointRounding.ToEven);

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : throw new Xunit.Sdk.XunitException($"no {name} header");

    private async Task<List<UsageRecord>> RecordsAsync()
    {
        var options = new DbContextOptionsBuilder<WebConsoleDbContext>();
        SqliteDatabase.Configure(options, SqliteDatabase.DefaultConnectionString(fixture.Server.DataDirectory));
        await using var context = new WebConsoleDbContext(options.Options);
        return await context.UsageRecords.AsNoTracking().ToListAsync();
    }
}
