using System.Net;
using System.Text.Json.Nodes;
using WebConsole.Tests.Providers;

namespace WebConsole.E2E.Connectors;

/// <summary>
/// The named OpenAI-compatible services (<c>mistral</c>, <c>groq</c>, <c>deepseek</c>) and <c>azureopenai</c> against the
/// same fake provider, reached through the operator's base URLs (Mistral, Groq, Azure) or the tenant's <c>url</c> (DeepSeek).
/// </summary>
[Collection(OpenAiConnectorCollection.Name)]
public sealed class OpenAiCompatibleConnectorTests(OpenAiConnectorFixture fixture)
{
    private FakeOpenAiServer Provider => fixture.Provider;

    [Fact]
    public async Task Mistral_embeds_with_probed_dimensions_and_streams_chat_with_its_usage_in_the_last_chunk()
    {
        var embed = await fixture.CreateAsync("text_embedding", "mistral-embed", new
        {
            service = "mistral",
            service_settings = new { api_key = Provider.ApiKey, model = "mistral-embed" },
        });
        Assert.Equal(Provider.Dimensions, embed["service_settings"]!["dimensions"]!.GetValue<int>());
        Assert.Equal(240, embed["service_settings"]!["rate_limit"]!["requests_per_minute"]!.GetValue<int>());
        Assert.Equal("/v1/embeddings", Provider.Requests[^1].Path);

        using var client = fixture.Client();
        using var embedding = await client.PostAsync("/_inference/text_embedding/mistral-embed", OpenAiConnectorFixture.Json(new { input = "bonjour" }));
        var embeddingText = await embedding.Content.ReadAsStringAsync();
        Assert.True(embedding.StatusCode == HttpStatusCode.OK, fixture.Explain(embeddingText));
        Assert.Equal(FakeOpenAiServer.EmbeddingOf("bonjour", Provider.Dimensions),
            JsonNode.Parse(embeddingText)!["text_embedding"]![0]!["embedding"]!.AsArray().Select(v => v!.GetValue<float>()));

        await fixture.CreateAsync("chat_completion", "mistral-chat", new
        {
            service = "mistral",
            service_settings = new { api_key = Provider.ApiKey, model = "mistral-small-latest" },
        });
        Provider.UsageInFinishChunk = true;
        try
        {
            using var stream = await client.PostAsync("/_inference/chat_completion/mistral-chat/_stream", OpenAiConnectorFixture.Json(new
            {
                messages = new[] { new { role = "user", content = "salut toi" } },
                max_completion_tokens = 50,
            }));
            var text = await stream.Content.ReadAsStringAsync();
            Assert.True(stream.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
            var chunks = OpenAiConnectorFixture.Events(text)[..^1].Select(e => JsonNode.Parse(e.Data)!).ToList();
            var answer = FakeOpenAiServer.AnswerTo("salut toi");
            Assert.Equal(answer, string.Concat(chunks.SelectMany(c => c["choices"]!.AsArray()).Select(c => c!["delta"]?["content"]?.GetValue<string>())));
            Assert.Equal(FakeOpenAiServer.CompletionTokens(answer), chunks[^1]["usage"]!["completion_tokens"]!.GetValue<int>());
        }
        finally
        {
            Provider.UsageInFinishChunk = false;
        }

        // Mistral's dialect: its model key, max_tokens, and no stream_options (it rejects fields it does not know).
        var sent = Provider.Requests[^1].Json!;
        Assert.Equal("mistral-small-latest", sent["model"]!.GetValue<string>());
        Assert.Equal(50, sent["max_tokens"]!.GetValue<int>());
        Assert.Null(sent["stream_options"]);
    }

    [Fact]
    public async Task Groq_and_DeepSeek_complete_and_chat()
    {
        await fixture.CreateAsync("chat_completion", "groq-chat", new
        {
            service = "groq",
            service_settings = new { api_key = Provider.ApiKey, model_id = "llama-3.3-70b-versatile" },
        });
        await fixture.CreateAsync("completion", "deepseek-complete", new
        {
            service = "deepseek",
            service_settings = new { api_key = Provider.ApiKey, model_id = "deepseek-chat", url = $"{Provider.BaseUrl}/chat/completions" },
        });
        using var client = fixture.Client();

        using var groq = await client.PostAsync("/v1/chat/completions", OpenAiConnectorFixture.Json(new
        {
            model = "groq-chat", messages = new[] { new { role = "user", content = "fast answer" } },
        }));
        var groqText = await groq.Content.ReadAsStringAsync();
        Assert.True(groq.StatusCode == HttpStatusCode.OK, fixture.Explain(groqText));
        Assert.Equal(FakeOpenAiServer.AnswerTo("fast answer"), JsonNode.Parse(groqText)!["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal("/openai/v1/chat/completions", Provider.Requests[^1].Path);

        using var deepseek = await client.PostAsync("/_inference/completion/deepseek-complete/_stream", OpenAiConnectorFixture.Json(new { input = "think deeply" }));
        var deepseekText = await deepseek.Content.ReadAsStringAsync();
        Assert.True(deepseek.StatusCode == HttpStatusCode.OK, fixture.Explain(deepseekText));
        var deltas = OpenAiConnectorFixture.Events(deepseekText).Where(e => e.Data.StartsWith('{'))
            .SelectMany(e => JsonNode.Parse(e.Data)!["completion"]!.AsArray()).Select(c => c!["delta"]?.GetValue<string>());
        Assert.Equal(FakeOpenAiServer.AnswerTo("think deeply"), string.Concat(deltas));
        Assert.Equal("/chat/completions", Provider.Requests[^1].Path);
    }

    [Fact]
    public async Task Azure_OpenAI_calls_the_deployment_with_its_api_key_header_on_every_task()
    {
        object Body() => new
        {
            service = "azureopenai",
            service_settings = new { api_key = Provider.ApiKey, resource_name = "my-resource", deployment_id = "my-deployment", api_version = "2024-10-21" },
        };
        var embed = await fixture.CreateAsync("text_embedding", "azure-embed", Body());
        Assert.Equal(Provider.Dimensions, embed["service_settings"]!["dimensions"]!.GetValue<int>());
        Assert.Null(embed["service_settings"]!["api_key"]);
        var probe = Provider.Requests[^1];
        Assert.Equal(("/openai/deployments/my-deployment/embeddings", "?api-version=2024-10-21"), (probe.Path, probe.Query));
        Assert.Equal(Provider.ApiKey, probe.Header("api-key"));
        Assert.Null(probe.Header("authorization"));

        await fixture.CreateAsync("chat_completion", "azure-chat", Body());
        using var client = fixture.Client();
        using var chat = await client.PostAsync("/_inference/chat_completion/azure-chat/_stream", OpenAiConnectorFixture.Json(new
        {
            messages = new[] { new { role = "user", content = "hello azure" } },
        }));
        var text = await chat.Content.ReadAsStringAsync();
        Assert.True(chat.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
        var chunks = OpenAiConnectorFixture.Events(text)[..^1].Select(e => JsonNode.Parse(e.Data)!).ToList();
        Assert.Equal(FakeOpenAiServer.AnswerTo("hello azure"),
            string.Concat(chunks.SelectMany(c => c["choices"]!.AsArray()).Select(c => c!["delta"]?["content"]?.GetValue<string>())));
        var sent = Provider.Requests[^1];
        Assert.Equal("/openai/deployments/my-deployment/chat/completions", sent.Path);
        Assert.Equal(Provider.ApiKey, sent.Header("api-key"));

        // Entra ID instead of a key: a bearer token.
        await fixture.CreateAsync("completion", "azure-entra", new
        {
            service = "azureopenai",
            service_settings = new { entra_id = Provider.ApiKey, resource_name = "r", deployment_id = "d", api_version = "2024-10-21" },
        });
        Assert.Equal($"Bearer {Provider.ApiKey}", Provider.Requests[^1].Header("authorization"));
        Assert.Null(Provider.Requests[^1].Header("api-key"));
    }
}
