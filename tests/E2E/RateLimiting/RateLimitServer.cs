using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using WebConsole.E2E.Infrastructure;
using WebConsole.TestModels;

namespace WebConsole.E2E.RateLimiting;

/// <summary>
/// A server of its own for the rate-limit tests, so the limits they set never reach other test classes: the generated
/// BERT embedder registered under one model id per test (a window is per model, so tests never share one), and one
/// <c>elasticsearch</c> text_embedding endpoint per model (endpoint <c>rl-x</c> runs model <c>rl-x-model</c>: an endpoint
/// id may not equal a model id).
/// </summary>
public sealed class RateLimitServer : IAsyncLifetime
{
    /// <summary>The endpoints the tests use, one each; see <see cref="ModelOf"/>.</summary>
    public static readonly string[] Endpoints = ["rl-burst", "rl-tokens", "rl-budgets", "rl-change", "rl-override", "rl-admin", "rl-portal"];

    private WebConsoleServer? _server;

    public WebConsoleServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public async Task InitializeAsync()
    {
        var settings = ServerFixture.Settings.ToDictionary();
        var bert = await TestModelStore.GetAsync(TestModelKind.BertMeanPooling);
        foreach (var endpoint in Endpoints)
        {
            settings[$"Inference:Models:{ModelOf(endpoint)}:Path"] = bert;
        }

        _server = await WebConsoleServer.StartAsync(settings);
        using var http = Client();
        foreach (var endpoint in Endpoints)
        {
            using var response = await http.PutAsJsonAsync($"/_inference/text_embedding/{endpoint}", new JsonObject
            {
                ["service"] = "elasticsearch",
                ["service_settings"] = new JsonObject { ["model_id"] = ModelOf(endpoint), ["num_allocations"] = 1, ["num_threads"] = 1 },
            });
            Assert.True(response.IsSuccessStatusCode, $"PUT {endpoint}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}\n{Server.Log}");
        }
    }

    /// <summary>The model behind an endpoint.</summary>
    public static string ModelOf(string endpoint) => endpoint + "-model";

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A client with the bootstrap key (inference_admin of the operator, who administers the default organization).</summary>
    public HttpClient Client(string? encodedKey = null)
    {
        var client = Server.CreateApiKeyClient(encodedKey);
        return client;
    }

    /// <summary>Sets a policy through <c>PUT /api/rate-limits</c> and answers it.</summary>
    public static async Task<JsonElement> SetPolicyAsync(HttpClient client, object policy)
    {
        using var response = await client.PutAsJsonAsync("/api/rate-limits", policy);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"PUT /api/rate-limits: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Creates an API key of the caller's team (POST /_security/api_key) and answers its id and encoded form.</summary>
    public static async Task<(string Id, string Encoded)> CreateKeyAsync(HttpClient client, string name)
    {
        using var response = await client.PostAsJsonAsync("/_security/api_key", new { name });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        return (json.RootElement.GetProperty("id").GetString()!, json.RootElement.GetProperty("encoded").GetString()!);
    }

    public string Tail() => Server.Log.Length > 6000 ? Server.Log[^6000..] : Server.Log;
}
