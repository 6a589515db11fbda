using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;
using WebConsole.E2E.Infrastructure;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.PostgreSql;
using Xunit.Abstractions;

namespace WebConsole.E2E.Reliability;

/// <summary>
/// PostgreSQL stopped and started again while clients send embeddings: answers are either results or clean,
/// contract-shaped errors (never a hang, never an unshaped 500), the server serves again once the database is back, and
/// every answer that carried usage is in the ledger afterwards (usage of requests served during the outage is held and
/// written when the database returns). The cluster is this class's own, so stopping it disturbs no other test.
/// </summary>
[Collection(LoadCollection.Name)]
public sealed class DatabaseOutageTests(PostgresCluster cluster, ITestOutputHelper output) : IClassFixture<PostgresCluster>
{
    private const string Embedding = ".starter-embedding-elasticsearch";

    [Fact]
    public async Task Requests_during_a_postgresql_outage_fail_or_wait_cleanly_and_their_usage_is_written_when_it_returns()
    {
        var connectionString = await cluster.CreateDatabaseAsync("outage");
        var settings = ServerFixture.Settings.ToDictionary();
        settings[PersistenceServiceCollectionExtensions.ProviderKey] = PostgreSqlDatabase.Name;
        settings[$"ConnectionStrings:{PersistenceServiceCollectionExtensions.ConnectionStringName}"] = connectionString;
        await using var server = await WebConsoleServer.StartAsync(settings);
        using var warm = server.CreateApiKeyClient();
        using (var first = await warm.PostAsync($"/_inference/text_embedding/{Embedding}", Json("warm up")))
        {
            Assert.True(first.StatusCode == HttpStatusCode.OK, await first.Content.ReadAsStringAsync());
        }

        var before = await CountRecordsAsync(connectionString);
        var outcomes = new ConcurrentBag<(int Status, TimeSpan Took, bool Usage, string Body, TimeSpan At)>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            using var client = server.CreateApiKeyClient();
            client.Timeout = TimeSpan.FromSeconds(60);
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                var at = clock.Elapsed;
                try
                {
                    using var response = await client.PostAsync($"/_inference/text_embedding/{Embedding}", Json($"client {i} request {n++}"));
                    var body = await response.Content.ReadAsStringAsync();
                    outcomes.Add(((int)response.StatusCode, Stopwatch.GetElapsedTime(started),
                        response.Headers.Contains("x-webconsole-input-tokens"), body, at));
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    outcomes.Add((0, Stopwatch.GetElapsedTime(started), false, ex.Message, at));
                }

                await Task.Delay(50);
            }
        })).ToArray();

        await Task.Delay(TimeSpan.FromSeconds(2));
        var down = clock.Elapsed;
        await cluster.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(5));
        await cluster.StartAsync();
        var up = clock.Elapsed;

        // Requests held while the database was away finish once it is back (the ledger writes before answering); then
        // fresh requests must be served promptly.
        await Task.Delay(TimeSpan.FromSeconds(12));
        await stop.CancelAsync();
        await Task.WhenAll(clients);

        var all = outcomes.ToList();
        var during = all.Where(o => o.At >= down && o.At < up).ToList();
        var summary = string.Join(", ", all.GroupBy(o => o.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} x {g.Key}"));
        output.WriteLine($"outage of {(up - down).TotalSeconds:F1} s: {all.Count} requests ({summary}); {during.Count} sent while the database was down, " +
            $"{during.Count(o => o.Status == 200)} of them served; slowest answer {all.Max(o => o.Took).TotalSeconds:F1} s");

        // Clean: every answer is a result or an Elasticsearch-shaped error; nothing hangs past the client's patience.
        foreach (var (status, took, _, body, _) in all)
        {
            Assert.True(status is 200 or 503 or 429 or 408, $"{status} after {took}: {body}\n{Tail(server.Log)}");
            Assert.True(took < TimeSpan.FromSeconds(30), $"an answer took {took}");
            if (status != 200)
            {
                var error = JsonNode.Parse(body);
                Assert.True(error?["error"]?["type"] is not null && error["status"] is not null, $"not an Elasticsearch error: {body}");
            }
        }

        // Serving again once the database is back.
        var fresh = all.Where(o => o.At > up + TimeSpan.FromSeconds(1) && o.Status == 200).ToList();
        Assert.NotEmpty(fresh);
        Assert.Contains(fresh, o => o.Took < TimeSpan.FromSeconds(5));

        // Every answer that told the client its usage is in the ledger once the held records are written.
        var told = all.Count(o => o.Status == 200 && o.Usage);
        var deadline = Stopwatch.StartNew();
        long written;
        while ((written = await CountRecordsAsync(connectionString) - before) < told && deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(200);
        }

        Assert.Equal(told, written);
    }

    private static StringContent Json(string input) =>
        new(new JsonObject { ["input"] = input }.ToJsonString(), Encoding.UTF8, "application/json");

    private static async Task<long> CountRecordsAsync(string connectionString)
    {
        // Unpooled: a pooled connection from before the restart would be a dead one.
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT COUNT(*) FROM \"UsageRecords\"", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static string Tail(string log) => log.Length > 4000 ? log[^4000..] : log;
}
