using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using WebConsole.E2E.Infrastructure;

namespace WebConsole.E2E.Connectors;

/// <summary>
/// Two WebConsole processes: the upstream, with its own data directory and bootstrap key and one endpoint per task type on
/// generated models; and the first, whose connectors may reach loopback, where <c>elastic</c> endpoints (a tenant's, or a
/// catalog model's backend) name the upstream by <c>url</c>. <see cref="UpstreamKey"/> is an API key created on the upstream.
/// </summary>
public sealed class RemoteElasticServers : IAsyncLifetime
{
    public const string Embedding = "up-embed";
    public const string Sparse = "up-sparse";
    public const string Rerank = "up-rerank";
    public const string Completion = "up-complete";
    public const string Chat = "up-chat";

    private const string UpstreamBootstrapSecret = "upstream-bootstrap-secret-fedcba9876543210";

    private WebConsoleServer? _upstream;
    private WebConsoleServer? _first;
    private string? _tenantKey;

    public WebConsoleServer Upstream => _upstream ?? throw new InvalidOperationException("The upstream has not started.");

    public WebConsoleServer First => _first ?? throw new InvalidOperationException("The first server has not started.");

    /// <summary>The encoded API key the first installation calls the upstream with.</summary>
    public string UpstreamKey { get; private set; } = string.Empty;

    /// <summary>What setting up answered, for failure messages.</summary>
    public string Setup { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        var upstreamSettings = ServerFixture.Settings.ToDictionary();
        upstreamSettings["WebConsole:Bootstrap:ApiKey"] = UpstreamBootstrapSecret;
        await GeneratedModels.RegisterAsync(upstreamSettings, "remote-bert", "remote-splade", "remote-cross-encoder", "remote-llama3");
        var firstSettings = ServerFixture.Settings.ToDictionary();
        firstSettings["Connectors:AllowedOutboundAddresses"] = "127.0.0.1";
        firstSettings["Connectors:RetryBaseDelay"] = "00:00:00.050";
        var starting = new[] { WebConsoleServer.StartAsync(upstreamSettings), WebConsoleServer.StartAsync(firstSettings) };
        var started = await Task.WhenAll(starting);
        (_upstream, _first) = (started[0], started[1]);

        using var upstream = UpstreamOperator();
        var endpoints = new[]
        {
            ("text_embedding", Embedding, "remote-bert"),
            ("sparse_embedding", Sparse, "remote-splade"),
            ("rerank", Rerank, "remote-cross-encoder"),
            ("completion", Completion, "remote-llama3"),
            ("chat_completion", Chat, "remote-llama3"),
        };
        var answers = await Task.WhenAll(endpoints.Select(async e =>
        {
            var (taskType, id, model) = e;
            using var response = await upstream.PutAsJsonAsync($"/_inference/{taskType}/{id}", new JsonObject
            {
                ["service"] = "elasticsearch",
                ["service_settings"] = new JsonObject { ["model_id"] = model, ["num_allocations"] = 1, ["num_threads"] = 1 },
            });
            return $"upstream PUT {id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
        }));
        Setup = string.Join('\n', answers);

        using (var key = await upstream.PostAsJsonAsync("/_security/api_key", new { name = "first-installation" }))
        {
            var body = await key.Content.ReadAsStringAsync();
            Assert.True(key.StatusCode == HttpStatusCode.OK, $"{(int)key.StatusCode}: {body}");
            UpstreamKey = (string)JsonNode.Parse(body)!["encoded"]!;
        }

        using var firstOperator = FirstOperator();
        _tenantKey = await OtherOrganizations.CreateAdminKeyAsync(First, firstOperator, "remote-tenant");
    }

    public async Task DisposeAsync()
    {
        if (_first is not null)
        {
            await _first.DisposeAsync();
        }

        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }
    }

    /// <summary>The upstream's operator (its own bootstrap key).</summary>
    public HttpClient UpstreamOperator() =>
        Upstream.CreateApiKeyClient(Convert.ToBase64String(Encoding.UTF8.GetBytes($"bootstrap:{UpstreamBootstrapSecret}")));

    /// <summary>The first installation's operator (the shared E2E bootstrap key).</summary>
    public HttpClient FirstOperator() => First.CreateApiKeyClient();

    /// <summary>A tenant of the first installation (another organization's admin).</summary>
    public HttpClient Tenant() => First.CreateApiKeyClient(_tenantKey);

    /// <summary>The service settings of an <c>elastic</c> endpoint served by the upstream endpoint <paramref name="inferenceId"/>.</summary>
    public object RemoteSettings(string inferenceId, string? apiKey = null) =>
        new { url = Upstream.BaseAddress.ToString().TrimEnd('/'), inference_id = inferenceId, api_key = apiKey ?? UpstreamKey };

    public string Explain(string answer) =>
        $"{answer}\n--- setup:\n{Setup}\n--- first server log (tail):\n{Tail(First.Log)}\n--- upstream log (tail):\n{Tail(Upstream.Log)}";

    private static string Tail(string log) => log.Length > 4000 ? log[^4000..] : log;
}

[CollectionDefinition(Name)]
public sealed class RemoteElasticCollection : ICollectionFixture<RemoteElasticServers>
{
    public const string Name = "remote-elastic";
}
