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

namespace WebConsole.E2E.Usage;

/// <summary>
/// Prices set through <c>/api/prices</c> bill real requests on both surfaces, streamed or not: the cost in the usage
/// headers (or a stream's usage chunk) is the tokens at the price, and each request left exactly one committed record.
/// </summary>
public sealed class UsageLedgerTests(InferenceApiServer fixture) : IClassFixture<InferenceApiServer>
{
    private const decimal EmbeddingInput = 0.25m;
    private const decimal ChatInput = 1.5m;
    private const decimal ChatOutput = 4m;

    [Fact]
    public async Task Operator_prices_bill_embeddings_and_chat_and_every_request_leaves_one_record()
    {
        using var client = fixture.Client();
        await SetPriceAsync(client, "api-bert", EmbeddingInput, 99m);
        await SetPriceAsync(client, "api-llama3", ChatInput, ChatOutput);
        using (var invalid = await client.PostAsJsonAsync("/api/prices", new { model_id = "api-bert", input_per_million = -1m, output_per_million = 0m }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        }

        var listed = JsonDocument.Parse(await client.GetStringAsync("/api/prices?model_id=api-llama3")).RootElement;
        Assert.Equal(ChatOutput, Assert.Single(listed.EnumerateArray()).GetProperty("output_per_million").GetDecimal());

        // Embeddings bill input tokens only (the output price of 99 must not count).
        using var embedded = await client.PostAsync($"/_inference/text_embedding/{InferenceApiServer.Embedding}",
            InferenceApiServer.Json(new { input = new[] { "The quick brown fox", "jumps over the lazy dog" } }));
        Assert.Equal(HttpStatusCode.OK, embedded.StatusCode);
        var (embedInput, embedOutput, embedCost) = Usage(embedded);
        Assert.True(embedInput > 0);
        Assert.Equal(Cost(embedInput, 0, EmbeddingInput, 0m), embedCost);

        using var openAiEmbedded = await client.PostAsync("/v1/embeddings",
            InferenceApiServer.Json(new { model = InferenceApiServer.Embedding, input = "Bonjour le monde" }));
        Assert.Equal(HttpStatusCode.OK, openAiEmbedded.StatusCode);
        var (openAiInput, _, openAiCost) = Usage(openAiEmbedded);
        Assert.Equal(Cost(openAiInput, 0, EmbeddingInput, 0m), openAiCost);

        // Chat bills input and output.
        using var chat = await client.PostAsync($"/_inference/chat_completion/{InferenceApiServer.Chat}",
            InferenceApiServer.Json(new { messages = new[] { new { role = "user", content = "Hello" } }, max_completion_tokens = 5 }));
        var chatText = await chat.Content.ReadAsStringAsync();
        Assert.True(chat.StatusCode == HttpStatusCode.OK, fixture.Explain(chatText));
        var (chatInput, chatOutput, chatCost) = Usage(chat);
        Assert.True(chatOutput > 0);
        Assert.Equal(Cost(chatInput, chatOutput, ChatInput, ChatOutput), chatCost);

        // A stream reports its cost in the final usage chunk.
        using var streamed = await client.PostAsync($"/_inference/chat_completion/{InferenceApiServer.Chat}/_stream",
            InferenceApiServer.Json(new { messages = new[] { new { role = "user", content = "Tell me a story" } }, max_completion_tokens = 6 }));
        var streamText = await streamed.Content.ReadAsStringAsync();
        Assert.True(streamed.StatusCode == HttpStatusCode.OK, fixture.Explain(streamText));
        var usageChunk = streamText.Split('\n')
            .Where(l => l.StartsWith("data: {", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l["data: ".Length..]).RootElement)
            .Last(c => c.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object)
            .GetProperty("usage");
        var streamInput = usageChunk.GetProperty("prompt_tokens").GetInt64();
        var streamOutput = usageChunk.GetProperty("completion_tokens").GetInt64();
        var streamCost = usageChunk.GetProperty("cost").GetDecimal();
        Assert.Equal(Cost(streamInput, streamOutput, ChatInput, ChatOutput), streamCost);

        // Every answer above was sent after its record was committed: the records are there now, one per request.
        await using var context = OpenDatabase();
        var records = await context.UsageRecords.AsNoTracking().ToListAsync();
        Assert.Equal(records.Count, records.Select(r => r.RequestId).Distinct().Count());

        var embeddingRecords = records.Where(r => r.ModelId == "api-bert").OrderBy(r => r.OccurredAt).ToList();
        Assert.Equal(2, embeddingRecords.Count);
        Assert.Equal((TaskType.TextEmbedding, Surface.Inference, embedInput, 0L, embedCost), Shape(embeddingRecords[0]));
        Assert.Equal((TaskType.TextEmbedding, Surface.OpenAI, openAiInput, 0L, openAiCost), Shape(embeddingRecords[1]));
        Assert.Equal(0, embedOutput);

        var chatRecords = records.Where(r => r.ModelId == "api-llama3" && r.InferenceId == InferenceApiServer.Chat).OrderBy(r => r.OccurredAt).ToList();
        Assert.Equal(2, chatRecords.Count);
        Assert.Equal((TaskType.ChatCompletion, Surface.Inference, chatInput, chatOutput, chatCost), Shape(chatRecords[0]));
        Assert.Equal((TaskType.ChatCompletion, Surface.Inference, streamInput, streamOutput, streamCost), Shape(chatRecords[1]));
        Assert.All(records, r => Assert.Equal(("USD", UsageRecord.InferenceBillingDimension), (r.Currency, r.BillingDimension)));
        Assert.All(chatRecords.Concat(embeddingRecords), r => Assert.Equal(UsageOutcome.Succeeded, r.Outcome));
    }

    private static async Task SetPriceAsync(HttpClient client, string model, decimal input, decimal output)
    {
        using var response = await client.PostAsJsonAsync("/api/prices", new { model_id = model, input_per_million = input, output_per_million = output });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
    }

    private static decimal Cost(long input, long output, decimal inputPrice, decimal outputPrice) =>
        Math.Round((input * inputPrice / 1_000_000m) + (output * outputPrice / 1_000_000m), UsageRecord.CostDecimals, MidpointRounding.ToEven);

    private static (long Input, long Output, decimal Cost) Usage(HttpResponseMessage response) => (
        long.Parse(Header(response, "x-webconsole-input-tokens"), CultureInfo.InvariantCulture),
        long.Parse(Header(response, "x-webconsole-output-tokens"), CultureInfo.InvariantCulture),
        decimal.Parse(Header(response, "x-webconsole-cost"), NumberStyles.Number, CultureInfo.InvariantCulture));

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : throw new Xunit.Sdk.XunitException($"no {name} header");

    private static (TaskType, Surface, long, long, decimal) Shape(UsageRecord r) => (r.TaskType, r.Surface, r.InputTokens, r.OutputTokens, r.Cost);

    private WebConsoleDbContext OpenDatabase()
    {
        var options = new DbContextOptionsBuilder<WebConsoleDbContext>();
        SqliteDatabase.Configure(options, SqliteDatabase.DefaultConnectionString(fixture.Server.DataDirectory));
        return new WebConsoleDbContext(options.Options);
    }
}
