using System.Text.Json.Nodes;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Connectors.Cohere;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Tests.Providers;

namespace WebConsole.Unit.Connectors.Cohere;

/// <summary>The <c>cohere</c> service: settings as Elasticsearch parses them, and its V2 wire format over real HTTP to a fake.</summary>
public sealed class CohereServiceTests : IAsyncLifetime
{
    private FakeCohereServer _provider = default!;
    private ProviderHttpClients _clients = default!;
    private CohereInferenceService _service = default!;

    public async Task InitializeAsync()
    {
        _provider = await FakeProviderServer.StartAsync<FakeCohereServer>();
        _clients = ConnectorTestClients.Create("cohere", _provider.BaseUrl);
        _service = new CohereInferenceService(_clients);
    }

    public async Task DisposeAsync()
    {
        _clients.Dispose();
        await _provider.DisposeAsync();
    }

    [Fact]
    public void Settings_take_Elasticsearchs_keys_defaults_and_task_settings()
    {
        var embed = (CohereSettings)_service.Parse(TaskType.TextEmbedding,
            new JsonObject { ["api_key"] = "k", ["model"] = "embed-english-v3.0", ["embedding_type"] = "BYTE" },
            new JsonObject { ["input_type"] = "ingest", ["truncate"] = "end" });
        Assert.Equal(("embed-english-v3.0", "byte", "int8", 10_000), (embed.ModelId, embed.EmbeddingType, embed.WireEmbeddingType, embed.RequestsPerMinute));
        Assert.Equal("""{"input_type":"ingest","truncate":"END"}""", embed.TaskSettings.ToJsonString());
        var stored = embed.ToServiceSettings();
        Assert.Equal("embed-english-v3.0", stored["model_id"]!.GetValue<string>());
        Assert.Equal(10_000, stored["rate_limit"]!["requests_per_minute"]!.GetValue<int>());

        var rerank = (CohereSettings)_service.Parse(TaskType.Rerank, new JsonObject { ["api_key"] = "k", ["model_id"] = "rerank-v3.5" },
            new JsonObject { ["top_n"] = 2, ["return_documents"] = false });
        Assert.Null(rerank.EmbeddingType);
        Assert.Equal(2, rerank.TaskSettings["top_n"]!.GetValue<int>());
        Assert.Equal([TaskType.TextEmbedding, TaskType.Rerank, TaskType.Completion], _service.SupportedTaskTypes);
        Assert.True(_service.SupportsStreaming(TaskType.Completion));
        Assert.False(_service.SupportsStreaming(TaskType.Rerank));
    }

    [Theory]
    [InlineData("text_embedding", """{"api_key":"k"}""", null, "Validation Failed: 1: The [service_settings.model_id] field is required for the Cohere V2 API.;")]
    [InlineData("text_embedding", """{"model_id":"m"}""", null, "[service_settings] does not contain the required setting [api_key]")]
    [InlineData("text_embedding", """{"api_key":"k","model_id":"m","embedding_type":"double"}""", null, "[service_settings] Invalid value [double] received. [embedding_type] must be one of [binary, bit, byte, float, int8]")]
    [InlineData("text_embedding", """{"api_key":"k","model_id":"m"}""", """{"input_type":"query"}""", "[task_settings] Invalid value [query] received. [input_type] must be one of [classification, clustering, ingest, search]")]
    [InlineData("text_embedding", """{"api_key":"k","model_id":"m"}""", """{"truncate":"middle"}""", "[task_settings] Invalid value [middle] received. [truncate] must be one of [end, none, start]")]
    [InlineData("rerank", """{"api_key":"k","model_id":"m","embedding_type":"float"}""", null, "Configuration contains settings [{embedding_type=float}] unknown to the [cohere] service")]
    [InlineData("completion", """{"api_key":"k","model_id":"m"}""", """{"temperature":1}""", "Configuration contains settings [{temperature=1}] unknown to the [cohere] service")]
    [InlineData("chat_completion", """{"api_key":"k","model_id":"m"}""", null, "The [cohere] service does not support task type [chat_completion]")]
    public void Bad_settings_are_400s_naming_the_setting(string taskType, string settings, string? taskSettings, string reason)
    {
        var error = Assert.Throws<InferenceApiException>(() => _service.Parse(TaskTypes.Parse(taskType),
            JsonNode.Parse(settings)!.AsObject(), taskSettings is null ? null : JsonNode.Parse(taskSettings)!.AsObject()));
        Assert.Equal((400, reason), (error.Status, error.Reason));
    }

