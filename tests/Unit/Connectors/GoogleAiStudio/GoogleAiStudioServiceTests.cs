using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Connectors.GoogleAiStudio;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Tests.Providers;

namespace WebConsole.Unit.Connectors.GoogleAiStudio;

/// <summary>The <c>googleaistudio</c> service: settings as Elasticsearch parses them, and the Gemini wire format over real HTTP to a fake.</summary>
public sealed class GoogleAiStudioServiceTests : IAsyncLifetime
{
    private FakeGoogleAiStudioServer _provider = default!;
    private ProviderHttpClients _clients = default!;
    private GoogleAiStudioInferenceService _service = default!;

    public async Task InitializeAsync()
    {
        _provider = await FakeProviderServer.StartAsync<FakeGoogleAiStudioServer>();
        _clients = ConnectorTestClients.Create("googleaistudio", _provider.BaseUrl);
        _service = new GoogleAiStudioInferenceService(_clients);
    }

    public async Task DisposeAsync()
    {
        _clients.Dispose();
        await _provider.DisposeAsync();
    }

    [Theory]
    [InlineData("text_embedding", """{"api_key":"k"}""", "[service_settings] does not contain the required setting [model_id]")]
    [InlineData("completion", """{"api_key":"k","model_id":"m","dimensions":8}""", "Configuration contains settings [{dimensions=8}] unknown to the [googleaistudio] service")]
    [InlineData("rerank", """{"api_key":"k","model_id":"m"}""", "The [googleaistudio] service does not support task type [rerank]")]
    public void Bad_settings_are_400s_naming_the_setting(string taskType, string settings, string reason)
    {
        var error = Assert.Throws<InferenceApiException>(() => _service.Parse(TaskTypes.Parse(taskType), JsonNode.Parse(settings)!.AsObject(), null));
        Assert.Equal((400, reason), (error.Status, error.Reason));
    }

    [Fact]
    public async Task Embeddings_go_to_batchEmbedContents_with_the_key_in_the_query_and_count_usage()
    {
        _provider.Dimensions = 7;
        var parsed = _service.Parse(TaskType.TextEmbedding, new JsonObject { ["api_key"] = _provider.ApiKey, ["model_id"] = "text-embedding-004" }, null);
        var completed = (GoogleAiStudioSettings)await _service.CompleteNewAsync("g-embed", parsed, CancellationToken.None);
        Assert.Equal((7, 360), (completed.Dimensions, completed.RequestsPerMinute));

        var result = await ConnectorTestClients.Client(_service, completed).TextEmbedding!.GenerateAsync(["hello world", "abcdefgh"]);
        var sent = _provider.Requests[^1];
        Assert.Equal(("/v1/models/text-embedding-004:batchEmbedContents", $"?key={_provider.ApiKey}"), (sent.Path, sent.Query));
        Assert.Equal("""{"requests":[{"model":"models/text-embedding-004","content":{"parts":[{"text":"hello world"}]}},{"model":"models/text-embedding-004","content":{"parts":[{"text":"abcdefgh"}]}}]}""", sent.Body);
        Assert.Equal(FakeOpenAiServer.EmbeddingOf("abcdefgh", 7), result.Embeddings[1].Vector);
        Assert.Equal(new UsageDetails(3 + 2, 0), result.Usage);
    }

    [Fact]
    public async Task Completion_answers_plain_and_streamed_over_sse_with_gemini_usage()
    {
        var settings = _service.Parse(TaskType.Completion, new JsonObject { ["api_key"] = _provider.ApiKey, ["model_id"] = "gemini-1.5-flash" }, null);
        var client = ConnectorTestClients.Client(_service, settings).Completion!;
        var answer = FakeOpenAiServer.AnswerTo("why is the sky blue");
        var usage = new UsageDetails(FakeOpenAiServer.PromptTokens(["why is the sky blue"]), FakeOpenAiServer.CompletionTokens(answer));

        var plain = await client.CompleteAsync("why is the sky blue");
        Assert.Equal((answer, FinishReason.Stop, usage), (plain.Text, plain.FinishReason, plain.Usage));
        Assert.Equal("/v1/models/gemini-1.5-flash:generateContent", _provider.Requests[^1].Path);
        Assert.Equal("""{"contents":[{"role":"user","parts":[{"text":"why is the sky blue"}]}],"generationConfig":{"candidateCount":1}}""", _provider.Requests[^1].Body);

        var updates = new List<GenerationUpdate>();
        await foreach (var update in client.CompleteStreamingAsync("why is the sky blue"))
        {
            updates.Add(update);
        }

        Assert.Equal(answer, string.Concat(updates.Select(u => u.Text)));
        Assert.Equal((FinishReason.Stop, usage), (updates[^1].FinishReason, updates[^1].Usage));
        Assert.Equal(("/v1/models/gemini-1.5-flash:streamGenerateContent", $"?alt=sse&key={_provider.ApiKey}"), (_provider.Requests[^1].Path, _provider.Requests[^1].Query));
    }

    [Fact]
    public async Task A_wrong_key_is_a_400_with_googles_message_and_the_key_redacted()
    {
        const string wrong = "AIzaWrong-000011112222";
        var parsed = _service.Parse(TaskType.Completion, new JsonObject { ["api_key"] = wrong, ["model_id"] = "m" }, null);
        var error = await Assert.ThrowsAsync<InferenceApiException>(() => _service.CompleteNewAsync("g-bad", parsed, CancellationToken.None));
        Assert.Equal(400, error.Status);
        Assert.EndsWith("Received a bad request status code for request from inference entity id [g-bad] status [400]. Error message: [API key not valid. Please pass a valid API key. [[REDACTED]]]",
            error.Reason, StringComparison.Ordinal);

        // A 404 names the URL without its query, so the key stays out.
        var settings = _service.Parse(TaskType.Completion, new JsonObject { ["api_key"] = _provider.ApiKey, ["model_id"] = "m" }, null);
        _provider.Faults.Enqueue(FakeFault.Status(404, "models/m is not found"));
        var missing = await Assert.ThrowsAsync<InferenceApiException>(() => ConnectorTestClients.Client(_service, settings, "g-404").Completion!.CompleteAsync("hi"));
        Assert.Equal($"Resource not found at [{_provider.BaseUrl}/v1/models/m:generateContent] for request from inference entity id [g-404] status [404]. Error message: [models/m is not found]", missing.Reason);
        Assert.DoesNotContain(_provider.ApiKey, missing.Reason, StringComparison.Ordinal);
    }
}
