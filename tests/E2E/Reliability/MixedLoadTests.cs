using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using WebConsole.E2E.Infrastructure;
using WebConsole.E2E.Inference;
using WebConsole.E2E.Playground;
using WebConsole.Web.Apis.Playground;
using Xunit.Abstractions;

namespace WebConsole.E2E.Reliability;

/// <summary>Load tests run one at a time: they measure the server's memory and latencies, which other tests would disturb.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LoadCollection
{
    public const string Name = "load";
}

/// <summary>
/// Mixed traffic from 64 concurrent clients on loopback for a minute (WEBCONSOLE_LOAD_SECONDS overrides it: the soak runs
/// ten): embeddings, sparse embeddings, rerank, chat over SSE on both surfaces and over the SignalR hub (each client holds
/// one hub connection), non-streamed chat, endpoint CRUD and usage queries. Nothing answers 5xx, the working set after warm-up grows by less than 10% (soak) or 35% (one minute), and the ledger holds exactly the
/// usage the clients were told. The figures (requests, refusals, p50/p99 per kind, memory) are printed at the end and
/// written to artifacts/reliability/load.json.
/// </summary>
[Collection(LoadCollection.Name)]
public sealed class MixedLoadTests(InferenceApiServer fixture, ITestOutputHelper output) : IClassFixture<InferenceApiServer>
{
    private const int Clients = 64;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static readonly object[] Conversation = [new { role = "user", content = "Write one line about the sea." }];

    public static TimeSpan Duration => TimeSpan.FromSeconds(
        int.TryParse(Environment.GetEnvironmentVariable("WEBCONSOLE_LOAD_SECONDS"), CultureInfo.InvariantCulture, out var seconds) && seconds > 0 ? seconds : 60);

