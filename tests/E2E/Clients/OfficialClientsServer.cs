using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using WebConsole.E2E.Infrastructure;
using WebConsole.Tests.Shared.Node;

namespace WebConsole.E2E.Clients;

/// <summary>
/// A real server with generated models registered by configuration, driven once by the official Elasticsearch and OpenAI
/// npm clients (tests/node/es-client.mjs, openai-client.mjs). Each script reports every call it made, so each test checks
/// one call and a missing route fails only the tests of that route.
/// </summary>
public sealed class OfficialClientsServer : IAsyncLifetime
{
    public const string EmbeddingModel = "client-test-bert";
    public const string SparseModel = "client-test-splade";
    public const string RerankModel = "client-test-cross-encoder";
    public const string ChatModel = "client-test-llama3";

    public const string EmbeddingEndpoint = "client-embedding";
    public const string SparseEndpoint = "client-sparse";
    public const string RerankEndpoint = "client-rerank";
    public const string CompletionEndpoint = "client-completion";
    public const string ChatEndpoint = "client-chat";
    public const string OpenAiEmbeddingEndpoint = "openai-embedding";
    public const string OpenAiChatEndpoint = "openai-chat";

    private WebConsoleServer? _server;
    private JsonDocument? _elasticsearch;
    private JsonDocument? _openAi;
    private Exception? _elasticsearchFailure;
    private Exception? _openAiFailure;

    /// <summary>The texts es-client.mjs sends, in order.</summary>
    public static IReadOnlyList<string> Texts { get; } =
        ["The quick brown fox jumps over the lazy dog.", "Elasticsearch is a distributed search engine.", "Bonjour le monde"];

    /// <summary>The dimensions of the embedding model (its config.json's hidden_size).</summary>
    public int EmbeddingDimensions { get; private set; }

    /// <summary>How the endpoints the OpenAI script uses were created (status and body), for failure messages.</summary>
    public string OpenAiSetup { get; private set; } = string.Empty;

    public WebConsoleServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    /// <summary>es-client.mjs's report of one call: {"ok": true, "result"} or {"ok": false, "error"}.</summary>
    public JsonElement Elasticsearch(string call) => Call(_elasticsearch, _elasticsearchFailure, call);

    /// <summary>openai-client.mjs's report of one call.</summary>
    public JsonElement OpenAi(string call) => Call(_openAi, _openAiFailure, call);

    public async Task InitializeAsync()
    {
        var settings = ServerFixture.Settings.ToDictionary();
        EmbeddingDimensions = await GeneratedModels.RegisterAsync(settings, EmbeddingModel, SparseModel, RerankModel, ChatModel);
        _server = await WebConsoleServer.StartAsync(settings);

        // The Elasticsearch client first: it creates, changes and deletes its own endpoints.
        try
        {
            _elasticsearch = JsonDocument.Parse(await NodeTools.RunAsync("es-client.mjs", [], JsonSerializer.Serialize(new
            {
                url = Server.BaseAddress.ToString().TrimEnd('/'),
                apiKey = ServerFixture.BootstrapApiKey,
                embedding = new { inference_id = EmbeddingEndpoint, model_id = EmbeddingModel },
                sparse = new { inference_id = SparseEndpoint, model_id = SparseModel },
                rerank = new { inference_id = RerankEndpoint, model_id = RerankModel },
                completion = new { inference_id = CompletionEndpoint, config = EmbeddedEndpoint(ChatModel) },
                chat = new { inference_id = ChatEndpoint, config = EmbeddedEndpoint(ChatModel) },
            })));
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or JsonException)
        {
            _elasticsearchFailure = ex;
        }

        // The OpenAI client's endpoints are created over plain HTTP, so its tests do not depend on the other script.
        try
        {
            using var http = Server.CreateApiKeyClient();
            foreach (var (path, model) in new[] { ($"/_inference/text_embedding/{OpenAiEmbeddingEndpoint}", EmbeddingModel), ($"/_inference/chat_completion/{OpenAiChatEndpoint}", ChatModel) })
            {
                using var response = await http.PutAsJsonAsync(path, EmbeddedEndpoint(model));
                OpenAiSetup += $"PUT {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}\n";
            }

            _openAi = JsonDocument.Parse(await NodeTools.RunAsync("openai-client.mjs", [], JsonSerializer.Serialize(new
            {
                url = Server.BaseAddress.ToString().TrimEnd('/'),
                apiKey = ServerFixture.BootstrapApiKey,
                chatModel = OpenAiChatEndpoint,
                embeddingModel = OpenAiEmbeddingEndpoint,
            })));
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or JsonException or HttpRequestException)
        {
            _openAiFailure = ex;
        }
    }

    public async Task DisposeAsync()
    {
        _elasticsearch?.Dispose();
        _openAi?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>An endpoint on the embedded host (the <c>elasticsearch</c> service) for a model registered by configuration.</summary>
    private static JsonObject EmbeddedEndpoint(string model) => new()
    {
        ["service"] = "elasticsearch",
        ["service_settings"] = new JsonObject { ["model_id"] = model, ["num_allocations"] = 1, ["num_threads"] = 1 },
    };

    private JsonElement Call(JsonDocument? report, Exception? failure, string call)
    {
        if (report is null)
        {
            throw new InvalidOperationException($"The client script did not run:\n{failure}\n{OpenAiSetup}\nServer log:\n{Server.Log}");
        }

        return report.RootElement.GetProperty("calls").TryGetProperty(call, out var result)
            ? result
            : throw new InvalidOperationException($"The script made no call '{call}': {report.RootElement}");
    }
}
