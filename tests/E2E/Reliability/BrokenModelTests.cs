using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using WebConsole.E2E.Infrastructure;
using WebConsole.E2E.Inference;
using WebConsole.TestModels;

namespace WebConsole.E2E.Reliability;

/// <summary>
/// Model files that go bad on disk: one model's graph is cut short, another's is deleted, after their endpoints were
/// created. Requests to those endpoints fail clearly (503 naming the model, in the contract's shape), the server keeps
/// serving every other endpoint, and nothing is billed for the failures.
/// </summary>
public sealed class BrokenModelTests : IAsyncLifetime
{
    private readonly string _models = Path.Combine(Path.GetTempPath(), "webconsole-broken-models-" + Guid.NewGuid().ToString("N"));
    private WebConsoleServer? _server;

    public async Task InitializeAsync()
    {
        // Copies of the generated BERT model, so breaking them leaves the shared test model cache intact.
        var bert = await TestModelStore.GetAsync(TestModelKind.BertMeanPooling);
        var settings = ServerFixture.Settings.ToDictionary();
        foreach (var name in new[] { "healthy", "corrupt", "missing" })
        {
            Folders.Copy(bert, Path.Combine(_models, name));
            settings[$"Inference:Models:broken-{name}:Path"] = Path.Combine(_models, name);
        }

        _server = await WebConsoleServer.StartAsync(settings);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Directory.Delete(_models, recursive: true);
    }

    [Fact]
    public async Task A_corrupt_or_missing_model_file_fails_its_endpoint_clearly_and_the_others_keep_serving()
    {
        using var client = _server!.CreateApiKeyClient();
        foreach (var name in new[] { "healthy", "corrupt", "missing" })
        {
            // num_allocations 0 with adaptive allocations: nothing is loaded until the first request.
            using var created = await client.PutAsJsonAsync($"/_inference/text_embedding/ep-{name}", new
            {
                service = "elasticsearch",
                service_settings = new
                {
                    model_id = $"broken-{name}",
                    num_threads = 1,
                    adaptive_allocations = new { enabled = true, min_number_of_allocations = 0, max_number_of_allocations = 1 },
                },
            });
            Assert.True(created.IsSuccessStatusCode, $"{name}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        }

        // The disk goes bad after the endpoints exist: one graph is cut to a few bytes, the other is gone.
        var corrupt = Directory.GetFiles(Path.Combine(_models, "corrupt"), "*.onnx", SearchOption.AllDirectories);
        Assert.NotEmpty(corrupt);
        foreach (var file in corrupt)
        {
            await File.WriteAllBytesAsync(file, "not an onnx graph"u8.ToArray());
        }

        foreach (var file in Directory.GetFiles(Path.Combine(_models, "missing"), "*.onnx", SearchOption.AllDirectories))
        {
            File.Delete(file);
        }

        var before = await RequestsBilledAsync(client);
        foreach (var name in new[] { "corrupt", "missing" })
        {
            for (var attempt = 0; attempt < 2; attempt++)
            {
                using var response = await client.PostAsync($"/_inference/text_embedding/ep-{name}", InferenceApiServer.Json(new { input = "hello" }));
                var text = await response.Content.ReadAsStringAsync();
                Assert.True((int)response.StatusCode is >= 400 and < 600 && response.StatusCode != HttpStatusCode.InternalServerError,
                    $"{name}: {(int)response.StatusCode} {text}");
                var error = JsonNode.Parse(text)!;
                Assert.Equal((int)response.StatusCode, error["status"]!.GetValue<int>());
                Assert.Contains($"broken-{name}", error["error"]!["reason"]!.GetValue<string>(), StringComparison.Ordinal);
            }

            using var healthy = await client.PostAsync("/_inference/text_embedding/ep-healthy", InferenceApiServer.Json(new { input = "still serving" }));
            Assert.True(healthy.StatusCode == HttpStatusCode.OK, await healthy.Content.ReadAsStringAsync());
        }

        using (var health = await client.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        // Only the two healthy requests were billed.
        Assert.Equal(before + 2, await RequestsBilledAsync(client));
    }

    private static async Task<long> RequestsBilledAsync(HttpClient client)
    {
        var summary = JsonNode.Parse(await client.GetStringAsync("/api/usage/summary"))!;
        return summary["totals"]!["requests"]!.GetValue<long>();
    }
}