    [Fact]
    public async Task Sixty_four_clients_of_mixed_traffic_get_no_5xx_the_memory_holds_and_the_ledger_equals_what_clients_were_told()
    {
        using var admin = fixture.Client();
        var before = await TotalsAsync(admin);
        var results = new ConcurrentBag<Outcome>();
        // The measured minute follows a warm-up (models loaded, allocations scaled, pools and caches filled) of a third of
        // it, at least 20 s; memory is compared from the start of the measured part to its end.
        var warmUp = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(20).Ticks, Duration.Ticks / 3));
        var duration = warmUp + Duration;
        var clock = Stopwatch.StartNew();
        var memory = new List<(TimeSpan At, long Bytes)>();
        using var stop = new CancellationTokenSource();

        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                lock (memory)
                {
                    memory.Add((clock.Elapsed, WorkingSet(fixture.Server.ProcessId)));
                }

                await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);
            }
        });

        var workers = Enumerable.Range(0, Clients).Select(worker => Task.Run(async () =>
        {
            using var client = fixture.Client();
            await using var hub = await HubClients.ConnectWithKeyAsync(fixture.Server.BaseAddress, ServerFixture.BootstrapApiKey);
            var turn = 0;
            while (clock.Elapsed < duration)
            {
                results.Add(await OneAsync(client, hub, worker, turn++));
            }
        })).ToArray();
        await Task.WhenAll(workers);
        await stop.CancelAsync();
        await sampler;

        var all = results.ToList();
        var after = await TotalsAsync(admin);
        var report = Report(all, memory, clock.Elapsed, warmUp);
        output.WriteLine(report);
        Console.WriteLine(report);
        Directory.CreateDirectory(ArtifactsFolder);
        await File.WriteAllTextAsync(Path.Combine(ArtifactsFolder, "load.json"), JsonSerializer.Serialize(new
        {
            clients = Clients,
            seconds = clock.Elapsed.TotalSeconds,
            requests = all.Count,
            by_kind = all.GroupBy(o => o.Kind).ToDictionary(g => g.Key, g => new
            {
                count = g.Count(),
                refused_429 = g.Count(o => o.Status == 429),
                p50_ms = Percentile(g.Where(o => o.Status == 200), 0.50),
                p99_ms = Percentile(g.Where(o => o.Status == 200), 0.99),
            }),
            working_set_mb = memory.Select(m => new { at_s = m.At.TotalSeconds, mb = m.Bytes / 1048576.0 }),
        }, Indented));

        var serverErrors = all.Where(o => o.Status >= 500 || o.Status == 0).Take(10).Select(o => $"{o.Kind}: {o.Status} {o.Detail}").ToList();
        Assert.True(serverErrors.Count == 0, "server errors under load:\n" + string.Join("\n", serverErrors) + "\n" + fixture.Explain(string.Empty));
        var unexpected = all.Where(o => o.Status is not (200 or 201 or 429)).Take(10).Select(o => $"{o.Kind}: {o.Status} {o.Detail}").ToList();
        Assert.True(unexpected.Count == 0, "unexpected answers under load:\n" + string.Join("\n", unexpected));
        Assert.True(all.Count(o => o.Status == 200 && o.Billed) >= Clients, $"only {all.Count(o => o.Status == 200)} requests succeeded:\n{report}");

        // The ledger holds exactly what the clients were told: every admitted request, every token, every cost.
        var billed = all.Where(o => o.Billed && o.Status == 200).ToList();
        Assert.Equal(
            (billed.Count, billed.Sum(o => o.Input), billed.Sum(o => o.Output), billed.Sum(o => o.Cost)),
            (after.Requests - before.Requests, after.Input - before.Input, after.Output - before.Output, after.Cost - before.Cost));

        // Memory: the criterion, less than 10% growth from the second to the last minute, needs minutes of load: the
        // soak (three minutes or more) asserts it. A one-minute run is still climbing out of warm-up (allocations, caches,
        // GC budgets), so it asserts only that nothing runs away: under 35% growth after warm-up.
        var settled = memory.Where(m => m.At >= warmUp).ToList();
        Assert.True(settled.Count >= 10, "too few memory samples");
        var first = settled.Take(5).Average(m => (double)m.Bytes);
        var last = settled.TakeLast(5).Average(m => (double)m.Bytes);
        var allowed = Duration >= TimeSpan.FromMinutes(3) ? 1.10 : 1.35;
        Assert.True(last < first * allowed, $"working set grew from {first / 1048576:F0} MB to {last / 1048576:F0} MB after warm-up (allowed {allowed:P0} of it)\n{report}");
    }

    private static string ArtifactsFolder => Path.Combine(
        Environment.GetEnvironmentVariable("WEBCONSOLE_TEST_ARTIFACTS") is { Length: > 0 } root ? root : Path.Combine(RepositoryRoot(), "artifacts"), "reliability");

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "WebConsole.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? Path.GetTempPath();
    }

    private static async Task<Outcome> OneAsync(HttpClient client, HubConnection hub, int worker, int turn)
    {
        var words = string.Join(' ', Enumerable.Repeat("lorem ipsum dolor", 1 + ((worker + turn) % 6)));
        return ((worker + turn) % 11) switch
        {
            0 or 1 => await BilledAsync(client, "embed", "/_inference/text_embedding/" + InferenceApiServer.Embedding, new { input = new[] { "The quick brown fox " + words, "jumps" } }),
            2 => await BilledAsync(client, "embed_v1", "/v1/embeddings", new { model = InferenceApiServer.Embedding, input = "Bonjour le monde " + words }),
            3 => await BilledAsync(client, "sparse", "/_inference/sparse_embedding/" + InferenceApiServer.Sparse, new { input = "sparse " + words }),
            4 => await BilledAsync(client, "rerank", "/_inference/rerank/" + InferenceApiServer.Rerank, new { query = "fox " + words, input = new[] { "a fox", "a dog", "the sea" } }),
            5 => await StreamAsync(client, "chat_sse", $"/_inference/chat_completion/{InferenceApiServer.Chat}/_stream", new { messages = Conversation, max_completion_tokens = 6 }),
            6 => await StreamAsync(client, "chat_sse_v1", "/v1/chat/completions", new
            {
                model = InferenceApiServer.Chat,
                messages = Conversation,
                max_completion_tokens = 6,
                stream = true,
                stream_options = new { include_usage = true },
            }),
            7 => await BilledAsync(client, "chat", "/_inference/chat_completion/" + InferenceApiServer.Chat, new { messages = Conversation, max_completion_tokens = 4 }),
            8 => await CrudAsync(client, worker, turn),
            9 => await HubAsync(hub),
            _ => await UnbilledAsync(client, "usage", () => client.GetAsync("/api/usage/summary")),
        };
    }

    // A chat streamed over the playground hub: the usage item is what the client was told; refusals are typed hub errors.
    private static async Task<Outcome> HubAsync(HubConnection hub)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            ChatStreamUsage? usage = null;
            await foreach (var item in hub.StreamAsync<ChatStreamChunk>("StreamChat", new ChatStreamRequest
            {
                InferenceId = InferenceApiServer.Chat,
                Messages = [new ChatStreamMessage("user", "Write one line about the sea.")],
                MaxCompletionTokens = 6,
            }))
            {
                usage = item.Usage ?? usage;
            }

            var elapsed = Stopwatch.GetElapsedTime(started);
            return usage is null
                ? new Outcome("chat_hub", 599, elapsed, true, 0, 0, 0, "hub stream without usage")
                : new Outcome("chat_hub", 200, elapsed, true, usage.InputTokens, usage.OutputTokens, usage.Cost, string.Empty);
        }
        catch (HubException ex)
        {
            var error = ChatStreamError.Parse(ex.Message);
            return new Outcome("chat_hub", error?.Status ?? 598, Stopwatch.GetElapsedTime(started), true, 0, 0, 0, Cut(ex.Message));
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or System.Net.WebSockets.WebSocketException)
        {
            return new Outcome("chat_hub", 0, Stopwatch.GetElapsedTime(started), true, 0, 0, 0, ex.Message);
        }
    }

    private static async Task<Outcome> BilledAsync(HttpClient client, string kind, string path, object body)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await client.PostAsync(path, InferenceApiServer.Json(body));
            var text = await response.Content.ReadAsStringAsync();
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return new Outcome(kind, (int)response.StatusCode, elapsed, true, 0, 0, 0, Cut(text));
            }

            return new Outcome(kind, 200, elapsed, true,
                long.Parse(Header(response, "x-webconsole-input-tokens"), CultureInfo.InvariantCulture),
                long.Parse(Header(response, "x-webconsole-output-tokens"), CultureInfo.InvariantCulture),
                decimal.Parse(Header(response, "x-webconsole-cost"), NumberStyles.Number, CultureInfo.InvariantCulture), string.Empty);
        }
        catch (HttpRequestException ex)
        {
            return new Outcome(kind, 0, Stopwatch.GetElapsedTime(started), true, 0, 0, 0, ex.Message);
        }
    }

    private static async Task<Outcome> StreamAsync(HttpClient client, string kind, string path, object body)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await client.PostAsync(path, InferenceApiServer.Json(body));
            var text = await response.Content.ReadAsStringAsync();
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return new Outcome(kind, (int)response.StatusCode, elapsed, true, 0, 0, 0, Cut(text));
            }

            var usage = text.Split('\n')
                .Where(l => l.StartsWith("data: {", StringComparison.Ordinal))
                .Select(l => JsonDocument.Parse(l["data: ".Length..]).RootElement)
                .LastOrDefault(c => c.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object);
            if (usage.ValueKind != JsonValueKind.Object || text.Contains("event: error", StringComparison.Ordinal))
            {
                return new Outcome(kind, 599, elapsed, true, 0, 0, 0, "stream without usage or with an error: " + Cut(text));
            }

            var u = usage.GetProperty("usage");
            return new Outcome(kind, 200, elapsed, true, u.GetProperty("prompt_tokens").GetInt64(), u.GetProperty("completion_tokens").GetInt64(),
                u.GetProperty("cost").GetDecimal(), string.Empty);
        }
        catch (HttpRequestException ex)
        {
            return new Outcome(kind, 0, Stopwatch.GetElapsedTime(started), true, 0, 0, 0, ex.Message);
        }
    }

    // An endpoint created, read and deleted: nothing billed.
    private static async Task<Outcome> CrudAsync(HttpClient client, int worker, int turn)
    {
        var id = $"load-{worker}-{turn}";
        var started = Stopwatch.GetTimestamp();
        using (var created = await client.PutAsJsonAsync($"/_inference/text_embedding/{id}", new
        {
            service = "elasticsearch",
            service_settings = new { model_id = "api-bert", num_allocations = 1, num_threads = 1 },
        }))
        {
            if (created.StatusCode != HttpStatusCode.OK)
            {
                return new Outcome("crud", (int)created.StatusCode, Stopwatch.GetElapsedTime(started), false, 0, 0, 0, Cut(await created.Content.ReadAsStringAsync()));
            }
        }

        using (var read = await client.GetAsync($"/_inference/text_embedding/{id}"))
        {
            if (read.StatusCode != HttpStatusCode.OK)
            {
                return new Outcome("crud", (int)read.StatusCode, Stopwatch.GetElapsedTime(started), false, 0, 0, 0, Cut(await read.Content.ReadAsStringAsync()));
            }
        }

        using var deleted = await client.DeleteAsync($"/_inference/text_embedding/{id}");
        return new Outcome("crud", (int)deleted.StatusCode, Stopwatch.GetElapsedTime(started), false, 0, 0, 0,
            deleted.StatusCode == HttpStatusCode.OK ? string.Empty : Cut(await deleted.Content.ReadAsStringAsync()));
    }

    private static async Task<Outcome> UnbilledAsync(HttpClient client, string kind, Func<Task<HttpResponseMessage>> send)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await send();
        var text = await response.Content.ReadAsStringAsync();
        return new Outcome(kind, (int)response.StatusCode, Stopwatch.GetElapsedTime(started), false, 0, 0, 0,
            response.IsSuccessStatusCode ? string.Empty : Cut(text));
    }

    private static string Report(List<Outcome> all, List<(TimeSpan At, long Bytes)> memory, TimeSpan elapsed, TimeSpan warmUp)
    {
        var lines = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"Mixed load: {Clients} clients, {elapsed.TotalSeconds:F0} s, {all.Count} requests ({all.Count / elapsed.TotalSeconds:F1}/s), {all.Count(o => o.Status == 429)} refused with 429, {all.Count(o => o.Status >= 500 || o.Status == 0)} server errors"),
            "kind          count   429   p50 ms   p99 ms",
        };
        foreach (var group in all.GroupBy(o => o.Kind).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var ok = group.Where(o => o.Status is 200 or 201).ToList();
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"{group.Key,-12} {group.Count(),6} {group.Count(o => o.Status == 429),5} {Percentile(ok, 0.50),8:F1} {Percentile(ok, 0.99),8:F1}"));
        }

        var settled = memory.Where(m => m.At >= warmUp).ToList();
        if (settled.Count > 0)
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"working set: {memory[0].Bytes / 1048576.0:F0} MB at start, {settled[0].Bytes / 1048576.0:F0} MB after warm-up ({warmUp.TotalSeconds:F0} s), {settled[^1].Bytes / 1048576.0:F0} MB at the end, peak {memory.Max(m => m.Bytes) / 1048576.0:F0} MB"));
        }

        return string.Join('\n', lines);
    }

    private static double Percentile(IEnumerable<Outcome> outcomes, double p)
    {
        var sorted = outcomes.Select(o => o.Elapsed.TotalMilliseconds).Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }

    private static long WorkingSet(int processId)
    {
        foreach (var line in File.ReadLines($"/proc/{processId}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    private static async Task<(long Requests, long Input, long Output, decimal Cost)> TotalsAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/api/usage/summary");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var totals = JsonDocument.Parse(text).RootElement.GetProperty("totals");
        return (totals.GetProperty("requests").GetInt64(), totals.GetProperty("input_tokens").GetInt64(),
            totals.GetProperty("output_tokens").GetInt64(), totals.GetProperty("cost").GetDecimal());
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : throw new Xunit.Sdk.XunitException($"no {name} header");

    private static string Cut(string text) => text.Length > 300 ? text[..300] : text;

    private sealed record Outcome(string Kind, int Status, TimeSpan Elapsed, bool Billed, long Input, long Output, decimal Cost, string Detail);
}
