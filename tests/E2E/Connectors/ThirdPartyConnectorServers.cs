using System.Net;
using System.Text.Json.Nodes;
using WebConsole.E2E.Infrastructure;
using WebConsole.Tests.Providers;

namespace WebConsole.E2E.Connectors;

/// <summary>
/// One real WebConsole server for the <c>cohere</c>, <c>jinaai</c> and <c>googleaistudio</c> connectors, with a fake of
/// each provider on loopback that the operator's base URLs (<c>Connectors:BaseUrls:{service}</c>) point at. Attempts
/// time out after 2 s and retries wait 50 ms (or the provider's Retry-After), as in <see cref="OpenAiConnectorFixture"/>.
/// </summary>
public sealed class ThirdPartyConnectorFixture : IAsyncLifetime
{
    /// <summary>How long one provider attempt may take on this server.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(2);

    private WebConsoleServer? _server;

    public WebConsoleServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public FakeCohereServer Cohere { get; private set; } = default!;

    public FakeJinaAiServer Jina { get; private set; } = default!;

    public FakeGoogleAiStudioServer Google { get; private set; } = default!;

    public async Task InitializeAsync()
    {
        Cohere = await FakeProviderServer.StartAsync<FakeCohereServer>();
        Jina = await FakeProviderServer.StartAsync<FakeJinaAiServer>();
        Google = await FakeProviderServer.StartAsync<FakeGoogleAiStudioServer>();
        var settings = ServerFixture.Settings.ToDictionary();
        settings["Connectors:AllowedOutboundAddresses"] = "127.0.0.1";
        settings["Connectors:RetryBaseDelay"] = "00:00:00.050";
        settings["Connectors:AttemptTimeout"] = AttemptTimeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        settings["Connectors:BaseUrls:cohere"] = Cohere.BaseUrl;
        settings["Connectors:BaseUrls:jinaai"] = Jina.BaseUrl;
        settings["Connectors:BaseUrls:googleaistudio"] = Google.BaseUrl;
        _server = await WebConsoleServer.StartAsync(settings);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        foreach (var provider in new FakeProviderServer?[] { Cohere, Jina, Google })
        {
            if (provider is not null)
            {
                await provider.DisposeAsync();
            }
        }
    }

    public HttpClient Client() => Server.CreateApiKeyClient();

    /// <summary>A failure message with the server's recent output.</summary>
    public string Explain(string answer)
    {
        var log = Server.Log;
        return $"{answer}\n--- server log (tail):\n{(log.Length > 6000 ? log[^6000..] : log)}";
    }

    /// <summary>Creates an endpoint and answers the stored configuration (asserting 200).</summary>
    public async Task<JsonObject> CreateAsync(string taskType, string inferenceId, object body)
    {
        using var client = Client();
        using var response = await client.PutAsync($"/_inference/{taskType}/{inferenceId}", OpenAiConnectorFixture.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, Explain($"create {inferenceId}: {(int)response.StatusCode} {text}"));
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>Creates an endpoint unless an earlier test did.</summary>
    public async Task EnsureAsync(string taskType, string inferenceId, object body)
    {
        using var client = Client();
        using var existing = await client.GetAsync($"/_inference/{inferenceId}");
        if (existing.StatusCode == HttpStatusCode.NotFound)
        {
            await CreateAsync(taskType, inferenceId, body);
        }
    }

    /// <summary>The create body of a service's endpoint on its fake, with the fake's key unless another is given.</summary>
    public object Body(string service, string model, string? apiKey = null, object? taskSettings = null) => new
    {
        service,
        service_settings = new
        {
            api_key = apiKey ?? service switch
            {
                "cohere" => Cohere.ApiKey,
                "jinaai" => Jina.ApiKey,
                _ => Google.ApiKey,
            },
            model_id = model,
        },
        task_settings = taskSettings ?? new { },
    };

    /// <summary>The fake of a service.</summary>
    public FakeProviderServer Provider(string service) => service switch
    {
        "cohere" => Cohere,
        "jinaai" => Jina,
        _ => Google,
    };

    /// <summary>The ledger's requests and tokens of one endpoint (zeros when it has none).</summary>
    public async Task<(long Requests, long Input, long Output)> BilledAsync(string inferenceId)
    {
        using var client = Client();
        using var response = await client.GetAsync($"/api/usage/summary?group_by=endpoint&inference_id={inferenceId}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var group = JsonNode.Parse(text)!["groups"]!.AsArray().FirstOrDefault(g => g!["key"]!.GetValue<string>() == inferenceId);
        return group is null ? (0, 0, 0)
            : (group["requests"]!.GetValue<long>(), group["input_tokens"]!.GetValue<long>(), group["output_tokens"]!.GetValue<long>());
    }

    /// <summary>Posts a JSON body and answers the status and text.</summary>
    public async Task<(HttpStatusCode Status, string Text)> PostAsync(string path, object body)
    {
        using var client = Client();
        using var response = await client.PostAsync(path, OpenAiConnectorFixture.Json(body));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}

[CollectionDefinition(Name)]
public sealed class ThirdPartyConnectorCollection : ICollectionFixture<ThirdPartyConnectorFixture>
{
    public const string Name = "third-party-connectors";
}
