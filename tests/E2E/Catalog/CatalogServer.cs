using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using WebConsole.E2E.Infrastructure;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.Sqlite;

namespace WebConsole.E2E.Catalog;

/// <summary>
/// A server of its own for the managed catalog (backends and prices are installation-wide, so they must not leak into other
/// tests): the generated models registered as <see cref="Bert"/>, <see cref="Llama"/> and the others, the bootstrap key as
/// the platform operator, and a second organization's admin as the tenant.
/// </summary>
public sealed class CatalogServer : IAsyncLifetime
{
    public const string Bert = "catalog-bert";
    public const string Llama = "catalog-llama3";

    private WebConsoleServer? _server;
    private string? _tenantKey;

    public WebConsoleServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    /// <summary>The embedding size of <see cref="Bert"/>.</summary>
    public int Dimensions { get; private set; }

    public async Task InitializeAsync()
    {
        var settings = ServerFixture.Settings.ToDictionary();
        Dimensions = await GeneratedModels.RegisterAsync(settings, Bert, "catalog-splade", "catalog-cross-encoder", Llama);

        // Upstream providers in these tests are servers on loopback, which connectors refuse unless the operator allows them.
        settings["Connectors:AllowedOutboundAddresses"] = "127.0.0.1";
        _server = await WebConsoleServer.StartAsync(settings);
        using var operatorClient = Operator();
        _tenantKey = await OtherOrganizations.CreateAdminKeyAsync(Server, operatorClient, "catalog-tenant");
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>The platform operator (the bootstrap key).</summary>
    public HttpClient Operator() => Server.CreateApiKeyClient();

    /// <summary>A tenant: the admin of another organization (inference_admin there, no operator rights).</summary>
    public HttpClient Tenant() => Server.CreateApiKeyClient(_tenantKey);

    /// <summary>Assigns a backend as the operator and answers the catalog row.</summary>
    public async Task<JsonNode> AssignAsync(string catalogId, object backend)
    {
        using var client = Operator();
        using var response = await client.PutAsJsonAsync($"/api/catalog/{catalogId}/backend", backend);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, Explain($"PUT backend of {catalogId}: {(int)response.StatusCode} {body}"));
        return JsonNode.Parse(body)!;
    }

    /// <summary>Sets a price per million tokens for <paramref name="modelId"/> (a catalog id) as the operator.</summary>
    public async Task SetPriceAsync(string modelId, decimal input, decimal output)
    {
        using var client = Operator();
        using var response = await client.PostAsJsonAsync("/api/prices", new { model_id = modelId, input_per_million = input, output_per_million = output });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The tenant creates an <c>elastic</c> endpoint on a catalog id; answers the response.</summary>
    public static Task<HttpResponseMessage> CreateManagedEndpointAsync(HttpClient tenant, string taskType, string inferenceId, string catalogId) =>
        tenant.PutAsync($"/_inference/{taskType}/{inferenceId}", Json(new { service = "elastic", service_settings = new { model_id = catalogId } }));

    /// <summary>A context on the server's database (the test's view of what is stored).</summary>
    public WebConsoleDbContext Database()
    {
        var options = new DbContextOptionsBuilder<WebConsoleDbContext>();
        SqliteDatabase.Configure(options, SqliteDatabase.DefaultConnectionString(Server.DataDirectory));
        return new WebConsoleDbContext(options.Options);
    }

    public static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    public string Explain(string answer) => $"{answer}\n--- server log (tail):\n{(Server.Log.Length > 6000 ? Server.Log[^6000..] : Server.Log)}";
}
