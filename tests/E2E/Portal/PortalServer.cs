using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using WebConsole.E2E.Infrastructure;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.Sqlite;
using WebConsole.TestModels;

namespace WebConsole.E2E.Portal;

/// <summary>
/// A server of its own for the portal's usage, keys and layout tests: the generated BERT embedder behind one
/// <c>elasticsearch</c> text_embedding endpoint (with a price, so requests cost something), and an outbound allow-list
/// for the settings page to show.
/// </summary>
public sealed class PortalServer : IAsyncLifetime
{
    public const string Endpoint = "portal-embed";
    public const string Model = "portal-embed-model";
    public static readonly string[] AllowedOutbound = ["127.0.0.1", "10.20.0.0/16"];

    /// <summary>A catalog model whose end of life the fixture moves to 30 days after its start.</summary>
    public const string EolSoonModel = "openai-gpt-4.1";

    private WebConsoleServer? _server;

    /// <summary>The end-of-life date the fixture gave <see cref="EolSoonModel"/>.</summary>
    public DateOnly EolSoonDate { get; private set; }

    public WebConsoleServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public async Task InitializeAsync()
    {
        var settings = ServerFixture.Settings.ToDictionary();
        settings[$"Inference:Models:{Model}:Path"] = await TestModelStore.GetAsync(TestModelKind.BertMeanPooling);
        settings["Connectors:AllowedOutboundAddresses"] = string.Join(',', AllowedOutbound);
        _server = await WebConsoleServer.StartAsync(settings);

        using var http = Server.CreateApiKeyClient();
        using var created = await http.PutAsJsonAsync($"/_inference/text_embedding/{Endpoint}", new JsonObject
        {
            ["service"] = "elasticsearch",
            ["service_settings"] = new JsonObject { ["model_id"] = Model, ["num_allocations"] = 1, ["num_threads"] = 1 },
        });
        Assert.True(created.IsSuccessStatusCode, $"PUT {Endpoint}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}\n{Server.Log}");
        using var priced = await http.PostAsJsonAsync("/api/prices", new { model_id = Model, input_per_million = 1000m, output_per_million = 0m });
        Assert.True(priced.IsSuccessStatusCode, await priced.Content.ReadAsStringAsync());

        await using var db = Database();
        var eol = EolSoonDate = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(30);
        Assert.Equal(1, await db.CatalogModels.Where(m => m.Id == EolSoonModel).ExecuteUpdateAsync(s => s.SetProperty(m => m.EolDate, (DateOnly?)eol)));
    }

    /// <summary>A context on the server's database (the test's view of what is stored).</summary>
    public WebConsoleDbContext Database()
    {
        var options = new DbContextOptionsBuilder<WebConsoleDbContext>();
        SqliteDatabase.Configure(options, SqliteDatabase.DefaultConnectionString(Server.DataDirectory));
        return new WebConsoleDbContext(options.Options);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
