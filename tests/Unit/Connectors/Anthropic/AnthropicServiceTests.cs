using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Connectors.Anthropic;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Tests.Providers;

namespace WebConsole.Unit.Connectors.Anthropic;

/// <summary>The anthropic service: Elasticsearch's settings, the Messages API request, and its answers and events over real HTTP.</summary>
public sealed class AnthropicServiceTests : IAsyncLifetime
{
    private FakeAnthropicServer _provider = default!;
    private ProviderHttpClients _clients = default!;

    public async Task InitializeAsync()
    {
        _provider = await FakeAnthropicServer.StartAsync();
        _clients = new ProviderHttpClients(
            Options.Create(new ConnectorOptions
            {
                AllowedOutboundAddresses = ["127.0.0.1"],
                MaxRetries = 0,
                AttemptTimeout = TimeSpan.FromSeconds(2),
                BaseUrls = { ["anthropic"] = new Uri(_provider.BaseUrl + "/v1") },
            }),
            TimeProvider.System,
            NullLogger<ProviderHttpClients>.Instance);
    }

    public async Task DisposeAsync()
    {
        _clients.Dispose();
        await _provider.DisposeAsync();
    }

    [Fact]
    public void Settings_need_max_tokens_as_Elasticsearch_does_and_default_to_50_a_minute()
    {
        var service = new AnthropicInferenceService(_clients);
        var settings = (AnthropicSettings)service.Parse(TaskType.Completion,
            new JsonObject { ["api_key"] = "k", ["model_id"] = "claude" },
            new JsonObject { ["max_tokens"] = 64, ["temperature"] = 0.5, ["top_p"] = 0.9, ["top_k"] = 5 });
        Assert.Equal((50, 64, 0.5, 0.9, 5), (settings.RequestsPerMinute, settings.MaxTokens, settings.Temperature, settings.TopP, settings.TopK));
        Assert.Equal(["completion", "chat_completion"], service.SupportedTaskTypes.Select(t => t.ToWireName()));

        var missing = Assert.Throws<InferenceApiException>(() => service.Parse(TaskType.Completion, new JsonObject { ["api_key"] = "k", ["model_id"] = "claude" }, null));
        Assert.Equal("[task_settings] does not contain the required setting [max_tokens]", missing.Reason);
        var unknown = Assert.Throws<InferenceApiException>(() => service.Parse(TaskType.Completion,
            new JsonObject { ["api_key"] = "k", ["model_id"] = "claude" }, new JsonObject { ["max_tokens"] = 1, ["top_x"] = 1 }));
        Assert.Equal("Configuration contains settings [{top_x=1}] unknown to the [anthropic] service", unknown.Reason);
        Assert.Throws<InferenceApiException>(() => service.Parse(TaskType.TextEmbedding, new JsonObject { ["api_key"] = "k", ["model_id"] = "claude" }, new JsonObject { ["max_tokens"] = 1 }));
    }

    [Fact]
    public async Task A_chat_splits_out_the_system_prompt_joins_turns_and_takes_the_usage_Anthropic_reports()
    {
        var chat = Client(TaskType.ChatCompletion, new JsonObject { ["max_tokens"] = 100, ["top_k"] = 3 }).ChatCompletion!;
        ChatMessage[] messages =
        [
            new(ChatRole.System, "be brief"),
            new(ChatRole.User, "hello"),
            new(ChatRole.User, "tell me about tides"),
        ];
        var answer = await chat.GetResponseAsync(messages, new GenerationOptions { MaxOutputTokens = 20, Temperature = 0.25f });

        var sent = _provider.Requests[^1];
        Assert.Equal((_provider.ApiKey, AnthropicInferenceService.ApiVersion), (sent.Header("x-api-key"), sent.Header("anthropic-version")));
        var body = sent.Json!;
        Assert.Equal(("be brief", 20, 0.25, 3), (body["system"]!.GetValue<string>(), body["max_tokens"]!.GetValue<int>(), body["temperature"]!.GetValue<double>(), body["top_k"]!.GetValue<int>()));
        var turn = Assert.Single(body["messages"]!.AsArray());
        Assert.Equal(("user", "hello\n\ntell me about tides"), (turn!["role"]!.GetValue<string>(), turn["content"]!.GetValue<string>()));

        var expected = FakeOpenAiServer.AnswerTo("hello\n\ntell me about tides");
        Assert.Equal(expected, answer.Text);
        Assert.Equal(new UsageDetails(FakeAnthropicServer.InputTokens("be brief", ["hello\n\ntell me about tides"]), FakeOpenAiServer.CompletionTokens(expected)), answer.Usage);
        Assert.Equal(FinishReason.Stop, answer.FinishReason);
    }

