using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Connectors.JinaAi;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Tests.Providers;

namespace WebConsole.Unit.Connectors.JinaAi;

/// <summary>The <c>jinaai</c> service: settings as Elasticsearch parses them, and Jina's wire format over real HTTP to a fake.</summary>
public sealed class JinaAiServiceTests : IAsyncLifetime
{
    private FakeJinaAiServer _provider = default!;
    private ProviderHttpClients _clients = default!;
    private JinaAiInferenceService _service = default!;

    public async Task InitializeAsync()
    {
        _provider = await FakeProviderServer.StartAsync<FakeJinaAiServer>();
        _clients = ConnectorTestClients.Create("jinaai", _provider.BaseUrl);
        _service = new JinaAiInferenceService(_clients);
    }

    public async Task DisposeAsync()
    {
        _clients.Dispose();
        await _provider.DisposeAsync();
    }

    [Theory]
    [InlineData("""{"api_key":"k"}""", null, "[service_settings] does not contain the required setting [model_id]")]
    [InlineData("""{"api_key":"k","model_id":"m","embedding_type":"int8"}""", null, "[service_settings] Invalid value [int8] received. [embedding_type] must be one of [binary, bit, float]")]
    [InlineData("""{"api_key":"k","model_id":"m"}""", """{"input_type":"document"}""", "[task_settings] Invalid value [document] received. [input_type] must be one of [classification, clustering, ingest, search]")]
    [InlineData("""{"api_key":"k","model_id":"m"}""", """{"top_n":3}""", "Configuration contains settings [{top_n=3}] unknown to the [jinaai] service")]
    [InlineData("""{"api_key":"k","model_id":"m","dimensions":0}""", null, "[service_settings] Invalid value [0]. [dimensions] must be a positive integer")]
    public void Bad_embedding_settings_are_400s_naming_the_setting(string settings, string? taskSettings, string reason)
    {
        var error = Assert.Throws<InferenceApiException>(() => _service.Parse(TaskType.TextEmbedding,
            JsonNode.Parse(settings)!.AsObject(), taskSettings is null ? null : JsonNode.Parse(taskSettings)!.AsObject()));
        Assert.Equal((400, reason), (error.Status, error.Reason));
    }

    [Theory]
    [InlineData(InputType.Ingest, null, "retrieval.passage")]
    [InlineData(InputType.Search, "ingest", "retrieval.query")]
    [InlineData(InputType.Unspecified, "clustering", "separation")]
    [InlineData(InputType.Unspecified, "classification", "classification")]
    [InlineData(InputType.Unspecified, null, null)]
    public void Input_types_map_to_jinas_tasks(InputType requested, string? taskSetting, string? task) =>
        Assert.Equal(task, JinaAiClient.TaskOf(requested, taskSetting));

    [Fact]
    public async Task Embeddings_learn_their_size_send_jinas_task_and_late_chunking_and_take_its_usage()
    {
        _provider.Dimensions = 10;
        var parsed = _service.Parse(TaskType.TextEmbedding, new JsonObject { ["api_key"] = _provider.ApiKey, ["model_id"] = "jina-embeddings-v3" },
            new JsonObject { ["input_type"] = "ingest", ["late_chunking"] = true });
        var completed = (JinaAiSettings)await _service.CompleteNewAsync("jina-embed", parsed, CancellationToken.None);
        Assert.Equal((10, false, 2000), (completed.Dimensions, completed.DimensionsSetByUser, completed.RequestsPerMinute));

        var result = await ConnectorTestClients.Client(_service, completed).TextEmbedding!.GenerateAsync(["b a", "a b c d"]);
        var sent = _provider.Requests[^1];
        Assert.Equal(("/v1/embeddings", $"Bearer {_provider.ApiKey}"), (sent.Path, sent.Header("authorization")));
        Assert.Equal("""{"model":"jina-embeddings-v3","input":["b a","a b c d"],"embedding_type":"float","task":"retrieval.passage","late_chunking":true}""", sent.Body);
        Assert.Equal(FakeOpenAiServer.EmbeddingOf("a b c d", 10), result.Embeddings[1].Vector);
        Assert.Equal(new UsageDetails(FakeOpenAiServer.EmbeddingTokens(["b a", "a b c d"]), 0), result.Usage);
    }

    [Fact]
    public async Task Dimensions_the_tenant_sets_are_asked_for_and_bit_embeddings_count_eight_a_value()
    {
        _provider.Dimensions = 32;
        var parsed = _service.Parse(TaskType.TextEmbedding,
            new JsonObject { ["api_key"] = _provider.ApiKey, ["model_id"] = "m", ["dimensions"] = 16, ["embedding_type"] = "bit" }, null);
        var completed = (JinaAiSettings)await _service.CompleteNewAsync("jina-bits", parsed, CancellationToken.None);
        Assert.Equal((16, true), (completed.Dimensions, completed.DimensionsSetByUser));
        Assert.Equal(16, _provider.Requests[^1].Json!["dimensions"]!.GetValue<int>());
        Assert.Equal("binary", _provider.Requests[^1].Json!["embedding_type"]!.GetValue<string>());

        var stated = _service.Parse(TaskType.TextEmbedding, new JsonObject { ["api_key"] = _provider.ApiKey, ["model_id"] = "m", ["dimensions"] = 16 }, null);
        _provider.Dimensions = 32;
        var ok = (JinaAiSettings)await _service.CompleteNewAsync("jina-dims", stated, CancellationToken.None);
        Assert.Equal(16, ok.Dimensions);
    }

    [Fact]
    public async Task Rerank_sends_top_n_and_return_documents_and_takes_jinas_usage()
    {
        var settings = _service.Parse(TaskType.Rerank, new JsonObject { ["api_key"] = _provider.ApiKey, ["model_id"] = "jina-reranker-v2" },
            new JsonObject { ["top_n"] = 5, ["return_documents"] = false });
        string[] documents = ["a cat", "the cat sat", "dogs"];
        var result = await ConnectorTestClients.Client(_service, settings).Rerank!.RerankAsync("cat sat", documents, new RerankOptions { TopN = 2 });
        Assert.Equal([1, 0], result.Documents.Select(d => d.Index));
        var sent = _provider.Requests[^1].Json!;
        Assert.Equal((2, false), (sent["top_n"]!.GetValue<int>(), sent["return_documents"]!.GetValue<bool>()));
        Assert.Equal(new UsageDetails(FakeJinaAiServer.RerankTokens("cat sat", documents), 0), result.Usage);
    }

    [Fact]
    public async Task Jina_errors_keep_their_detail_and_lose_the_key()
    {
        var parsed = _service.Parse(TaskType.TextEmbedding, new JsonObject { ["api_key"] = "jina_wrong_0000111122", ["model_id"] = "m" }, null);
        var error = await Assert.ThrowsAsync<InferenceApiException>(() => _service.CompleteNewAsync("jina-bad", parsed, CancellationToken.None));
        Assert.EndsWith("Received an authentication error status code for request from inference entity id [jina-bad] status [401]. Error message: [Unauthorized: the API key [REDACTED] is invalid]",
            error.Reason, StringComparison.Ordinal);
    }
}
