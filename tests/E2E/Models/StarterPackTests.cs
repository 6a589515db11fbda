using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using WebConsole.E2E.Infrastructure;

namespace WebConsole.E2E.Models;

/// <summary>
/// The offline starter pack through the real REST surfaces: the reserved starter endpoints and <c>.chat-elastic</c> work
/// on a fresh install with no hub, after a first-use build whose progress the trained-model statistics show.
/// </summary>
public sealed class StarterPackTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task The_starter_endpoints_embed_expand_and_rerank_on_a_fresh_install()
    {
        using var client = Client();
        using (var embedded = await client.PostAsJsonAsync("/_inference/text_embedding/.starter-embedding-elasticsearch?timeout=600s",
            new { input = new[] { "The physician examined the patient", "A doctor treated the sick man" } }))
        {
            var body = await embedded.Content.ReadAsStringAsync();
            Assert.True(embedded.StatusCode == HttpStatusCode.OK, body);
            var vectors = JsonNode.Parse(body)!["text_embedding"]!.AsArray();
            Assert.Equal(2, vectors.Count);
            Assert.All(vectors, v => Assert.Equal(100, v!["embedding"]!.AsArray().Count));
            Assert.True(int.Parse(embedded.Headers.GetValues("x-webconsole-input-tokens").Single(), System.Globalization.CultureInfo.InvariantCulture) > 0);
        }

        using (var expanded = await client.PostAsJsonAsync("/_inference/sparse_embedding/.starter-sparse-elasticsearch?timeout=600s", new { input = "car" }))
        {
            var body = await expanded.Content.ReadAsStringAsync();
            Assert.True(expanded.StatusCode == HttpStatusCode.OK, body);
            var weights = JsonNode.Parse(body)!["sparse_embedding"]![0]!["embedding"]!.AsObject();
            Assert.True(weights.Count > 1, body);
            Assert.Contains("car", weights.Select(w => w.Key));
            Assert.All(weights, w => Assert.True(w.Value!.GetValue<float>() > 0));
        }

        using (var ranked = await client.PostAsJsonAsync("/_inference/rerank/.starter-rerank-elasticsearch?timeout=600s", new
        {
            query = "which physician treats heart disease",
            input = new[] { "The stock market fell sharply on Monday", "A cardiologist is a doctor for cardiac illness", "Bake the cake for forty minutes" },
        }))
        {
            var body = await ranked.Content.ReadAsStringAsync();
            Assert.True(ranked.StatusCode == HttpStatusCode.OK, body);
            Assert.Equal(1, JsonNode.Parse(body)!["rerank"]![0]!["index"]!.GetValue<int>());
        }

        var stats = JsonNode.Parse(await client.GetStringAsync("/_ml/trained_models/.starter-embedding/_stats"))!["trained_model_stats"]![0]!;
        Assert.Equal("downloaded", stats["model_download"]!["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_demo_chat_model_streams_through_chat_elastic()
    {
        using var client = Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/_inference/chat_completion/.chat-elastic/_stream?timeout=600s")
        {
            Content = JsonContent.Create(new
            {
                messages = new[] { new { role = "user", content = "Tell me about the sea and the ships." } },
                max_completion_tokens = 24,
            }),
        };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);

        var text = new StringBuilder();
        var chunks = 0;
        JsonNode? usage = null;
        var done = false;
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal))
            {
                continue;
            }

            var data = line["data: ".Length..];
            if (data == "[DONE]")
            {
                done = true;
                break;
            }

            var chunk = JsonNode.Parse(data)!;
            if (chunk["usage"] is { } u)
            {
                usage = u;
            }

            if (chunk["choices"]?.AsArray() is [{ } choice, ..] && choice["delta"]?["content"]?.GetValue<string>() is { } content)
            {
                text.Append(content);
                chunks++;
            }
        }

        Assert.True(done, "the stream ended without [DONE]");
        Assert.True(chunks >= 2, $"expected several streamed chunks, got {chunks}: '{text}'");
        Assert.Contains(text.ToString(), c => char.IsLetter(c));
        Assert.NotNull(usage);
        Assert.True(usage!["prompt_tokens"]!.GetValue<int>() > 0);
        Assert.InRange(usage["completion_tokens"]!.GetValue<int>(), 1, 24);
    }

    private HttpClient Client()
    {
        var client = fixture.Server.CreateApiKeyClient();
        client.Timeout = TimeSpan.FromMinutes(10);
        return client;
    }
}
