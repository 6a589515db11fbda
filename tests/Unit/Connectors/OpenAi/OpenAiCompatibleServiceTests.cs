using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WebConsole.Domain.Endpoints;
using WebConsole.Inference.Abstractions;
using WebConsole.Infrastructure.Connectors.OpenAi;
using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Tests.Providers;

namespace WebConsole.Unit.Connectors.OpenAi;

/// <summary>The OpenAI-family services: settings as Elasticsearch parses them, and their clients over real HTTP to a fake.</summary>
public sealed class OpenAiCompatibleServiceTests : IAsyncLifetime
{
    private FakeOpenAiServer _provider = default!;
    private ProviderHttpClients _clients = default!;

    public async Task InitializeAsync()
    {
        _provider = await FakeOpenAiServer.StartAsync();
        _clients = new ProviderHttpClients(
            Options.Create(new ConnectorOptions
            {
                AllowedOutboundAddresses = ["127.0.0.1"],
                RetryBaseDelay = TimeSpan.FromMilliseconds(20),
                AttemptTimeout = TimeSpan.FromSeconds(1),
                BaseUrls = { ["mistral"] = new Uri(_provider.BaseUrl + "/v1") },
                AzureOpenAi = { BaseUrl = new Uri(_provider.BaseUrl) },
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
    public void OpenAI_settings_take_Elasticsearchs_keys_and_defaults()
    {
        var service = new OpenAiInferenceService(_clients);
        var embeddings = (OpenAiCompatibleSettings)service.Parse(TaskType.TextEmbedding,
            new JsonObject { ["api_key"] = "k", ["model_id"] = "text-embedding-3-small", ["dimensions"] = 256, ["organization_id"] = "org" },
            new JsonObject { ["user"] = "u1" });
        Assert.Equal((3000, 256, true, "u1"), (embeddings.RequestsPerMinute, embeddings.Dimensions, embeddings.DimensionsSetByUser, embeddings.User));
        var stored = embeddings.ToServiceSettings();
        Assert.Equal(3000, stored["rate_limit"]!["requests_per_minute"]!.GetValue<int>());
        Assert.Equal("k", stored["api_key"]!.GetValue<string>());

        var chat = (OpenAiCompatibleSettings)service.Parse(TaskType.ChatCompletion,
            new JsonObject { ["api_key"] = "k", ["model_id"] = "gpt-4o", ["rate_limit"] = new JsonObject { ["requests_per_minute"] = 20 } }, null);
        Assert.Equal(20, chat.RequestsPerMinute);
        Assert.Equal(500, ((OpenAiCompatibleSettings)service.Parse(TaskType.Completion, new JsonObject { ["api_key"] = "k", ["model_id"] = "m" }, null)).RequestsPerMinute);
        Assert.Contains("api_key", service.SecretFields);
    }

    [Theory]
    [InlineData("""{"api_key":"k"}""", "[service_settings] does not contain the required setting [model_id]")]
    [InlineData("""{"model_id":"m"}""", "[service_settings] does not contain the required setting [api_key]")]
    [InlineData("""{"api_key":"k","model_id":"m","temperature":1}""", "Configuration contains settings [{temperature=1}] unknown to the [openai] service")]
    [InlineData("""{"api_key":"k","model_id":"m","url":"ftp://x"}""", "[service_settings] Invalid url [ftp://x] received for field [url]. [url] must be an absolute http or https URL")]
    [InlineData("""{"api_key":"k","model_id":"m","rate_limit":{"requests_per_minute":0}}""", "[rate_limit] Invalid value [0]. [requests_per_minute] must be a positive integer")]
    [InlineData("""{"api_key":"k","model_id":"m","similarity":"manhattan"}""", "[service_settings] Invalid value [manhattan] received. [similarity] must be one of [cosine, dot_product, l2_norm]")]
    public void Bad_openai_settings_are_400s_naming_the_setting(string settings, string reason)
    {
        var service = new OpenAiInferenceService(_clients);
        var error = Assert.Throws<InferenceApiException>(() => service.Parse(TaskType.TextEmbedding, JsonNode.Parse(settings)!.AsObject(), null));
        Assert.Equal((400, reason), (error.Status, error.Reason));
    }

    [Fact]
    public void Named_services_have_their_own_keys_task_types_and_rates()
    {
        var mistral = new MistralInferenceService(_clients);
        Assert.Equal(240, ((OpenAiCompatibleSettings)mistral.Parse(TaskType.TextEmbedding, new JsonObject { ["api_key"] = "k", ["model"] = "mistral-embed" }, null)).RequestsPerMinute);
        Assert.Throws<InferenceApiException>(() => mistral.Parse(TaskType.TextEmbedding, new JsonObject { ["api_key"] = "k", ["model_id"] = "mistral-embed" }, null));

        var groq = new GroqInferenceService(_clients);
        Assert.Equal([TaskType.Completion, TaskType.ChatCompletion], groq.SupportedTaskTypes);
        Assert.Equal(30, ((OpenAiCompatibleSettings)groq.Parse(TaskType.ChatCompletion, new JsonObject { ["api_key"] = "k", ["model_id"] = "llama" }, null)).RequestsPerMinute);
        Assert.Throws<InferenceApiException>(() => groq.Parse(TaskType.ChatCompletion, new JsonObject { ["api_key"] = "k", ["model_id"] = "llama", ["url"] = "http://x" }, null));

        var deepseek = new DeepSeekInferenceService(_clients);
        var deepseekSettings = (OpenAiCompatibleSettings)deepseek.Parse(TaskType.Completion, new JsonObject { ["api_key"] = "k", ["model_id"] = "deepseek-chat" }, null);
        Assert.Null(deepseekSettings.RequestsPerMinute);
        Assert.Equal(new Uri("https://api.deepseek.com/chat/completions"), deepseek.ResolveUri(deepseekSettings, "/chat/completions"));

        var schema = new OpenAiInferenceService(_clients).Configuration.ToJson()["configurations"]!.AsObject();
        Assert.True(schema["api_key"]!["sensitive"]!.GetValue<bool>());
        Assert.True(schema["rate_limit"]!["updatable"]!.GetValue<bool>());
        Assert.Equal(["text_embedding"], schema["dimensions"]!["supported_task_types"]!.AsArray().Select(t => t!.GetValue<string>()));
    }

    [Fact]
    public void Azure_takes_either_an_api_key_or_an_entra_token_and_builds_the_deployment_url()
    {
        var azure = new AzureOpenAiInferenceService(_clients);
        JsonObject Settings() => new() { ["resource_name"] = "res", ["deployment_id"] = "dep", ["api_version"] = "2024-10-21" };
        var neither = Assert.Throws<InferenceApiException>(() => azure.Parse(TaskType.TextEmbedding, Settings(), null));
        Assert.Equal("[secret_settings] must have either the [api_key] or the [entra_id] key", neither.Reason);
        var both = Settings();
        both["api_key"] = "k";
        both["entra_id"] = "t";
        Assert.Equal("[secret_settings] must have only one of the [api_key] or the [entra_id] key",
            Assert.Throws<InferenceApiException>(() => azure.Parse(TaskType.TextEmbedding, both, null)).Reason);

        var withKey = Settings();
        withKey["api_key"] = "k";
        var settings = (OpenAiCompatibleSettings)azure.Parse(TaskType.ChatCompletion, withKey, null);
        Assert.Equal(120, settings.RequestsPerMinute);
        Assert.Equal(new Uri($"{_provider.BaseUrl}/openai/deployments/dep/chat/completions?api-version=2024-10-21"), azure.ResolveUri(settings, "/chat/completions"));
        Assert.Equal(["api_key", "entra_id"], azure.SecretFields.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("/v1", "/v1/embeddings")]
    [InlineData("/v1/", "/v1/embeddings")]
    [InlineData("/v1/embeddings", "/v1/embeddings")]
    [InlineData("/custom/path/embeddings", "/custom/path/embeddings")]
    public void The_url_setting_is_a_full_request_url_or_a_base(string given, string path)
    {
        var service = new OpenAiInferenceService(_clients);
        var settings = (OpenAiCompatibleSettings)service.Parse(TaskType.TextEmbedding,
            new JsonObject { ["api_key"] = "k", ["model_id"] = "m", ["url"] = _provider.BaseUrl + given }, null);
        Assert.Equal(new Uri(_provider.BaseUrl + path), service.ResolveUri(settings, "/embeddings"));
    }

    [Fact]
    public async Task The_probe_of_a_new_embedding_endpoint_finds_its_dimensions_and_keeps_them_out_of_requests()
    {
        _provider.Dimensions = 12;
        var service = new OpenAiInferenceService(_clients);
        var parsed = service.Parse(TaskType.TextEmbedding, OpenAi(), null);

        var completed = (OpenAiCompatibleSettings)await service.CompleteNewAsync("my-embed", parsed, CancellationToken.None);

        Assert.Equal((12, false, "dot_product"), (completed.Dimensions, completed.DimensionsSetByUser, completed.Similarity));
        var probe = Assert.Single(_provider.Requests);
        Assert.Equal("how big", probe.Json!["input"]![0]!.GetValue<string>());
        Assert.Null(probe.Json["dimensions"]);
        Assert.Equal("float", probe.Json["encoding_format"]!.GetValue<string>());

        // Stored and read back, the probed size is still not sent.
        var stored = (OpenAiCompatibleSettings)service.Parse(TaskType.TextEmbedding, completed.ToServiceSettings(), null);
        Assert.Equal((12, false), (stored.Dimensions, stored.DimensionsSetByUser));
        var result = await Client(service, stored).TextEmbedding!.GenerateAsync(["hello world", "a b c"]);
        Assert.Null(_provider.Requests[^1].Json!["dimensions"]);
        Assert.Equal(FakeOpenAiServer.EmbeddingOf("hello world", 12), result.Embeddings[0].Vector);
        Assert.Equal(FakeOpenAiServer.EmbeddingOf("a b c", 12), result.Embeddings[1].Vector);
        Assert.Equal(new UsageDetails(FakeOpenAiServer.EmbeddingTokens(["hello world", "a b c"]), 0), result.Usage);
    }

    [Fact]
    public async Task Dimensions_the_tenant_sets_are_asked_for_and_must_match_the_probe()
    {
        var service = new OpenAiInferenceService(_clients);
        var settings = OpenAi();
        settings["dimensions"] = 5;
        var completed = (OpenAiCompatibleSettings)await service.CompleteNewAsync("e", service.Parse(TaskType.TextEmbedding, settings, null), CancellationToken.None);
        Assert.Equal((5, true), (completed.Dimensions, completed.DimensionsSetByUser));
        Assert.Equal(5, _provider.Requests[^1].Json!["dimensions"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_failing_probe_is_a_400_with_the_providers_error_and_no_secret()
    {
        var service = new OpenAiInferenceService(_clients);
        var settings = OpenAi();
        settings["api_key"] = "sk-wrong-key-987654321";
        var error = await Assert.ThrowsAsync<InferenceApiException>(() =>
            service.CompleteNewAsync("my-embed", service.Parse(TaskType.TextEmbedding, settings, null), CancellationToken.None));
        Assert.Equal(400, error.Status);
        Assert.StartsWith("Could not complete inference endpoint creation as validation call to service threw an exception. "
            + "Received an authentication error status code for request from inference entity id [my-embed] status [401]. Error message: [Incorrect API key provided: [REDACTED].", error.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-wrong-key-987654321", error.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("mistral")]
    [InlineData("azureopenai")]
    public async Task Chat_answers_with_the_providers_usage_and_sends_its_auth_and_dialect(string serviceName)
    {
        var (service, settings) = ChatService(serviceName);
        var client = Client(service, service.Parse(TaskType.ChatCompletion, settings, null)).ChatCompletion!;
        ChatMessage[] messages = [new(ChatRole.System, "be brief"), new(ChatRole.User, "hello there")];

        var response = await client.GetResponseAsync(messages, new GenerationOptions { MaxOutputTokens = 7, Temperature = 0.5f, StopSequences = ["."] });

        Assert.Equal(FakeOpenAiServer.AnswerTo("hello there"), response.Text);
        Assert.Equal(FinishReason.Stop, response.FinishReason);
        var answer = FakeOpenAiServer.AnswerTo("hello there");
        Assert.Equal(new UsageDetails(FakeOpenAiServer.PromptTokens(["be brief", "hello there"]), FakeOpenAiServer.CompletionTokens(answer)), response.Usage);
        var sent = _provider.Requests[^1];
        Assert.Equal(0.5, sent.Json!["temperature"]!.GetValue<double>(), 3);
        Assert.Equal(".", sent.Json["stop"]![0]!.GetValue<string>());
        switch (serviceName)
        {
            case "openai":
                Assert.Equal(7, sent.Json["max_completion_tokens"]!.GetValue<int>());
                Assert.Equal($"Bearer {_provider.ApiKey}", sent.Header("authorization"));
                Assert.Equal("/v1/chat/completions", sent.Path);
                break;
            case "mistral":
                Assert.Equal(7, sent.Json["max_tokens"]!.GetValue<int>());
                Assert.Null(sent.Json["max_completion_tokens"]);
                Assert.Equal("mistral-small", sent.Json["model"]!.GetValue<string>());
                break;
            default:
                Assert.Equal(_provider.ApiKey, sent.Header("api-key"));
                Assert.Null(sent.Header("authorization"));
                Assert.Equal("/openai/deployments/my-deployment/chat/completions", sent.Path);
                Assert.Equal("?api-version=2024-10-21", sent.Query);
                break;
        }
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("mistral")]
    public async Task Streams_pass_the_providers_pieces_through_and_end_with_its_usage(string serviceName)
    {
        _provider.UsageInFinishChunk = serviceName == "mistral";
        var (service, settings) = ChatService(serviceName);
        var client = Client(service, service.Parse(TaskType.ChatCompletion, settings, null)).ChatCompletion!;
        var updates = new List<GenerationUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "one two three")]))
        {
            updates.Add(update);
        }

        var answer = FakeOpenAiServer.AnswerTo("one two three");
        Assert.Equal(FakeOpenAiServer.Pieces(answer), updates.Where(u => u.Text.Length > 0).Select(u => u.Text));
        var last = updates[^1];
        Assert.Equal(FinishReason.Stop, last.FinishReason);
        Assert.Equal(new UsageDetails(FakeOpenAiServer.PromptTokens(["one two three"]), FakeOpenAiServer.CompletionTokens(answer)), last.Usage);
        Assert.All(updates[..^1], u => Assert.NotNull(u.Usage));
        var sent = _provider.Requests[^1].Json!;
        Assert.True(sent["stream"]!.GetValue<bool>());
        Assert.Equal(serviceName == "openai", sent["stream_options"]?["include_usage"]?.GetValue<bool>() == true);
    }

    [Theory]
    [InlineData("openai", true)]
    [InlineData("openai", false)]
    [InlineData("mistral", true)]
    [InlineData("mistral", false)]
    public async Task A_stream_cut_midway_ends_in_the_mapped_error_after_the_pieces_so_far(string serviceName, bool abort)
    {
        _provider.Faults.Enqueue(abort ? FakeFault.AbortStream(2) : FakeFault.TruncateStream(2));
        var (service, settings) = ChatService(serviceName);
        var client = Client(service, service.Parse(TaskType.ChatCompletion, settings, null)).ChatCompletion!;
        var pieces = new List<GenerationUpdate>();
        var error = await Assert.ThrowsAsync<InferenceApiException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "one two three")]))
            {
                pieces.Add(update);
            }
        });

        Assert.Equal(2, pieces.Count);
        Assert.Equal(502, error.Status);
        Assert.Equal("The provider closed the stream for request from inference entity id [my-endpoint] before the answer ended", error.Reason);
        Assert.NotNull(pieces[^1].Usage);
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("mistral")]
    public async Task Provider_errors_before_a_stream_and_hangs_are_mapped(string serviceName)
    {
        var (service, settings) = ChatService(serviceName);
        var client = Client(service, service.Parse(TaskType.ChatCompletion, settings, null)).ChatCompletion!;

        _provider.Faults.Enqueue(FakeFault.Status(400, "Invalid 'messages'"));
        var bad = await Assert.ThrowsAsync<InferenceApiException>(async () =>
        {
            await foreach (var _ in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "x")]))
            {
            }
        });
        Assert.Equal((400, "Received a bad request status code for request from inference entity id [my-endpoint] status [400]. Error message: [Invalid 'messages']"),
            (bad.Status, bad.Reason));

        _provider.Faults.Enqueue(FakeFault.Hang);
        var hang = await Assert.ThrowsAsync<InferenceApiException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "x")]));
        Assert.Equal((408, "Request timed out"), (hang.Status, hang.Reason));

        foreach (var _ in Enumerable.Range(0, 3))
        {
            _provider.Faults.Enqueue(FakeFault.Status(500, "boom"));
        }

        var server = await Assert.ThrowsAsync<InferenceApiException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "x")]));
        Assert.Equal((400, "Received a server error status code for request from inference entity id [my-endpoint] status [500]. Error message: [boom]"),
            (server.Status, server.Reason));
    }

    [Fact]
    public async Task A_completion_is_a_chat_with_the_prompt_as_the_user_message()
    {
        var service = new OpenAiInferenceService(_clients);
        var client = Client(service, service.Parse(TaskType.Completion, OpenAi(), new JsonObject { ["user"] = "tenant-user" })).Completion!;
        var response = await client.CompleteAsync("write a poem");
        Assert.Equal(FakeOpenAiServer.AnswerTo("write a poem"), response.Text);
        var sent = _provider.Requests[^1].Json!;
        Assert.Equal("user", sent["messages"]![0]!["role"]!.GetValue<string>());
        Assert.Equal("tenant-user", sent["user"]!.GetValue<string>());
    }

    private JsonObject OpenAi() => new() { ["api_key"] = _provider.ApiKey, ["model_id"] = "gpt-test", ["url"] = _provider.BaseUrl + "/v1" };

    private (OpenAiCompatibleService Service, JsonObject Settings) ChatService(string name) => name switch
    {
        "openai" => (new OpenAiInferenceService(_clients), OpenAi()),
        "mistral" => (new MistralInferenceService(_clients), new JsonObject { ["api_key"] = _provider.ApiKey, ["model"] = "mistral-small" }),
        _ => (new AzureOpenAiInferenceService(_clients), new JsonObject
        {
            ["api_key"] = _provider.ApiKey, ["resource_name"] = "res", ["deployment_id"] = "my-deployment", ["api_version"] = "2024-10-21",
        }),
    };

    private static IInferenceClient Client(OpenAiCompatibleService service, EndpointSettings settings)
    {
        var endpoint = InferenceEndpoint.Create(Guid.NewGuid(), Guid.NewGuid(), InferenceId.Parse("my-endpoint"), settings.TaskType, service.Name,
            "{}", null, null, null, DateTimeOffset.UtcNow);
        return service.CreateClient(endpoint, settings);
    }
}
