using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Connectors.HuggingFace;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Tests.Providers;

namespace WebConsole.Unit.Connectors.HuggingFace;

/// <summary>The hugging_face service: Elasticsearch's settings, and its wire formats over real HTTP to a fake endpoint.</summary>
public sealed class HuggingFaceServiceTests : IAsyncLifetime
{
    private FakeHuggingFaceServer _provider = default!;
    private FakeOpenAiServer _chat = default!;
    private ProviderHttpClients _clients = default!;

    public async Task InitializeAsync()
    {
        _provider = await FakeHuggingFaceServer.StartAsync();
        _chat = await FakeOpenAiServer.StartAsync();
        _chat.ApiKey = _provider.Token;
        _clients = new ProviderHttpClients(
            Options.Create(new ConnectorOptions { AllowedOutboundAddresses = ["127.0.0.1"], RetryBaseDelay = TimeSpan.FromMilliseconds(20), MaxRetries = 1, AttemptTimeout = TimeSpan.FromSeconds(2) }),
            TimeProvider.System,
            NullLogger<ProviderHttpClients>.Instance);
    }

    public async Task DisposeAsync()
    {
        _clients.Dispose();
        await _provider.DisposeAsync();
        await _chat.DisposeAsync();
    }

    [Fact]
    public void Settings_take_Elasticsearchs_keys_and_default_rate_and_keep_the_token_secret()
    {
        var service = new HuggingFaceInferenceService(_clients);
        var settings = (HuggingFaceSettings)service.Parse(TaskType.Rerank,
            new JsonObject { ["url"] = "https://x.endpoints.huggingface.cloud/rerank", ["api_key"] = "hf_k" },
            new JsonObject { ["top_n"] = 3, ["return_documents"] = false });
        Assert.Equal((3000, 3, false), (settings.RequestsPerMinute, settings.TopN, settings.ReturnDocuments));
        Assert.Equal("hf_k", settings.ToServiceSettings()["api_key"]!.GetValue<string>());
        Assert.Contains("api_key", service.SecretFields);
        Assert.Equal(
            ["text_embedding", "sparse_embedding", "rerank", "completion", "chat_completion"],
            service.SupportedTaskTypes.Select(t => t.ToWireName()));
        var chat = (HuggingFaceSettings)service.Parse(TaskType.ChatCompletion,
            new JsonObject { ["url"] = "https://x/v1/chat/completions", ["api_key"] = "hf_k", ["model_id"] = "tgi", ["rate_limit"] = new JsonObject { ["requests_per_minute"] = 7 } }, null);
        Assert.Equal(("tgi", 7), (chat.ModelId, chat.RequestsPerMinute));
    }

    [Theory]
    [InlineData("text_embedding", """{"api_key":"k"}""", "[service_settings] does not contain the required setting [url]")]
    [InlineData("text_embedding", """{"url":"https://x/embed"}""", "[service_settings] does not contain the required setting [api_key]")]
    [InlineData("text_embedding", """{"url":"ftp://x","api_key":"k"}""", "[service_settings] Invalid url [ftp://x] received for field [url]. [url] must be an absolute http or https URL")]
    [InlineData("text_embedding", """{"url":"https://x/embed","api_key":"k","model_id":"m"}""", "Configuration contains settings [{model_id=m}] unknown to the [hugging_face] service")]
    [InlineData("sparse_embedding", """{"url":"https://x/embed","api_key":"k","similarity":"cosine"}""", "Configuration contains settings [{similarity=cosine}] unknown to the [hugging_face] service")]
    public void Bad_settings_are_400s_naming_the_setting(string taskType, string settings, string reason)
    {
        Assert.True(TaskTypes.TryParse(taskType, out var task));
        var error = Assert.Throws<InferenceApiException>(() => new HuggingFaceInferenceService(_clients).Parse(task, JsonNode.Parse(settings)!.AsObject(), null));
        Assert.Equal((400, reason), (error.Status, error.Reason));
    }

    [Theory]
    [InlineData("/embed")]
    [InlineData("/feature-extraction")]
    public async Task A_new_text_embedding_endpoint_probes_its_dimensions_and_embeds_both_answer_shapes(string path)
    {
        var service = new HuggingFaceInferenceService(_clients);
        var parsed = service.Parse(TaskType.TextEmbedding, new JsonObject { ["url"] = _provider.BaseUrl + path, ["api_key"] = _provider.Token }, null);
        var completed = (HuggingFaceSettings)await service.CompleteNewAsync("hf-embed", parsed, CancellationToken.None);
        Assert.Equal((_provider.Dimensions, "cosine"), (completed.Dimensions, completed.Similarity));

        var result = await Client(service, completed).TextEmbedding!.GenerateAsync(["hello world", "a fox"]);
        Assert.Equal(FakeOpenAiServer.EmbeddingOf("a fox", _provider.Dimensions), result.Embeddings[1].Vector);
        Assert.Equal(["hello world", "a fox"], _provider.Requests[^1].Json!["inputs"]!.AsArray().Select(i => i!.GetValue<string>()));
        Assert.Equal("Bearer " + _provider.Token, _provider.Requests[^1].Header("authorization"));
        Assert.True(result.Usage.InputTokens > 0);
    }

