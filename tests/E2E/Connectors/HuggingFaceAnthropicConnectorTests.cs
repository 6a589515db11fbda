using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using WebConsole.Tests.Providers;

namespace WebConsole.E2E.Connectors;

/// <summary>
/// The hugging_face and anthropic connectors end to end: the real server calls fake providers speaking their wire formats
/// on loopback, through both REST surfaces, with retries, timeouts, error mapping, billing and secret handling.
/// </summary>
[Collection(ProviderConnectorCollection.Name)]
public sealed class HuggingFaceAnthropicConnectorTests(ProviderConnectorFixture fixture)
{
    private static StringContent Json(object body) => OpenAiConnectorFixture.Json(body);

    [Fact]
    public async Task Hugging_Face_serves_every_task_type_on_both_surfaces_with_counted_usage()
    {
        var hf = fixture.HuggingFace;
        var created = await fixture.CreateAsync("text_embedding", "hf-embed", fixture.HuggingFaceEndpoint("/embed"));
        Assert.Equal((hf.Dimensions, "cosine", 3000), (created["service_settings"]!["dimensions"]!.GetValue<int>(),
            created["service_settings"]!["similarity"]!.GetValue<string>(), created["service_settings"]!["rate_limit"]!["requests_per_minute"]!.GetValue<int>()));
        Assert.Null(created["service_settings"]!["api_key"]);
        await fixture.CreateAsync("sparse_embedding", "hf-sparse", fixture.HuggingFaceEndpoint("/embed_sparse"));
        await fixture.CreateAsync("rerank", "hf-rerank", fixture.HuggingFaceEndpoint("/rerank", new { return_documents = true }));
        await fixture.CreateAsync("chat_completion", "hf-chat", fixture.HuggingFaceEndpoint("/v1/chat/completions"));
        await fixture.CreateAsync("completion", "hf-complete", fixture.HuggingFaceEndpoint("/v1/chat/completions"));
        using var client = fixture.Client();

        using (var embed = await client.PostAsync("/_inference/text_embedding/hf-embed", Json(new { input = new[] { "hello world", "a fox" } })))
        {
            var text = await embed.Content.ReadAsStringAsync();
            Assert.True(embed.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
            Assert.Equal(FakeOpenAiServer.EmbeddingOf("a fox", hf.Dimensions), JsonNode.Parse(text)!["text_embedding"]![1]!["embedding"]!.AsArray().Select(v => v!.GetValue<float>()));
            Assert.Equal("5", embed.Headers.GetValues("x-webconsole-input-tokens").Single()); // 11 and 5 characters, about 4 a token
        }

        using (var v1 = await client.PostAsync("/v1/embeddings", Json(new { model = "hf-embed", input = "hello world" })))
        {
            var text = await v1.Content.ReadAsStringAsync();
            Assert.True(v1.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
            Assert.Equal(hf.Dimensions, JsonNode.Parse(text)!["data"]![0]!["embedding"]!.AsArray().Count);
        }

        using (var sparse = await client.PostAsync("/_inference/sparse_embedding/hf-sparse", Json(new { input = "the elephant ran" })))
        {
            var text = await sparse.Content.ReadAsStringAsync();
            Assert.True(sparse.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
            var weights = JsonNode.Parse(text)!["sparse_embedding"]![0]!["embedding"]!.AsObject();
            Assert.Equal(0.8f, weights["elephant"]!.GetValue<float>());
            Assert.Equal(3, weights.Count);
        }

        using (var rerank = await client.PostAsync("/_inference/rerank/hf-rerank", Json(new { query = "quick fox", input = new[] { "nothing", "a quick fox", "fox" }, top_n = 2 })))
        {
            var text = await rerank.Content.ReadAsStringAsync();
            Assert.True(rerank.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
            var ranked = JsonNode.Parse(text)!["rerank"]!.AsArray();
            Assert.Equal([1, 2], ranked.Select(r => r!["index"]!.GetValue<int>()));
            Assert.Equal("a quick fox", ranked[0]!["text"]!.GetValue<string>());
            Assert.Equal(2, hf.Requests[^1].Json!["top_n"]!.GetValue<int>());
        }

        var messages = new[] { new { role = "user", content = "hello there" } };
        var answer = FakeOpenAiServer.AnswerTo("hello there");
        using (var chat = await client.PostAsync("/v1/chat/completions", Json(new { model = "hf-chat", messages })))
        {
            var text = await chat.Content.ReadAsStringAsync();
            Assert.True(chat.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
            Assert.Equal(answer, JsonNode.Parse(text)!["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        }

        using (var stream = await client.PostAsync("/_inference/chat_completion/hf-chat/_stream", Json(new { messages })))
        {
            var text = await stream.Content.ReadAsStringAsync();
            Assert.True(stream.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
            var events = OpenAiConnectorFixture.Events(text);
            Assert.Equal("[DONE]", events[^1].Data);
            var chunks = events[..^1].Select(e => JsonNode.Parse(e.Data)!).ToList();
            Assert.Equal(answer, string.Concat(chunks.SelectMany(c => c["choices"]!.AsArray()).Select(c => c!["delta"]?["content"]?.GetValue<string>())));
            Assert.Equal(FakeOpenAiServer.CompletionTokens(answer), chunks[^1]["usage"]!["completion_tokens"]!.GetValue<int>());
        }

        using (var completion = await client.PostAsync("/_inference/completion/hf-complete", Json(new { input = "hello there" })))
        {
            var text = await completion.Content.ReadAsStringAsync();
            Assert.True(completion.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
            Assert.Equal(answer, JsonNode.Parse(text)!["completion"]![0]!["result"]!.GetValue<string>());
        }

        Assert.Equal((2L, 5L + 3L, 0L), await fixture.BilledAsync("hf-embed", atLeast: 2));
        Assert.Equal(2L, (await fixture.BilledAsync("hf-chat", atLeast: 2)).Requests);
    }

    [Fact]
    public async Task Anthropic_completes_and_chats_plain_and_streamed_with_its_own_usage_and_system_prompt()
    {
        var anthropic = fixture.Anthropic;
        await fixture.CreateAsync("completion", "an-complete", fixture.AnthropicEndpoint());
        await fixture.CreateAsync("chat_completion", "an-chat", fixture.AnthropicEndpoint());
        using var client = fixture.Client();

        var haiku = FakeOpenAiServer.AnswerTo("write a haiku");
        using (var plain = await client.PostAsync("/_inference/completion/an-complete", Json(new { input = "write a haiku" })))
        {
            var text = await plain.Content.ReadAsStringAsync();
            Assert.True(plain.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
            Assert.Equal(haiku, JsonNode.Parse(text)!["completion"]![0]!["result"]!.GetValue<string>());
            Assert.Equal(FakeAnthropicServer.InputTokens(null, ["write a haiku"]).ToString(CultureInfo.InvariantCulture), plain.Headers.GetValues("x-webconsole-input-tokens").Single());
            Assert.Equal(200, anthropic.Requests[^1].Json!["max_tokens"]!.GetValue<int>());
        }

        using (var streamed = await client.PostAsync("/_inference/completion/an-complete/_stream", Json(new { input = "write a haiku" })))
        {
            var text = await streamed.Content.ReadAsStringAsync();
            Assert.True(streamed.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
            var events = OpenAiConnectorFixture.Events(text);
            var deltas = events.Where(e => e.Data.StartsWith('{')).SelectMany(e => JsonNode.Parse(e.Data)!["completion"]!.AsArray()).Select(c => c!["delta"]?.GetValue<string>()).Where(d => !string.IsNullOrEmpty(d));
            Assert.Equal(FakeOpenAiServer.Pieces(haiku), deltas);
            var usage = JsonNode.Parse(events[^2].Data)!["usage"]!;
            Assert.Equal((FakeAnthropicServer.InputTokens(null, ["write a haiku"]), FakeOpenAiServer.CompletionTokens(haiku)),
                (usage["prompt_tokens"]!.GetValue<int>(), usage["completion_tokens"]!.GetValue<int>()));
        }

        var messages = new[] { new { role = "system", content = "be brief" }, new { role = "user", content = "tell me about tides" } };
        var answer = FakeOpenAiServer.AnswerTo("tell me about tides");
        var prompt = FakeAnthropicServer.InputTokens("be brief", ["tell me about tides"]);
        using (var chat = await client.PostAsync("/_inference/chat_completion/an-chat", Json(new { messages, max_completion_tokens = 50 })))
        {
            var text = await chat.Content.ReadAsStringAsync();
            Assert.True(chat.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
            var json = JsonNode.Parse(text)!;
            Assert.Equal(answer, json["choices"]![0]!["message"]!["content"]!.GetValue<string>());
            Assert.Equal(prompt, json["usage"]!["prompt_tokens"]!.GetValue<int>());
            var sent = anthropic.Requests[^1].Json!;
            Assert.Equal(("be brief", 50, 1), (sent["system"]!.GetValue<string>(), sent["max_tokens"]!.GetValue<int>(), sent["messages"]!.AsArray().Count));
            Assert.Equal(anthropic.ApiKey, anthropic.Requests[^1].Header("x-api-key"));
        }

        using (var v1 = await client.PostAsync("/v1/chat/completions", Json(new { model = "an-chat", messages, stream = true, stream_options = new { include_usage = true } })))
        {
            var text = await v1.Content.ReadAsStringAsync();
            Assert.True(v1.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
            var chunks = OpenAiConnectorFixture.Events(text)[..^1].Select(e => JsonNode.Parse(e.Data)!).ToList();
            Assert.Equal(answer, string.Concat(chunks.SelectMany(c => c["choices"]!.AsArray()).Select(c => c!["delta"]?["content"]?.GetValue<string>())));
            Assert.Equal((prompt, FakeOpenAiServer.CompletionTokens(answer)), (chunks[^1]["usage"]!["prompt_tokens"]!.GetValue<int>(), chunks[^1]["usage"]!["completion_tokens"]!.GetValue<int>()));
        }

        Assert.Equal((2L, 2L * prompt, 2L * FakeOpenAiServer.CompletionTokens(answer)), await fixture.BilledAsync("an-chat", atLeast: 2));
    }

    [Fact]
    public async Task A_429_then_success_is_retried_and_billed_once()
    {
        await fixture.CreateAsync("text_embedding", "hf-retry", fixture.HuggingFaceEndpoint("/embed"));
        var before = fixture.HuggingFace.Requests.Count;
        fixture.HuggingFace.Faults.Enqueue(FakeFault.Status(429, "Rate limit reached", retryAfterSeconds: 1));
        using var client = fixture.Client();
        var started = Stopwatch.GetTimestamp();

        using var response = await client.PostAsync("/_inference/text_embedding/hf-retry", Json(new { input = "x" }));

        Assert.True(response.StatusCode == HttpStatusCode.OK, fixture.Explain(await response.Content.ReadAsStringAsync()));
        Assert.True(Stopwatch.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(950), "retried before Retry-After");
        Assert.Equal(2, fixture.HuggingFace.Requests.Count - before);
        Assert.Equal(1, (await fixture.BilledAsync("hf-retry", atLeast: 1)).Requests);
    }

    [Fact]
    public async Task A_provider_500_is_Elasticsearchs_server_error_and_bills_nothing()
    {
        await fixture.CreateAsync("completion", "an-500", fixture.AnthropicEndpoint());
        foreach (var _ in Enumerable.Range(0, 3))
        {
            fixture.Anthropic.Faults.Enqueue(FakeFault.Status(500, "Internal server error"));
        }

        using var client = fixture.Client();
        using var response = await client.PostAsync("/_inference/completion/an-500", Json(new { input = "hi" }));
        var text = await response.Content.ReadAsStringAsync();
        fixture.Anthropic.Faults.Clear();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Received a server error status code for request from inference entity id [an-500] status [500]. Error message: [Internal server error]",
            JsonNode.Parse(text)!["error"]!["reason"]!.GetValue<string>());
        Assert.Equal((0L, 0L, 0L), await fixture.BilledAsync("an-500"));
    }

    [Fact]
    public async Task A_provider_that_hangs_past_the_timeout_is_a_408_and_bills_nothing()
    {
        await fixture.CreateAsync("rerank", "hf-hang", fixture.HuggingFaceEndpoint("/rerank"));
        fixture.HuggingFace.Faults.Enqueue(FakeFault.Hang);
        using var client = fixture.Client();
        var started = Stopwatch.GetTimestamp();

        using var response = await client.PostAsync("/_inference/rerank/hf-hang", Json(new { query = "q", input = new[] { "a", "b" } }));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.RequestTimeout, fixture.Explain(text));
        Assert.Equal("Request timed out", JsonNode.Parse(text)!["error"]!["reason"]!.GetValue<string>());
        Assert.InRange(Stopwatch.GetElapsedTime(started), ProviderConnectorFixture.AttemptTimeout - TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(15));
        Assert.Equal((0L, 0L, 0L), await fixture.BilledAsync("hf-hang"));
    }

    [Theory]
    [InlineData("cut", 502, "The provider closed the stream for request from inference entity id [an-cut] before the answer ended")]
    [InlineData("error-event", 500, "Received an error response for request from inference entity id [an-cut]. Error message: [Overloaded]")]
    public async Task A_stream_that_breaks_midway_ends_with_the_mapped_error_event_and_is_billed_once(string fault, int status, string reason)
    {
        await fixture.CreateAsync("chat_completion", "an-cut", fixture.AnthropicEndpoint());
        var before = await fixture.BilledAsync("an-cut");
        fixture.Anthropic.Faults.Enqueue(fault == "cut" ? FakeFault.AbortStream(2) : new StreamErrorFault(2, "overloaded_error", "Overloaded"));
        using var client = fixture.Client();

        using var response = await client.PostAsync("/_inference/chat_completion/an-cut/_stream",
            Json(new { messages = new[] { new { role = "user", content = "one two three four" } } }));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
        var events = OpenAiConnectorFixture.Events(text);
        Assert.DoesNotContain(events, e => e.Data == "[DONE]");
        var deltas = events.Where(e => e.Event == "message").Select(e => JsonNode.Parse(e.Data)!)
            .SelectMany(c => c["choices"]!.AsArray()).Select(c => c!["delta"]?["content"]?.GetValue<string>()).Where(d => !string.IsNullOrEmpty(d));
        Assert.Equal(FakeOpenAiServer.Pieces(FakeOpenAiServer.AnswerTo("one two three four")).Take(2), deltas);
        Assert.Equal("error", events[^1].Event);
        var error = JsonNode.Parse(events[^1].Data)!;
        Assert.Equal((status, reason), (error["status"]!.GetValue<int>(), error["error"]!["reason"]!.GetValue<string>()));

        var after = await fixture.BilledAsync("an-cut", atLeast: before.Requests + 1);
        Assert.Equal(before.Requests + 1, after.Requests);
        Assert.True(after.Output > before.Output, "the pieces the client got were not billed");
    }

    [Fact]
    public async Task Secrets_never_appear_in_answers_errors_or_the_servers_log_and_the_schemas_are_listed()
    {
        await fixture.CreateAsync("text_embedding", "hf-secret", fixture.HuggingFaceEndpoint("/embed"));
        await fixture.CreateAsync("completion", "an-secret", fixture.AnthropicEndpoint());
        using var client = fixture.Client();
        var answers = new List<string> { await client.GetStringAsync(new Uri("/_inference/_all", UriKind.Relative)) };

        const string wrongHf = "hf_wrong_token_7f3a9c2e1b";
        const string wrongAnthropic = "sk-ant-wrong-4f7a9c2e1b3d";
        foreach (var (task, id, body) in new (string, string, object)[]
        {
            ("text_embedding", "hf-wrong", new { service = "hugging_face", service_settings = new { url = $"{fixture.HuggingFace.BaseUrl}/embed", api_key = wrongHf } }),
            ("completion", "an-wrong", new { service = "anthropic", service_settings = new { api_key = wrongAnthropic, model_id = "m" }, task_settings = new { max_tokens = 5 } }),
        })
        {
            using var refused = await client.PutAsync($"/_inference/{task}/{id}", Json(body));
            var text = await refused.Content.ReadAsStringAsync();
            answers.Add(text);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains($"Received an authentication error status code for request from inference entity id [{id}] status [401]", text, StringComparison.Ordinal);
            Assert.Contains("[REDACTED]", text, StringComparison.Ordinal);
            using var missing = await client.GetAsync($"/_inference/{id}");
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        // A retried call leaves a log line; none carries a key.
        fixture.Anthropic.Faults.Enqueue(FakeFault.Status(529, "Overloaded"));
        using (var retried = await client.PostAsync("/_inference/completion/an-secret", Json(new { input = "x" })))
        {
            answers.Add(await retried.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        }

        var services = JsonNode.Parse(await client.GetStringAsync(new Uri("/_inference/_services", UriKind.Relative)))!.AsArray()
            .ToDictionary(s => s!["service"]!.GetValue<string>());
        Assert.Equal(["text_embedding", "sparse_embedding", "rerank", "completion", "chat_completion"], services["hugging_face"]!["task_types"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal(["completion", "chat_completion"], services["anthropic"]!["task_types"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.True(services["hugging_face"]!["configurations"]!["api_key"]!["sensitive"]!.GetValue<bool>());
        Assert.True(services["anthropic"]!["configurations"]!["model_id"]!["required"]!.GetValue<bool>());
        Assert.True(services["elastic"]!["configurations"]!["api_key"]!["sensitive"]!.GetValue<bool>());

        await Task.Delay(200);
        Assert.Contains("Retrying the anthropic call of inference endpoint [an-secret]", fixture.Server.Log, StringComparison.Ordinal);
        foreach (var secret in new[] { fixture.HuggingFace.Token, fixture.Anthropic.ApiKey, wrongHf, wrongAnthropic })
        {
            Assert.All(answers, a => Assert.DoesNotContain(secret, a, StringComparison.Ordinal));
            Assert.DoesNotContain(secret, fixture.Server.Log, StringComparison.Ordinal);
        }
    }
}
