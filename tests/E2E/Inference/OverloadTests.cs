using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using WebConsole.E2E.Infrastructure;

namespace WebConsole.E2E.Inference;

/// <summary>A deployment's bounded queue: past its limit a request answers 429 at once, and what was queued still runs.</summary>
public sealed class OverloadTests
{
    [Fact]
    public async Task A_full_queue_answers_429_naming_the_queue_and_the_queued_request_still_succeeds()
    {
        var settings = ServerFixture.Settings.ToDictionary();
        await GeneratedModels.RegisterAsync(settings, "q-bert", "q-splade", "q-cross", "q-llama3");
        settings["Inference:Batching:MaxQueuedItems"] = "1";
        await using var server = await WebConsoleServer.StartAsync(settings);
        using var client = server.CreateApiKeyClient();
        using (var created = await client.PutAsJsonAsync("/_inference/chat_completion/q-chat", new
        {
            service = "elasticsearch",
            service_settings = new { model_id = "q-llama3", num_allocations = 1, num_threads = 1 },
        }))
        {
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        }

        object Chat(int tokens) => new { messages = new[] { new { role = "user", content = "Tell me a long story." } }, max_completion_tokens = tokens };

        // A holds the only allocation (its first event has arrived), B waits in the one-place queue, C finds it full.
        using var running = new HttpRequestMessage(HttpMethod.Post, "/_inference/chat_completion/q-chat/_stream") { Content = JsonContent.Create(Chat(1500)) };
        using var streaming = await client.SendAsync(running, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, streaming.StatusCode);
        await using var stream = await streaming.Content.ReadAsStreamAsync();
        Assert.True(await stream.ReadAsync(new byte[16]) > 0);

        var queued = client.PostAsJsonAsync("/_inference/chat_completion/q-chat", Chat(2));
        await WaitUntilQueuedAsync(client);

        using var rejected = await client.PostAsJsonAsync("/_inference/chat_completion/q-chat", Chat(2));
        var body = await rejected.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        using (var json = JsonDocument.Parse(body))
        {
            Assert.Equal(429, json.RootElement.GetProperty("status").GetInt32());
            Assert.Equal("status_exception", json.RootElement.GetProperty("error").GetProperty("type").GetString());
            Assert.Contains("queue is full", json.RootElement.GetProperty("error").GetProperty("reason").GetString(), StringComparison.Ordinal);
        }

        // Leaving the stream frees the allocation; the queued request then runs.
        streaming.Dispose();
        using var answer = await queued;
        Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
    }

    // The trained-model statistics report the queue; B counts once it is waiting.
    private static async Task WaitUntilQueuedAsync(HttpClient client)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            using var stats = JsonDocument.Parse(await client.GetStringAsync(new Uri("/_ml/trained_models/_stats", UriKind.Relative)));
            if (stats.RootElement.GetProperty("trained_model_stats").EnumerateArray()
                .Any(m => m.TryGetProperty("deployment_stats", out var d) && d.TryGetProperty("queue_size", out var q) && q.GetInt32() > 0))
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("the second request never showed in the deployment's queue");
    }
}