    [Theory]
    [InlineData(InputType.Ingest, null, "search_document")]
    [InlineData(InputType.Search, "ingest", "search_query")]
    [InlineData(InputType.Unspecified, "ingest", "search_document")]
    [InlineData(InputType.Unspecified, "clustering", "clustering")]
    [InlineData(InputType.Classification, null, "classification")]
    [InlineData(InputType.Unspecified, null, "search_query")]
    public void The_requests_input_type_wins_over_the_task_settings(InputType requested, string? taskSetting, string wire) =>
        Assert.Equal(wire, CohereClient.InputTypeOf(requested, taskSetting));

    [Fact]
    public async Task The_probe_finds_the_dimensions_and_embeddings_go_out_in_cohere_v2s_shape()
    {
        _provider.Dimensions = 16;
        var parsed = _service.Parse(TaskType.TextEmbedding, new JsonObject { ["api_key"] = _provider.ApiKey, ["model_id"] = "embed-v4.0" },
            new JsonObject { ["input_type"] = "ingest", ["truncate"] = "start" });
        var completed = (CohereSettings)await _service.CompleteNewAsync("co-embed", parsed, CancellationToken.None);
        Assert.Equal((16, "dot_product"), (completed.Dimensions, completed.Similarity));

        var result = await ConnectorTestClients.Client(_service, completed).TextEmbedding!.GenerateAsync(["hello world", "x"], new EmbeddingOptions { InputType = InputType.Search });
        var sent = _provider.Requests[^1];
        Assert.Equal(("/v2/embed", $"Bearer {_provider.ApiKey}"), (sent.Path, sent.Header("authorization")));
        Assert.Equal("""{"texts":["hello world","x"],"model":"embed-v4.0","input_type":"search_query","embedding_types":["float"],"truncate":"START"}""", sent.Body);
        Assert.Equal(FakeOpenAiServer.EmbeddingOf("hello world", 16), result.Embeddings[0].Vector);
        Assert.Equal(new UsageDetails(FakeOpenAiServer.EmbeddingTokens(["hello world", "x"]), 0), result.Usage);
    }

    [Theory]
    [InlineData("byte", "int8", 16)]
    [InlineData("bit", "binary", 16)]
    public async Task Byte_and_bit_embeddings_ask_for_cohere_types_and_bits_count_eight_dimensions_a_value(string embeddingType, string wire, int dimensions)
    {
        _provider.Dimensions = dimensions;
        var parsed = _service.Parse(TaskType.TextEmbedding, new JsonObject { ["api_key"] = _provider.ApiKey, ["model_id"] = "m", ["embedding_type"] = embeddingType }, null);
        var completed = (CohereSettings)await _service.CompleteNewAsync("co-bytes", parsed, CancellationToken.None);
        Assert.Equal(dimensions, completed.Dimensions);
        Assert.Equal(wire, _provider.Requests[^1].Json!["embedding_types"]![0]!.GetValue<string>());
        var vector = (await ConnectorTestClients.Client(_service, completed).TextEmbedding!.GenerateAsync(["abc"])).Embeddings[0].Vector;
        Assert.Equal(wire == "int8" ? FakeCohereServer.Int8Of("abc", dimensions) : FakeCohereServer.BinaryOf("abc", dimensions), vector);
    }

    [Theory]
    [InlineData("/gateway", "/gateway/v2/rerank")]
    [InlineData("/gateway/v2/rerank", "/gateway/v2/rerank")]
    public async Task The_tenants_url_is_a_base_url_or_the_full_request_url(string given, string path)
    {
        var settings = _service.Parse(TaskType.Rerank, new JsonObject { ["api_key"] = _provider.ApiKey, ["model_id"] = "m", ["url"] = _provider.BaseUrl + given }, null);
        Assert.Equal(_provider.BaseUrl + given, settings.ToServiceSettings()["url"]!.GetValue<string>());
        var result = await ConnectorTestClients.Client(_service, settings).Rerank!.RerankAsync("q", ["d"]);
        Assert.Equal(0, Assert.Single(result.Documents).Index);
        Assert.Equal(path, _provider.Requests[^1].Path);
    }

    [Fact]
    public async Task Rerank_sends_top_n_and_counts_tokens_as_cohere_bills_search_units()
    {
        var settings = _service.Parse(TaskType.Rerank, new JsonObject { ["api_key"] = _provider.ApiKey, ["model_id"] = "rerank-v3.5" }, new JsonObject { ["top_n"] = 2 });
        string[] documents = ["the sea is blue", "tides and the moon", "bread recipes"];
        var result = await ConnectorTestClients.Client(_service, settings).Rerank!.RerankAsync("moon tides", documents);
        Assert.Equal([1, 2], result.Documents.Select(d => d.Index));
        Assert.Equal(FakeProviderServer.RelevanceOf("moon tides", documents[1]), result.Documents[0].RelevanceScore);
        Assert.Equal(2, _provider.Requests[^1].Json!["top_n"]!.GetValue<int>());
        Assert.Equal(new UsageDetails((3 * 3) + 4 + 5 + 4, 0), result.Usage);
    }

