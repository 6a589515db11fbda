using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using WebConsole.E2E.Infrastructure;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.Sqlite;

namespace WebConsole.E2E.Billing;

/// <summary>
/// A server of its own for the budget tests (their prices and spending must not leak into other tests' billing): a
/// generated embedding model behind <see cref="Embedding"/>, priced so that <see cref="Input"/> costs
/// <see cref="RequestCost"/> (measured once on the default team, which has no budget).
/// </summary>
public sealed class BudgetServer : IAsyncLifetime
{
    public const string Embedding = "budget-embedding";
    public const string Model = "budget-bert";
    public const string Input = "The quick brown fox jumps over the lazy dog";

    private WebConsoleServer? _server;

    public WebConsoleServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    /// <summary>What one request with <see cref="Input"/> costs, on either surface.</summary>
    public decimal RequestCost { get; private set; }

    public async Task InitializeAsync()
    {
        var settings = ServerFixture.Settings.ToDictionary();
        await GeneratedModels.RegisterAsync(settings, Model, "budget-splade", "budget-cross-encoder", "budget-llama3");
        _server = await WebConsoleServer.StartAsync(settings);

        using var http = Client();
        using (var created = await http.PutAsJsonAsync($"/_inference/text_embedding/{Embedding}", new JsonObject
        {
            ["service"] = "elasticsearch",
            ["service_settings"] = new JsonObject { ["model_id"] = Model, ["num_allocations"] = 1, ["num_threads"] = 1 },
        }))
        {
            Assert.True(created.IsSuccessStatusCode, Explain(await created.Content.ReadAsStringAsync()));
        }

        // 1000 per million input tokens: a token costs 0.001.
        using (var price = await http.PostAsJsonAsync("/api/prices", new { model_id = Model, input_per_million = 1000m, output_per_million = 0m }))
        {
            Assert.True(price.StatusCode == HttpStatusCode.Created, await price.Content.ReadAsStringAsync());
        }

        using var probe = await EmbedAsync(http, openAi: false);
        Assert.True(probe.StatusCode == HttpStatusCode.OK, Explain(await probe.Content.ReadAsStringAsync()));
        RequestCost = Cost(probe);
        Assert.True(RequestCost > 0m);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A client with the bootstrap key (inference_admin, organization admin of the default organization).</summary>
    public HttpClient Client(string? key = null)
    {
        var client = Server.CreateApiKeyClient(key);
        return client;
    }

    /// <summary>A new team of the default organization and an inference_user key of it: (team id, key id, encoded key).</summary>
    public async Task<(Guid TeamId, string KeyId, string Key)> NewTeamAndKeyAsync(string name)
    {
        using var admin = Client();
        using var team = await admin.PostAsJsonAsync("/api/teams", new { name });
        var teamBody = await team.Content.ReadAsStringAsync();
        Assert.True(team.StatusCode == HttpStatusCode.Created, teamBody);
        var teamId = JsonNode.Parse(teamBody)!["id"]!.GetValue<Guid>();

        using var key = await admin.PostAsJsonAsync("/_security/api_key", new
        {
            name = $"{name}-key",
            metadata = new { role = "inference_user", team_id = teamId },
        });
        var keyBody = await key.Content.ReadAsStringAsync();
        Assert.True(key.StatusCode == HttpStatusCode.OK, keyBody);
        var created = JsonNode.Parse(keyBody)!;
        return (teamId, (string)created["id"]!, (string)created["encoded"]!);
    }

    /// <summary>One embedding request with <see cref="Input"/>, on <c>/v1</c> or <c>/_inference</c>.</summary>
    public static Task<HttpResponseMessage> EmbedAsync(HttpClient client, bool openAi) => openAi
        ? client.PostAsync("/v1/embeddings", Json(new { model = Embedding, input = Input }))
        : client.PostAsync($"/_inference/text_embedding/{Embedding}", Json(new { input = Input }));

    public static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    public static decimal Cost(HttpResponseMessage response) =>
        decimal.Parse(response.Headers.GetValues("x-webconsole-cost").Single(), NumberStyles.Number, CultureInfo.InvariantCulture);

    /// <summary>The ledger's total cost of a team (all months: the tests run within one).</summary>
    public async Task<decimal> LedgerCostAsync(Guid teamId)
    {
        var options = new DbContextOptionsBuilder<WebConsoleDbContext>();
        SqliteDatabase.Configure(options, SqliteDatabase.DefaultConnectionString(Server.DataDirectory));
        await using var context = new WebConsoleDbContext(options.Options);
        var costs = await context.UsageRecords.AsNoTracking().Where(u => u.TeamId == teamId).Select(u => u.Cost).ToListAsync();
        return costs.Sum();
    }

    public string Explain(string answer) => $"{answer}\n--- server log (tail):\n{(Server.Log.Length > 6000 ? Server.Log[^6000..] : Server.Log)}";
}
