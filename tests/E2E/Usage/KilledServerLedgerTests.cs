using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using WebConsole.Domain.Usage;
using WebConsole.E2E.Infrastructure;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.Sqlite;
using WebConsole.TestModels.Decoder;
using Xunit.Abstractions;

namespace WebConsole.E2E.Usage;

/// <summary>
/// A server killed hard (no shutdown, no flush) in the middle of a long stream: its record was committed before the first
/// byte and checkpointed while the stream ran, so after a restart on the same data directory it is there once, billed for
/// every token the client had received up to a second before the kill.
/// </summary>
[Collection(LongStreamsCollection.Name)]
public sealed class KilledServerLedgerTests(ITestOutputHelper output)
{
    private const string Model = "kill-qwen3";
    private const string Chat = "kill-chat";
    private const decimal InputPrice = 1m;
    private const decimal OutputPrice = 2m;

    // The guarantee is one second; the rest is room for a loaded machine's scheduling between the client and the server.
    private static readonly TimeSpan Guarantee = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(250);

    [Fact]
    public async Task A_server_killed_mid_stream_leaves_one_record_that_misses_at_most_the_last_second_of_tokens()
    {
        var settings = ServerFixture.Settings.ToDictionary();
        settings[$"Inference:Models:{Model}:Path"] = await DecoderTestModels.GetAsync(DecoderVariant.Qwen3WithoutPast);
        await using var server = await WebConsoleServer.StartAsync(settings);
        using var client = Client(server);
        await SetUpAsync(server, client);

        // A finished request first: its record must come through the kill and the restart untouched.
        using (var warm = await client.PostAsync("/v1/chat/completions", Json(new
               {
                   model = Chat,
                   messages = new[] { new { role = "user", content = "Hi" } },
                   max_completion_tokens = 2,
               })))
        {
            Assert.True(warm.StatusCode == HttpStatusCode.OK, await warm.Content.ReadAsStringAsync() + server.Log);
        }

        var finished = Assert.Single(await RecordsAsync(server));

        // A long stream, read as it comes: when each content chunk (one generated token or more) arrived.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = Json(new
            {
                model = Chat,
                messages = new[] { new { role = "user", content = "Tell me a long story." } },
                max_completion_tokens = 1900,
                stream = true,
                stream_options = new { include_usage = true },
            }),
        };
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var arrivals = new List<TimeSpan>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(2.5))
        {
            var line = await reader.ReadLineAsync() ?? throw new Xunit.Sdk.XunitException("The stream ended before the kill");
            Assert.False(line == "data: [DONE]", $"The stream ended after {clock.Elapsed} and {arrivals.Count} chunks; it must run longer than the kill's delay");
            if (line.StartsWith("data: {", StringComparison.Ordinal) && JsonDocument.Parse(line["data: ".Length..]).RootElement
                    .GetProperty("choices") is { ValueKind: JsonValueKind.Array } choices && choices.GetArrayLength() > 0)
            {
                arrivals.Add(clock.Elapsed);
            }
        }

        // Killed like a power cut: no shutdown, no final record, nothing flushed.
        var killedAt = clock.Elapsed;
        await server.StopAsync();
        response.Dispose();
        var bound = arrivals.Count(at => at <= killedAt - Guarantee - Slack);
        output.WriteLine($"killed at {Format(killedAt)} ms after {arrivals.Count} chunks; {bound} had arrived a second (and slack) before");
        Assert.True(bound > 0, $"no chunk arrived more than {Guarantee + Slack} before the kill at {killedAt}");

        await server.RestartAsync();
        var records = await RecordsAsync(server);
        Assert.Equal(2, records.Count);
        Assert.Equal(2, records.Select(r => r.RequestId).Distinct().Count());
        Assert.Equal(Shape(finished), Shape(Assert.Single(records, r => r.RequestId == finished.RequestId)));

        var killed = Assert.Single(records, r => r.RequestId != finished.RequestId);
        output.WriteLine($"record: {killed.InputTokens} input, {killed.OutputTokens} output tokens, {killed.Cost}, {killed.Outcome}, {killed.OccurredAt:O}");
        Assert.Equal(UsageOutcome.InProgress, killed.Outcome);
        Assert.True(killed.InputTokens > 0);
        Assert.True(killed.OutputTokens >= bound,
            $"the record has {killed.OutputTokens} output tokens; {bound} chunks had arrived more than {Guarantee + Slack} before the kill");
        Assert.True(killed.OutputTokens < 1900, $"{killed.OutputTokens} output tokens for a stream cut short");
        Assert.Equal(Cost(killed.InputTokens, killed.OutputTokens), killed.Cost);
        Assert.Equal((InputPrice, OutputPrice), (killed.InputPricePerMillion, killed.OutputPricePerMillion));

        // The restarted server bills it as checkpointed: the usage API counts both records.
        using var summary = await client.GetAsync("/api/usage/summary");
        var totals = JsonDocument.Parse(await summary.Content.ReadAsStringAsync()).RootElement.GetProperty("totals");
        Assert.Equal(
            (2L, finished.InputTokens + killed.InputTokens, finished.OutputTokens + killed.OutputTokens, finished.Cost + killed.Cost),
            (totals.GetProperty("requests").GetInt64(), totals.GetProperty("input_tokens").GetInt64(), totals.GetProperty("output_tokens").GetInt64(),
                totals.GetProperty("cost").GetDecimal()));
    }

    private static async Task SetUpAsync(WebConsoleServer server, HttpClient client)
    {
        var endpoint = new JsonObject
        {
            ["service"] = "elasticsearch",
            ["service_settings"] = new JsonObject { ["model_id"] = Model, ["num_allocations"] = 1, ["num_threads"] = 1 },
        };
        using (var created = await client.PutAsJsonAsync($"/_inference/chat_completion/{Chat}", endpoint))
        {
            Assert.True(created.StatusCode == HttpStatusCode.OK, await created.Content.ReadAsStringAsync() + server.Log);
        }

        using var price = await client.PostAsJsonAsync("/api/prices", new { model_id = Model, input_per_million = InputPrice, output_per_million = OutputPrice });
        Assert.True(price.StatusCode == HttpStatusCode.Created, await price.Content.ReadAsStringAsync());
    }

    private static HttpClient Client(WebConsoleServer server)
    {
        var client = server.CreateApiKeyClient();
        return client;
    }

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");

    private static decimal Cost(long input, long output) =>
        Math.Round((input * InputPrice / 1_000_000m) + (output * OutputPrice / 1_000_000m), UsageRecord.CostDecimals, MidpointRounding.ToEven);

    private static (long, long, decimal, UsageOutcome) Shape(UsageRecord r) => (r.InputTokens, r.OutputTokens, r.Cost, r.Outcome);

    private static async Task<List<UsageRecord>> RecordsAsync(WebConsoleServer server)
    {
        var options = new DbContextOptionsBuilder<WebConsoleDbContext>();
        SqliteDatabase.Configure(options, SqliteDatabase.DefaultConnectionString(server.DataDirectory));
        await using var context = new WebConsoleDbContext(options.Options);
        return await context.UsageRecords.AsNoTracking().Where(r => r.InferenceId == Chat).ToListAsync();
    }

    private static string Format(TimeSpan span) => span.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture);
}
