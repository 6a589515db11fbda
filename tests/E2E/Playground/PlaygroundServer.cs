using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using WebConsole.Domain.Usage;
using WebConsole.E2E.Infrastructure;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.Sqlite;
using WebConsole.TestModels.Decoder;

namespace WebConsole.E2E.Playground;

/// <summary>
/// A real server for the chat hub and the playground: a generated decoder (fast, with a KV cache) behind a chat and a
/// completion endpoint, and one without a KV cache (tens of tokens a second) behind a one-allocation chat endpoint, so a
/// stream can be cut while it runs. Both models are priced, so streams cost something.
/// </summary>
public sealed class PlaygroundServer : IAsyncLifetime
{
    public const string ChatModel = "pg-llama3";
    public const string SlowModel = "pg-qwen3-slow";
    public const string Chat = "pg-chat";
    public const string Completion = "pg-completion";
    public const string SlowChat = "pg-slow-chat";

    private WebConsoleServer? _server;

    public WebConsoleServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public async Task InitializeAsync()
    {
        var settings = ServerFixture.Settings.ToDictionary();
        settings[$"Inference:Models:{ChatModel}:Path"] = await DecoderTestModels.GetAsync(DecoderVariant.Llama3);
        settings[$"Inference:Models:{SlowModel}:Path"] = await DecoderTestModels.GetAsync(DecoderVariant.Qwen3WithoutPast);
        _server = await WebConsoleServer.StartAsync(settings);

        using var client = Server.CreateApiKeyClient();
        foreach (var (taskType, id, model) in new[]
        {
            ("chat_completion", Chat, ChatModel), ("completion", Completion, ChatModel), ("chat_completion", SlowChat, SlowModel),
        })
        {
            using var response = await client.PutAsJsonAsync($"/_inference/{taskType}/{id}", new
            {
                service = "elasticsearch",
                service_settings = new { model_id = model, num_allocations = 1, num_threads = 1 },
            });
            Assert.True(response.IsSuccessStatusCode, $"PUT {id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        foreach (var model in new[] { ChatModel, SlowModel })
        {
            using var response = await client.PostAsJsonAsync("/api/prices", new { model_id = model, input_per_million = 1.5m, output_per_million = 4m });
            Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        }
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>Every usage record of the server (read from its SQLite database, across organizations).</summary>
    public async Task<List<UsageRecord>> RecordsAsync()
    {
        var options = new DbContextOptionsBuilder<WebConsoleDbContext>();
        SqliteDatabase.Configure(options, SqliteDatabase.DefaultConnectionString(Server.DataDirectory));
        await using var context = new WebConsoleDbContext(options.Options);
        return await context.UsageRecords.AsNoTracking().ToListAsync();
    }

    /// <summary>Waits (up to 20 s) for a usage record of <paramref name="inferenceId"/>, not in <paramref name="known"/>, that meets <paramref name="condition"/>.</summary>
    public async Task<UsageRecord> WaitForRecordAsync(string inferenceId, IReadOnlySet<string> known, Func<UsageRecord, bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var records = (await RecordsAsync()).Where(r => r.InferenceId == inferenceId && !known.Contains(r.RequestId)).ToList();
            if (records.FirstOrDefault(condition) is { } record)
            {
                return record;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(20))
            {
                throw new Xunit.Sdk.XunitException($"no such usage record of {inferenceId}; saw: {string.Join("; ", records.Select(r => $"{r.Outcome} {r.OutputTokens}"))}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The request ids already in the ledger.</summary>
    public async Task<HashSet<string>> KnownRequestsAsync() => (await RecordsAsync()).Select(r => r.RequestId).ToHashSet(StringComparer.Ordinal);

    /// <summary>The server's log (tail), for failure messages.</summary>
    public string LogTail => Server.Log.Length > 6000 ? Server.Log[^6000..] : Server.Log;
}

[CollectionDefinition(Name)]
public sealed class PlaygroundCollection : ICollectionFixture<PlaygroundServer>, ICollectionFixture<BrowserFixture>
{
    public const string Name = "playground";
}
