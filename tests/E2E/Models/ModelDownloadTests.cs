using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using WebConsole.E2E.Infrastructure;
using WebConsole.TestModels;
using WebConsole.Tests.Hub;

namespace WebConsole.E2E.Models;

/// <summary>
/// Built-in models downloaded on first use from a hub (a loopback server speaking the Hugging Face layout, serving the
/// generated test models under the built-in ids' repositories), through the real REST surfaces of a real server.
/// </summary>
public sealed class ModelDownloadTests
{
    private const string EmbedderRepository = "test-org/e5-export";
    private const string RerankerRepository = "test-org/cross-encoder-export";
    private const string SparseRepository = "test-org/splade-export";

    [Fact]
    public async Task An_unreachable_hub_answers_503_naming_the_model_and_the_next_request_downloads_once_it_is_up()
    {
        var port = FakeHubServer.FreePort();
        await using var server = await StartServerAsync($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        using var client = Client(server);

        using (var failed = await client.PostAsJsonAsync("/_inference/text_embedding/.multilingual-e5-small-elasticsearch", new { input = "hello" }))
        {
            var body = await failed.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
            var reason = JsonNode.Parse(body)!["error"]!["reason"]!.GetValue<string>();
            Assert.Contains(".multilingual-e5-small", reason, StringComparison.Ordinal);
            Assert.Contains("hub", reason, StringComparison.OrdinalIgnoreCase);
        }

        var stats = await DownloadStatsAsync(client, ".multilingual-e5-small");
        Assert.Equal("failed", stats["state"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(stats["reason"]?.GetValue<string>()));

        // The hub comes up on that port: the next request tries again, downloads, deploys and serves.
        await using var hub = await FakeHubServer.StartAsync(await RepositoriesAsync(), port);
        using (var served = await client.PostAsJsonAsync("/_inference/text_embedding/.multilingual-e5-small-elasticsearch?timeout=120s", new { input = "hello" }))
        {
            var body = await served.Content.ReadAsStringAsync();
            Assert.True(served.StatusCode == HttpStatusCode.OK, body);
            Assert.Equal(await HiddenSizeAsync(), JsonNode.Parse(body)!["text_embedding"]![0]!["embedding"]!.AsArray().Count);
        }

        stats = await DownloadStatsAsync(client, ".multilingual-e5-small");
        Assert.Equal("downloaded", stats["state"]!.GetValue<string>());
        Assert.True(stats["total_bytes"]!.GetValue<long>() > 1_000_000);
        Assert.Equal(stats["total_bytes"]!.GetValue<long>(), stats["downloaded_bytes"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_slow_download_answers_408_with_its_progress_creation_says_it_goes_on_and_concurrent_requests_share_one_download()
    {
        await using var hub = await FakeHubServer.StartAsync(await RepositoriesAsync());
        await using var server = await StartServerAsync(hub.BaseUrl);
        using var client = Client(server);
        var graphSize = hub.SizeOf(RerankerRepository, "onnx/model.onnx");
        hub.Throttle(Math.Max(200_000, graphSize / 6));

        // Creating an endpoint waits for its model up to the timeout; the download outlasts it, so the endpoint is created
        // and the answer says that the download goes on.
        using (var created = await client.PutAsJsonAsync("/_inference/rerank/my-rerank?timeout=1s", new
        {
            service = "elasticsearch",
            service_settings = new { model_id = ".rerank-v1", num_allocations = 1, num_threads = 1 },
        }))
        {
            var body = await created.Content.ReadAsStringAsync();
            Assert.True(created.StatusCode == HttpStatusCode.OK, body);
            Assert.Equal("my-rerank", JsonNode.Parse(body)!["inference_id"]!.GetValue<string>());
            var warning = string.Join(" ", created.Headers.GetValues("Warning"));
            Assert.Contains("299 WebConsole", warning, StringComparison.Ordinal);
            Assert.Contains("[.rerank-v1] is not deployed yet: downloading (", warning, StringComparison.Ordinal);
        }

        // Meanwhile a request whose timeout ends gets 408 naming the model and how far the download is.
        using (var early = await client.PostAsJsonAsync("/_inference/rerank/my-rerank?timeout=1s", new { query = "q", input = new[] { "a", "b" } }))
        {
            var body = await early.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.RequestTimeout, early.StatusCode);
            var reason = JsonNode.Parse(body)!["error"]!["reason"]!.GetValue<string>();
            Assert.Matches(@"Model \[\.rerank-v1\] is not deployed yet: downloading \(\d{1,2}%\)", reason);
        }

        var during = await DownloadStatsAsync(client, ".rerank-v1");
        Assert.Equal("downloading", during["state"]!.GetValue<string>());
        Assert.True(during["total_bytes"]!.GetValue<long>() >= graphSize);

        // Ten concurrent requests wait for the same download and all succeed once it is done.
        var requests = Enumerable.Range(0, 10).Select(async i =>
        {
            using var response = await client.PostAsJsonAsync("/_inference/rerank/.rerank-v1-elasticsearch?timeout=120s",
                new { query = "search engine", input = new[] { $"document {i}", "Elasticsearch is a search engine" } });
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }).ToArray();
        foreach (var (status, body) in await Task.WhenAll(requests))
        {
            Assert.True(status == HttpStatusCode.OK, body);
            Assert.Equal(2, JsonNode.Parse(body)!["rerank"]!.AsArray().Count);
        }

        Assert.Equal(1, hub.ResolveCount(RerankerRepository, "onnx/model.onnx"));
        Assert.Equal(1, hub.ResolveCount(RerankerRepository, "config.json"));

        // The endpoint created while downloading serves now.
        using (var later = await client.PostAsJsonAsync("/_inference/rerank/my-rerank", new { query = "q", input = new[] { "a", "b" } }))
        {
            Assert.True(later.StatusCode == HttpStatusCode.OK, await later.Content.ReadAsStringAsync());
        }

        var after = await DownloadStatsAsync(client, ".rerank-v1");
        Assert.Equal("downloaded", after["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Progress_streams_in_order_to_100_percent_and_imported_models_serve_and_are_protected_while_used()
    {
        await using var hub = await FakeHubServer.StartAsync(await RepositoriesAsync());
        await using var server = await StartServerAsync(hub.BaseUrl);
        using var client = Client(server);
        hub.Throttle(2_000_000);

        // The portal's progress stream, while the operator fetches a built-in model ahead of use.
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var progressRequest = new HttpRequestMessage(HttpMethod.Get, "/api/models/_progress?model_id=.elser_model_2");
        using var progress = await client.SendAsync(progressRequest, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
        Assert.Equal("text/event-stream", progress.Content.Headers.ContentType?.MediaType);
        var reading = ReadProgressAsync(await progress.Content.ReadAsStreamAsync(cancel.Token), cancel.Token);
        using (var started = await client.PostAsync("/api/models/.elser_model_2/_download", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        }

        var events = await reading;
        Assert.Contains(events, e => e.State == "downloading");
        Assert.Equal("downloaded", events[^1].State);
        Assert.Equal(100, events[^1].Percent);
        var downloading = events.Where(e => e.State == "downloading").ToList();
        for (var i = 1; i < downloading.Count; i++)
        {
            Assert.True(downloading[i].Bytes >= downloading[i - 1].Bytes, $"bytes went back: {downloading[i - 1].Bytes} then {downloading[i].Bytes}");
        }

        // An operator imports a model from a hub repository; its task type and dimensions come from its files.
        hub.Throttle(0);
        using (var imported = await client.PostAsJsonAsync("/api/models?wait_for_completion=true", new { model_id = "team/my-e5", hub_repository = EmbedderRepository }))
        {
            var body = await imported.Content.ReadAsStringAsync();
            Assert.True(imported.StatusCode == HttpStatusCode.Created, body);
            var model = JsonNode.Parse(body)!;
            Assert.Equal("text_embedding", model["task_type"]!.GetValue<string>());
            Assert.Equal(await HiddenSizeAsync(), model["dimensions"]!.GetValue<int>());
            Assert.Equal("downloaded", model["download"]!["state"]!.GetValue<string>());
        }

        using (var duplicate = await client.PostAsJsonAsync("/api/models", new { model_id = "team/my-e5", hub_repository = EmbedderRepository }))
        {
            Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        }

        using (var invalid = await client.PostAsJsonAsync("/api/models", new { model_id = ".mine", hub_repository = EmbedderRepository, extra = 1 }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        }

        using (var created = await client.PutAsJsonAsync("/_inference/text_embedding/my-e5", new
        {
            service = "elasticsearch",
            service_settings = new { model_id = "team/my-e5", num_allocations = 1, num_threads = 1 },
        }))
        {
            Assert.True(created.StatusCode == HttpStatusCode.OK, await created.Content.ReadAsStringAsync());
            Assert.False(created.Headers.Contains("Warning"));
        }

        using (var embedded = await client.PostAsJsonAsync("/_inference/text_embedding/my-e5", new { input = "hello" }))
        {
            Assert.True(embedded.StatusCode == HttpStatusCode.OK, await embedded.Content.ReadAsStringAsync());
        }

        using (var blocked = await client.DeleteAsync("/api/models/team/my-e5"))
        {
            var body = await blocked.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.Conflict, blocked.StatusCode);
            Assert.Contains("my-e5", body, StringComparison.Ordinal);
        }

        using (var forced = await client.DeleteAsync("/api/models/team/my-e5?force=true"))
        {
            Assert.True(forced.StatusCode == HttpStatusCode.OK, await forced.Content.ReadAsStringAsync());
        }

        using var gone = await client.GetAsync("/api/models/team/my-e5");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.False(Directory.Exists(Path.Combine(server.DataDirectory, "models", "team", "my-e5")));
    }

    private static async Task<List<(string State, long Bytes, double? Percent)>> ReadProgressAsync(Stream stream, CancellationToken cancellationToken)
    {
        var events = new List<(string, long, double?)>();
        using var reader = new StreamReader(stream);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }

            var status = JsonNode.Parse(line["data: ".Length..])!;
            var state = status["state"]!.GetValue<string>();
            events.Add((state, status["downloaded_bytes"]!.GetValue<long>(), status["percent"]?.GetValue<double>()));
            if (state is "downloaded" or "failed")
            {
                break;
            }
        }

        return events;
    }

    private static async Task<WebConsoleServer> StartServerAsync(string hubBaseUrl)
    {
        var settings = ServerFixture.Settings.ToDictionary();
        settings["Inference:Hub:BaseUrl"] = hubBaseUrl;
        settings["Inference:Hub:MaxAttempts"] = "2";
        settings["Inference:Hub:RetryDelay"] = "00:00:00.200";
        settings["Inference:BuiltInModels:.multilingual-e5-small:Repository"] = EmbedderRepository;
        settings["Inference:BuiltInModels:.rerank-v1:Repository"] = RerankerRepository;
        settings["Inference:BuiltInModels:.elser_model_2:Repository"] = SparseRepository;
        return await WebConsoleServer.StartAsync(settings);
    }

    private static async Task<Dictionary<string, string>> RepositoriesAsync() => new()
    {
        [EmbedderRepository] = await TestModelStore.GetAsync(TestModelKind.BertMeanPooling),
        [RerankerRepository] = await TestModelStore.GetAsync(TestModelKind.CrossEncoder),
        [SparseRepository] = await TestModelStore.GetAsync(TestModelKind.Splade),
    };

    private static async Task<int> HiddenSizeAsync()
    {
        var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(await TestModelStore.GetAsync(TestModelKind.BertMeanPooling), "config.json")))!;
        return config["hidden_size"]!.GetValue<int>();
    }

    private static HttpClient Client(WebConsoleServer server)
    {
        var client = server.CreateApiKeyClient();
        return client;
    }

    private static async Task<JsonNode> DownloadStatsAsync(HttpClient client, string modelId)
    {
        using var response = await client.GetAsync($"/_ml/trained_models/{modelId}/_stats");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var stats = JsonNode.Parse(body)!["trained_model_stats"]!.AsArray();
        Assert.NotEmpty(stats);
        return stats[0]!["model_download"]!;
    }
}