    [Fact]
    public async Task Completion_answers_plain_and_streamed_from_cohere_events_with_its_billed_units()
    {
        var settings = _service.Parse(TaskType.Completion, new JsonObject { ["api_key"] = _provider.ApiKey, ["model_id"] = "command-r" }, null);
        var client = ConnectorTestClients.Client(_service, settings).Completion!;
        var answer = FakeOpenAiServer.AnswerTo("tell me a story");
        var usage = new UsageDetails(FakeOpenAiServer.PromptTokens(["tell me a story"]), FakeOpenAiServer.CompletionTokens(answer));

        var plain = await client.CompleteAsync("tell me a story", new GenerationOptions { MaxOutputTokens = 20 });
        Assert.Equal((answer, FinishReason.Stop, usage), (plain.Text, plain.FinishReason, plain.Usage));
        Assert.Equal("""{"model":"command-r","messages":[{"role":"user","content":"tell me a story"}],"max_tokens":20}""", _provider.Requests[^1].Body);

        var updates = new List<GenerationUpdate>();
        await foreach (var update in client.CompleteStreamingAsync("tell me a story"))
        {
            updates.Add(update);
        }

        Assert.Equal(FakeOpenAiServer.Pieces(answer), updates.Where(u => u.Text.Length > 0).Select(u => u.Text));
        Assert.Equal((FinishReason.Stop, usage), (updates[^1].FinishReason, updates[^1].Usage));
        Assert.True(_provider.Requests[^1].Json!["stream"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_stream_cut_midway_is_the_stream_ended_error_after_the_pieces_sent()
    {
        var settings = _service.Parse(TaskType.Completion, new JsonObject { ["api_key"] = _provider.ApiKey, ["model_id"] = "command-r" }, null);
        var client = ConnectorTestClients.Client(_service, settings, "co-cut").Completion!;
        _provider.Faults.Enqueue(FakeFault.TruncateStream(2));
        var pieces = new List<string>();
        var error = await Assert.ThrowsAsync<InferenceApiException>(async () =>
        {
            await foreach (var update in client.CompleteStreamingAsync("one two three"))
            {
                pieces.Add(update.Text);
            }
        });
        Assert.Equal(2, pieces.Count);
        Assert.Equal((502, "The provider closed the stream for request from inference entity id [co-cut] before the answer ended"), (error.Status, error.Reason));
    }

    [Fact]
    public async Task Cohere_errors_keep_their_message_and_lose_the_key()
    {
        var parsed = _service.Parse(TaskType.Rerank, new JsonObject { ["api_key"] = "co-wrong-key-1234567", ["model_id"] = "m" }, null);
        var error = await Assert.ThrowsAsync<InferenceApiException>(() => _service.CompleteNewAsync("co-bad", parsed, CancellationToken.None));
        Assert.Equal(400, error.Status);
        Assert.Equal("Could not complete inference endpoint creation as validation call to service threw an exception. "
            + "Received an authentication error status code for request from inference entity id [co-bad] status [401]. Error message: [invalid api token [REDACTED]]", error.Reason);

        var settings = _service.Parse(TaskType.Rerank, new JsonObject { ["api_key"] = _provider.ApiKey, ["model_id"] = "m" }, null);
        _provider.Faults.Enqueue(FakeFault.Status(400, "invalid request: documents must not be empty"));
        var bad = await Assert.ThrowsAsync<InferenceApiException>(() => ConnectorTestClients.Client(_service, settings, "co-400").Rerank!.RerankAsync("q", ["d"]));
        Assert.Equal((400, "Received a bad request status code for request from inference entity id [co-400] status [400]. Error message: [invalid request: documents must not be empty]"),
            (bad.Status, bad.Reason));
    }

    [Fact]
    public void The_schema_lists_elasticsearchs_settings()
    {
        var json = _service.Configuration.ToJson();
        var configurations = json["configurations"]!.AsObject();
        Assert.Equal(["api_key", "model_id", "url", "embedding_type", "dimensions", "similarity", "max_input_tokens", "rate_limit"], configurations.Select(c => c.Key));
        Assert.True(configurations["api_key"]!["sensitive"]!.GetValue<bool>());
        Assert.Equal(["text_embedding"], configurations["embedding_type"]!["supported_task_types"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal(["text_embedding", "rerank", "completion"], json["task_types"]!.AsArray().Select(t => t!.GetValue<string>()));
    }
}
