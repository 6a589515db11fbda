using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Connectors.Custom;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Tests.Connectors.Custom;
using static WebConsole.Unit.Connectors.Custom.CustomEndpointSettingsTests;

namespace WebConsole.Unit.Connectors.Custom;

/// <summary>The client over real HTTP to a loopback provider, through the shared outbound chain.</summary>
public sealed class CustomInferenceClientTests : IAsyncLifetime
{
    private CustomProviderServer _provider = default!;
    private ProviderHttpClients _clients = default!;
    private CustomInferenceService _service = default!;

    public async Task InitializeAsync()
    {
        _provider = await CustomProviderServer.StartAsync();
        _clients = new ProviderHttpClients(
            Options.Create(new ConnectorOptions { AllowedOutboundAddresses = ["127.0.0.1"], MaxRetries = 0 }),
            TimeProvider.System,
            NullLogger<ProviderHttpClients>.Instance);
        _service = new CustomInferenceService(_clients);
    }

    public async Task DisposeAsync()
    {
        _clients.Dispose();
        await _provider.DisposeAsync();
    }

    [Fact]
    public async Task Embedding_inputs_go_out_in_batches_and_come_back_in_order()
    {
        var json = Settings("/embed", TaskType.TextEmbedding);
        json["batch_size"] = 2;
        var client = Client(TaskType.TextEmbedding, json);
        string[] inputs = ["one", "two words", "three", "four", "five and more"];

        var result = await client.TextEmbedding!.GenerateAsync(inputs, new EmbeddingOptions { InputType = InputType.Search });

        Assert.Equal(3, _provider.Requests.Count);
        Assert.Equal([2, 2, 1], _provider.Requests.Select(r => r.Json["texts"]!.AsArray().Count));
        Assert.Equal(inputs.Select(CustomProviderServer.EmbeddingOf), result.Embeddings.Select(e => e.Vector));
        Assert.Equal("Bearer sk-123", _provider.Requests[0].Header("Authorization"));
        Assert.Equal("application/json; charset=utf-8", _provider.Requests[0].Header("Content-Type"));
        // No usage in a custom provider's answer: about four characters a token.
        Assert.Equal((inputs.Sum(i => i.Length) + 3) / 4, result.Usage.InputTokens);
    }

    [Fact]
    public async Task A_provider_error_keeps_its_message_without_the_secret()
    {
        _provider.Respond = _ => (401, """{"error":{"message":"invalid key sk-123"}}""");
        var client = Client(TaskType.TextEmbedding, Settings("/embed", TaskType.TextEmbedding));

        var error = await Assert.ThrowsAsync<InferenceApiException>(() => client.TextEmbedding!.GenerateAsync(["x"]));

        Assert.Equal(401, error.Status);
        Assert.Equal("Received an authentication error status code for request from inference entity id [my-custom] status [401]. Error message: [invalid key [REDACTED]]", error.Reason);
    }