    [Fact]
    public async Task Sparse_embeddings_are_token_weights_largest_first()
    {
        var service = new HuggingFaceInferenceService(_clients);
        var settings = service.Parse(TaskType.SparseEmbedding, new JsonObject { ["url"] = _provider.BaseUrl + "/embed_sparse", ["api_key"] = _provider.Token }, null);
        var result = await Client(service, settings).SparseEmbedding!.GenerateAsync(["the elephant ran"]);
        var weights = result.Embeddings[0].Weights;
        Assert.Equal(("elephant", 0.8f), (weights[0].Key, weights[0].Value));
        Assert.Equal(["ran", "the"], weights.Skip(1).Select(w => w.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Rerank_sends_TEIs_request_and_sorts_by_score()
    {
        var service = new HuggingFaceInferenceService(_clients);
        var settings = service.Parse(TaskType.Rerank, new JsonObject { ["url"] = _provider.BaseUrl + "/rerank", ["api_key"] = _provider.Token }, new JsonObject { ["top_n"] = 2 });
        string[] documents = ["nothing here", "fox and dog", "a quick fox"];
        var result = await Client(service, settings).Rerank!.RerankAsync("quick fox", documents);
        Assert.Equal([2, 1], result.Documents.Select(d => d.Index));
        var sent = _provider.Requests[^1].Json!;
        Assert.Equal(("quick fox", 2, false), (sent["query"]!.GetValue<string>(), sent["top_n"]!.GetValue<int>(), sent["return_text"]!.GetValue<bool>()));
        Assert.Equal(documents, sent["texts"]!.AsArray().Select(t => t!.GetValue<string>()));
    }

    [Theory]
    [InlineData(503, "Received a rate limit status code for request from inference entity id [my-endpoint] status [503]. Error message: [Model is currently loading]", 400)]
    [InlineData(500, "Received a server error status code for request from inference entity id [my-endpoint] status [500]. Error message: [Model is currently loading]", 400)]
    [InlineData(404, "Received an unsuccessful status code for request from inference entity id [my-endpoint] status [404]. Error message: [Model is currently loading]", 404)]
    public async Task Failed_answers_follow_Elasticsearchs_Hugging_Face_rules(int status, string reason, int restStatus)
    {
        var service = new HuggingFaceInferenceService(_clients);
        var settings = service.Parse(TaskType.TextEmbedding, new JsonObject { ["url"] = _provider.BaseUrl + "/embed", ["api_key"] = _provider.Token }, null);
        _provider.Faults.Enqueue(FakeFault.Status(status, "Model is currently loading"));
        _provider.Faults.Enqueue(FakeFault.Status(status, "Model is currently loading"));
        var error = await Assert.ThrowsAsync<InferenceApiException>(() => Client(service, settings).TextEmbedding!.GenerateAsync(["x"]));
        Assert.Equal((restStatus, reason), (error.Status, error.Reason));
        _provider.Faults.Clear();
    }

    [Fact]
    public async Task Chat_goes_to_the_endpoints_OpenAI_compatible_route_with_the_model_and_streams()
    {
        var service = new HuggingFaceInferenceService(_clients);
        var settings = service.Parse(TaskType.ChatCompletion,
            new JsonObject { ["url"] = _chat.BaseUrl + "/v1/chat/completions", ["api_key"] = _provider.Token, ["model_id"] = "tgi" }, null);
        var chat = Client(service, settings).ChatCompletion!;
        var answer = await chat.GetResponseAsync([new ChatMessage(ChatRole.User, "hello there")]);
        Assert.Equal(FakeOpenAiServer.AnswerTo("hello there"), answer.Text);
        Assert.Equal("tgi", _chat.Requests[^1].Json!["model"]!.GetValue<string>());

        var pieces = new List<GenerationUpdate>();
        await foreach (var update in chat.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hello there")]))
        {
            pieces.Add(update);
        }

        Assert.Equal(FakeOpenAiServer.AnswerTo("hello there"), string.Concat(pieces.Select(p => p.Text)));
        Assert.Equal(FakeOpenAiServer.CompletionTokens(FakeOpenAiServer.AnswerTo("hello there")), pieces[^1].Usage!.Value.OutputTokens);
    }

    private static IInferenceClient Client(HuggingFaceInferenceService service, EndpointSettings settings) =>
        service.CreateClient(InferenceEndpoint.Create(Guid.NewGuid(), Guid.NewGuid(), InferenceId.Parse("my-endpoint"), settings.TaskType, service.Name,
            "{}", null, null, null, DateTimeOffset.UtcNow), settings);
}