    [Fact]
    public async Task A_stream_yields_the_deltas_and_ends_with_message_deltas_usage()
    {
        var completion = Client(TaskType.Completion, new JsonObject { ["max_tokens"] = 100 }).Completion!;
        var updates = new List<GenerationUpdate>();
        await foreach (var update in completion.CompleteStreamingAsync("write a haiku"))
        {
            updates.Add(update);
        }

        var answer = FakeOpenAiServer.AnswerTo("write a haiku");
        Assert.Equal(FakeOpenAiServer.Pieces(answer), updates.Where(u => u.Text.Length > 0).Select(u => u.Text));
        Assert.Equal(FinishReason.Stop, updates[^1].FinishReason);
        Assert.Equal(new UsageDetails(FakeAnthropicServer.InputTokens(null, ["write a haiku"]), FakeOpenAiServer.CompletionTokens(answer)), updates[^1].Usage);
        Assert.True(_provider.Requests[^1].Json!["stream"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("overloaded_error", 500)]
    [InlineData("rate_limit_error", 429)]
    [InlineData("invalid_request_error", 400)]
    public async Task An_error_event_mid_stream_is_mapped_to_its_status_after_the_pieces_sent(string type, int status)
    {
        var completion = Client(TaskType.Completion, new JsonObject { ["max_tokens"] = 100 }).Completion!;
        _provider.Faults.Enqueue(new StreamErrorFault(1, type, "Overloaded"));
        var received = new List<string>();
        var error = await Assert.ThrowsAsync<InferenceApiException>(async () =>
        {
            await foreach (var update in completion.CompleteStreamingAsync("one two three"))
            {
                received.Add(update.Text);
            }
        });
        Assert.Single(received);
        Assert.Equal((status, "Received an error response for request from inference entity id [my-endpoint]. Error message: [Overloaded]"), (error.Status, error.Reason));
    }

    [Theory]
    [InlineData(529, "Received an Anthropic server is temporarily overloaded status code for request from inference entity id [my-endpoint] status [529]. Error message: [Overloaded]")]
    [InlineData(500, "Received a server error status code for request from inference entity id [my-endpoint] status [500]. Error message: [Overloaded]")]
    [InlineData(429, "Received a rate limit status code. Token limit [unknown], remaining tokens [unknown], tokens reset [unknown]. Request limit [50], remaining requests [0], request reset [unknown]. Retry after [unknown] for request from inference entity id [my-endpoint] status [429]. Error message: [Overloaded]")]
    public async Task Failed_answers_follow_Elasticsearchs_Anthropic_rules(int status, string reason)
    {
        var completion = Client(TaskType.Completion, new JsonObject { ["max_tokens"] = 100 }).Completion!;
        _provider.Faults.Enqueue(FakeFault.Status(status, "Overloaded"));
        var error = await Assert.ThrowsAsync<InferenceApiException>(() => completion.CompleteAsync("hi"));
        Assert.Equal(reason, error.Reason);
        Assert.Equal(status == 429 ? 429 : 400, error.Status);
    }

    [Fact]
    public async Task A_wrong_key_is_an_authentication_error_that_never_repeats_the_key()
    {
        var service = new AnthropicInferenceService(_clients);
        var settings = service.Parse(TaskType.Completion, new JsonObject { ["api_key"] = "sk-ant-wrong-key-42", ["model_id"] = "claude" }, new JsonObject { ["max_tokens"] = 10 });
        var error = await Assert.ThrowsAsync<InferenceApiException>(() => service.CompleteNewAsync("probe-me", settings, CancellationToken.None));
        Assert.Equal(400, error.Status);
        Assert.StartsWith("Could not complete inference endpoint creation as validation call to service threw an exception. Received an authentication error status code", error.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-ant-wrong-key-42", error.Reason, StringComparison.Ordinal);
        Assert.Contains("[REDACTED]", error.Reason, StringComparison.Ordinal);
    }

    private IInferenceClient Client(TaskType taskType, JsonObject taskSettings)
    {
        var service = new AnthropicInferenceService(_clients);
        var settings = service.Parse(taskType, new JsonObject { ["api_key"] = _provider.ApiKey, ["model_id"] = "claude-test" }, taskSettings);
        return service.CreateClient(InferenceEndpoint.Create(Guid.NewGuid(), Guid.NewGuid(), InferenceId.Parse("my-endpoint"), taskType, service.Name,
            "{}", null, null, null, DateTimeOffset.UtcNow), settings);
    }
}