    [Fact]
    public async Task An_answer_the_parser_cannot_read_is_a_502_naming_the_field()
    {
        _provider.Respond = _ => (200, """{"embeddings":[[1,2]]}""");
        var client = Client(TaskType.TextEmbedding, Settings("/embed", TaskType.TextEmbedding));

        var error = await Assert.ThrowsAsync<InferenceApiException>(() => client.TextEmbedding!.GenerateAsync(["x"]));

        Assert.Equal(502, error.Status);
        Assert.Contains("Unable to find field [$.data] in the response", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fewer_embeddings_than_inputs_is_an_error_not_a_silent_shift()
    {
        _provider.Respond = _ => (200, """{"data":[{"embedding":[1]}]}""");
        var client = Client(TaskType.TextEmbedding, Settings("/embed", TaskType.TextEmbedding));

        var error = await Assert.ThrowsAsync<InferenceApiException>(() => client.TextEmbedding!.GenerateAsync(["a", "b"]));

        Assert.Equal(502, error.Status);
        Assert.StartsWith("The [custom] service returned [1] embeddings for [2] inputs", error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rerank_sorts_by_score_and_cuts_to_top_n()
    {
        var client = Client(TaskType.Rerank, Settings("/rerank", TaskType.Rerank));

        var result = await client.Rerank!.RerankAsync("red apple", ["green pear", "red apple pie", "red car"], new RerankOptions { TopN = 2 });

        Assert.Equal([1, 2], result.Documents.Select(d => d.Index));
        Assert.Equal(0.2f, result.Documents[0].RelevanceScore, 5);
        Assert.Equal(2, _provider.Requests[0].Json["top_n"]!.GetValue<int>());
    }

    [Fact]
    public async Task Completion_reads_the_text_and_counts_both_sides()
    {
        var client = Client(TaskType.Completion, Settings("/complete", TaskType.Completion));

        var result = await client.Completion!.CompleteAsync("Hello there");

        Assert.Equal("echo: Hello there", result.Text);
        Assert.Equal(new UsageDetails(3, 5), result.Usage);
    }

    [Fact]
    public async Task Creating_a_text_embedding_endpoint_probes_once_for_its_dimensions()
    {
        var settings = _service.Parse(TaskType.TextEmbedding, Settings("/embed", TaskType.TextEmbedding), null);

        var completed = (CustomEndpointSettings)await _service.CompleteNewAsync("my-custom", settings, default);

        Assert.Equal(3, completed.Dimensions);
        Assert.Equal("dot_product", completed.Similarity);
        Assert.Equal("how big", _provider.Requests.Single().Json["texts"]![0]!.GetValue<string>());
        Assert.Equal(3, completed.ToServiceSettings()["dimensions"]!.GetValue<int>());
    }

    [Fact]
    public async Task Given_dimensions_must_match_what_the_probe_finds()
    {
        var json = Settings("/embed", TaskType.TextEmbedding);
        json["dimensions"] = 8;
        var settings = _service.Parse(TaskType.TextEmbedding, json, null);

        var error = await Assert.ThrowsAsync<InferenceApiException>(() => _service.CompleteNewAsync("my-custom", settings, default));

        Assert.Equal(400, error.Status);
        Assert.Equal("The retrieved embeddings size [3] does not match the size specified in the settings [8]. Please recreate the [my-custom] configuration with the correct dimensions", error.Reason);
    }

    [Fact]
    public async Task A_failing_probe_is_a_400_that_keeps_the_provider_error()
    {
        _provider.Respond = _ => (500, """{"error":{"message":"model overloaded"}}""");
        var settings = _service.Parse(TaskType.Rerank, Settings("/rerank", TaskType.Rerank), null);

        var error = await Assert.ThrowsAsync<InferenceApiException>(() => _service.CompleteNewAsync("my-custom", settings, default));

        Assert.Equal(400, error.Status);
        Assert.Equal("Could not complete inference endpoint creation as validation call to service threw an exception. "
            + "Received a server error status code for request from inference entity id [my-custom] status [500]. Error message: [model overloaded]", error.Reason);
        // The rerank probe fills top_n, as Elasticsearch's does.
        Assert.Equal(1, _provider.Requests.Single().Json["top_n"]!.GetValue<int>());
    }

    private IInferenceClient Client(TaskType taskType, JsonObject serviceSettings)
    {
        var settings = _service.Parse(taskType, serviceSettings, null);
        var endpoint = InferenceEndpoint.Create(Guid.NewGuid(), Guid.NewGuid(), InferenceId.Parse("my-custom"), taskType, "custom",
            "{}", null, null, null, DateTimeOffset.UtcNow);
        return _service.CreateClient(endpoint, settings);
    }

    private JsonObject Settings(string path, TaskType taskType)
    {
        var json = For(taskType);
        json["url"] = _provider.BaseUrl + path;
        json["request"] = taskType switch
        {
            TaskType.Rerank => """{"query": ${query}, "documents": ${input}, "top_n": ${top_n}}""",
            TaskType.Completion => """{"prompt": ${input}}""",
            _ => """{"texts": ${input}}""",
        };
        return json;
    }
}
