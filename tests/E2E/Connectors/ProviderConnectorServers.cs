using System.Net;
using System.Text.Json.Nodes;
using WebConsole.E2E.Infrastructure;
using WebConsole.Tests.Providers;

namespace WebConsole.E2E.Connectors;

/// <summary>
/// One real WebConsole server for the hugging_face and anthropic connectors, with their fake providers beside it on
/// loopback: a Hugging Face endpoint (TEI formats), an OpenAI-compatible server standing for Hugging Face's chat route
/// (it takes the Hugging Face token), and Anthropic's Messages API (<c>Connectors:BaseUrls:anthropic</c>). Attempts time
/// out after 2 s and retries wait 50 ms (or the provider's Retry-After).
/// </summary>
public sealed class ProviderConnectorFixture : IAsyncLifetime
{
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(2);

    private WebConsoleServer? _server;

    public WebConsoleServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public FakeHuggingFaceServer HuggingFace { get; private set; } = default!;

    public FakeOpenAiServer HuggingFaceChat { get; private set; } = default!;

    public FakeAnthropicServer Anthropic { get; private set; } = default!;

    public async Task InitializeAsync()
    {
        HuggingFace = await FakeHuggingFaceServer.StartAsync();
        HuggingFaceChat = await FakeOpenAiServer.StartAsync();
        HuggingFaceChat.ApiKey = HuggingFace.Token;
        Anthropic = await FakeAnthropicServer.StartAsync();
        var settings = ServerFixture.Settings.ToDictionary();
        settings["Connectors:AllowedOutboundAddresses"] = "127.0.0.1";
        settings["Connectors:RetryBaseDelay"] = "00:00:00.050";
        settings["Connectors:AttemptTimeout"] = AttemptTimeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        settings["Connectors:BaseUrls:anthropic"] = $"{Anthropic.BaseUrl}/v1";
        _server = await WebConsoleServer.StartAsync(settings);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        await HuggingFace.DisposeAsync();
        await HuggingFaceChat.DisposeAsync();
        await Anthropic.DisposeAsync();
    }

    public HttpClient Client() => Server.CreateApiKeyClient();

    public string Explain(string answer)
    {
        var log = Server.Log;
        return $"{answer}\n--- server log (tail):\n{(log.Length > 6000 ? log[^6000..] : log)}";
    }

    /// <summary>Creates an endpoint unless it exists; answers the stored configuration (asserting 200).</summary>
    public async Task<JsonObject> CreateAsync(string taskType, string inferenceId, object body)
    {
        using var client = Client();
        using (var existing = await client.GetAsync($"/_inference/{inferenceId}"))
        {
            if (existing.StatusCode == HttpStatusCode.OK)
            {
                return JsonNode.Parse(await existing.Content.ReadAsStringAsync())!["endpoints"]![0]!.AsObject();
            }
        }

        using var response = await client.PutAsync($"/_inference/{taskType}/{inferenceId}", OpenAiConnectorFixture.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, Explain($"create {inferenceId}: {(int)response.StatusCode} {text}"));
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>A hugging_face endpoint at a path of the fake (the chat route is the OpenAI-compatible fake's).</summary>
    public object HuggingFaceEndpoint(string path, object? taskSettings = null) => new
    {
        service = "hugging_face",
        service_settings = new
        {
            url = path == "/v1/chat/completions" ? $"{HuggingFaceChat.BaseUrl}{path}" : $"{HuggingFace.BaseUrl}{path}",
            api_key = HuggingFace.Token,
        },
        task_settings = taskSettings ?? new { },
    };

    /// <summary>An anthropic endpoint.</summary>
    public object AnthropicEndpoint(int maxTokens = 200) => new
    {
        service = "anthropic",
        service_settings = new { api_key = Anthropic.ApiKey, model_id = "claude-test" },
        task_settings = new { max_tokens = maxTokens },
    };

    /// <summary>The ledger's requests and tokens of one endpoint (zeros when it has none), once the ledger has written them.</summary>
    public async Task<(long Requests, long Input, long Output)> BilledAsync(string inferenceId, long atLeast = 0)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            using var client = Client();
            var text = await client.GetStringAsync(new Uri($"/api/usage/summary?group_by=endpoint&inference_id={inferenceId}", UriKind.Relative));
            var group = JsonNode.Parse(text)!["groups"]!.AsArray().FirstOrDefault(g => g!["key"]!.GetValue<string>() == inferenceId);
            var billed = group is null ? (0L, 0L, 0L)
                : (group["requests"]!.GetValue<long>(), group["input_tokens"]!.GetValue<long>(), group["output_tokens"]!.GetValue<long>());
            if (billed.Item1 >= atLeast || DateTime.UtcNow > deadline)
            {
                return billed;
            }

            await Task.Delay(100);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ProviderConnectorCollection : ICollectionFixture<ProviderConnectorFixture>
{
    public const string Name = "provider-connectors";
}
