using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WebConsole.E2E.Infrastructure;
using WebConsole.TestModels.Decoder;

namespace WebConsole.E2E.Inference;

/// <summary>
/// A real server with generated models registered by configuration, small input limits, and one endpoint per task type
/// created through <c>PUT /_inference</c>. Shared by the <c>/_inference</c> and <c>/v1</c> tests.
/// </summary>
public sealed class InferenceApiServer : IAsyncLifetime
{
    public const int MaxInputs = 8;
    public const int MaxInputBytes = 4000;

    public const string Embedding = "api-embedding";
    public const string Sparse = "api-sparse";
    public const string Rerank = "api-rerank";
    public const string Completion = "api-completion";
    public const string Chat = "api-chat";

    /// <summary>A chat endpoint with exactly one allocation, for the tests that prove cancellation frees it.</summary>
    public const string SingleChat = "api-chat-single";

    /// <summary>
    /// A decoder without a KV cache (tens of tokens a second), registered but without an endpoint: tests that need a stream
    /// slow enough to cut while it runs create theirs on it.
    /// </summary>
    public const string SlowChatModel = "api-qwen3-slow";

    private WebConsoleServer? _server;

    public WebConsoleServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    /// <summary>The embedding model's dimensions (its config.json's hidden_size).</summary>
    public int EmbeddingDimensions { get; private set; }

    /// <summary>What endpoint creation answered, for failure messages.</summary>
    public string Setup { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        var settings = ServerFixture.Settings.ToDictionary();
        EmbeddingDimensions = await GeneratedModels.RegisterAsync(settings, "api-bert", "api-splade", "api-cross-encoder", "api-llama3");
        settings[$"Inference:Models:{SlowChatModel}:Path"] = await DecoderTestModels.GetAsync(DecoderVariant.Qwen3WithoutPast);
        settings["Inference:Api:MaxInputs"] = MaxInputs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Inference:Api:MaxInputBytes"] = MaxInputBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _server = await WebConsoleServer.StartAsync(settings);

        using var http = Client();
        foreach (var (taskType, id, model) in new[]
        {
            ("text_embedding", Embedding, "api-bert"),
            ("sparse_embedding", Sparse, "api-splade"),
            ("rerank", Rerank, "api-cross-encoder"),
            ("completion", Completion, "api-llama3"),
            ("chat_completion", Chat, "api-llama3"),
            ("chat_completion", SingleChat, "api-llama3"),
        })
        {
            var body = new JsonObject
            {
                ["service"] = "elasticsearch",
                ["service_settings"] = new JsonObject { ["model_id"] = model, ["num_allocations"] = 1, ["num_threads"] = 1 },
            };
            using var response = await http.PutAsJsonAsync($"/_inference/{taskType}/{id}", body);
            Setup += $"PUT /_inference/{taskType}/{id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}\n";
        }
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A client with the bootstrap key (inference_admin).</summary>
    public HttpClient Client(string scheme = "ApiKey", string? key = null)
    {
        var client = Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(scheme, key ?? ServerFixture.BootstrapApiKey);
        return client;
    }

    public static StringContent Json(object body) =>
        new(body as string ?? JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    /// <summary>The failure message of an unexpected answer: the answer, how the endpoints were created, the server's log.</summary>
    public string Explain(string answer) => $"{answer}\n--- setup:\n{Setup}\n--- server log (tail):\n{Tail(Server.Log)}";

    private static string Tail(string log) => log.Length > 6000 ? log[^6000..] : log;
}

[CollectionDefinition(Name)]
public sealed class InferenceApiCollection : ICollectionFixture<InferenceApiServer>
{
    public const string Name = "inference-api";
}
