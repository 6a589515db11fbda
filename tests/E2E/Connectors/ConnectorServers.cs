using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WebConsole.E2E.Infrastructure;
using WebConsole.Tests.Providers;

namespace WebConsole.E2E.Connectors;

/// <summary>
/// A real WebConsole server whose connectors may reach loopback (<c>Connectors:AllowedOutboundAddresses</c> = 127.0.0.1),
/// with a fake OpenAI-compatible provider beside it: the operator's base URLs of <c>mistral</c> and <c>groq</c> and of
/// Azure point at the fake, attempts time out after 2 s, and retries wait 50 ms (or the provider's Retry-After).
/// </summary>
public sealed class OpenAiConnectorFixture : IAsyncLifetime
{
    /// <summary>How long one provider attempt may take on this server.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(2);

    private WebConsoleServer? _server;
    private FakeOpenAiServer? _provider;

    public WebConsoleServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public FakeOpenAiServer Provider => _provider ?? throw new InvalidOperationException("The provider has not started.");

    public async Task InitializeAsync()
    {
        _provider = await FakeOpenAiServer.StartAsync();
        var settings = ServerFixture.Settings.ToDictionary();
        settings["Connectors:AllowedOutboundAddresses"] = "127.0.0.1";
        settings["Connectors:RetryBaseDelay"] = "00:00:00.050";
        settings["Connectors:AttemptTimeout"] = AttemptTimeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        settings["Connectors:BaseUrls:mistral"] = $"{_provider.BaseUrl}/v1";
        settings["Connectors:BaseUrls:groq"] = $"{_provider.BaseUrl}/openai/v1";
        settings["Connectors:AzureOpenAi:BaseUrl"] = _provider.BaseUrl;
        _server = await WebConsoleServer.StartAsync(settings);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        if (_provider is not null)
        {
            await _provider.DisposeAsync();
        }
    }

    public HttpClient Client() => Server.CreateApiKeyClient();

    public static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

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
        using var response = await client.PutAsync($"/_inference/{taskType}/{inferenceId}", Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, Explain($"create {inferenceId}: {(int)response.StatusCode} {text}"));
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>An openai endpoint's create body pointing at the fake.</summary>
    public object OpenAi(string model = "gpt-test", object? rateLimit = null) => new
    {
        service = "openai",
        service_settings = rateLimit is null
            ? (object)new { api_key = Provider.ApiKey, model_id = model, url = $"{Provider.BaseUrl}/v1" }
            : new { api_key = Provider.ApiKey, model_id = model, url = $"{Provider.BaseUrl}/v1", rate_limit = rateLimit },
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

    /// <summary>The SSE events of a stream body: (event name or null, data).</summary>
    public static List<(string? Event, string Data)> Events(string text)
    {
        var events = new List<(string? Event, string Data)>();
        foreach (var block in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? name = null;
            var data = new StringBuilder();
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data.Append(line["data: ".Length..]);
                }
            }

            events.Add((name, data.ToString()));
        }

        return events;
    }
}

[CollectionDefinition(Name)]
public sealed class OpenAiConnectorCollection : ICollectionFixture<OpenAiConnectorFixture>
{
    public const string Name = "openai-connectors";
}
