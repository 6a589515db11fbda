using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using WebConsole.Tests.Providers;

namespace WebConsole.E2E.Connectors;

/// <summary>
/// The OpenAI-family connectors end to end: the real server calls a fake OpenAI-compatible provider on loopback through
/// both REST surfaces, with the outbound throttle, retries, timeouts, error mapping, billing and the address guard.
/// </summary>
[Collection(OpenAiConnectorCollection.Name)]
public sealed class OpenAiConnectorTests(OpenAiConnectorFixture fixture)
{
    private FakeOpenAiServer Provider => fixture.Provider;

    [Fact]
    public async Task A_text_embedding_endpoint_learns_its_dimensions_on_create_and_embeds_on_both_surfaces()
    {
        Provider.Dimensions = 8;
        var created = await fixture.CreateAsync("text_embedding", "oa-embed", fixture.OpenAi("text-embedding-3-small"));
        var settings = created["service_settings"]!.AsObject();
        Assert.Equal(8, settings["dimensions"]!.GetValue<int>());
        Assert.Equal("dot_product", settings["similarity"]!.GetValue<string>());
        Assert.Equal(3000, settings["rate_limit"]!["requests_per_minute"]!.GetValue<int>());
        Assert.Null(settings["api_key"]);

        using var client = fixture.Client();
        string[] inputs = ["hello world", "the quick brown fox"];
        using var response = await client.PostAsync("/_inference/text_embedding/oa-embed", OpenAiConnectorFixture.Json(new { input = inputs }));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
        var embeddings = JsonNode.Parse(text)!["text_embedding"]!.AsArray();
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(FakeOpenAiServer.EmbeddingOf(inputs[i], 8), embeddings[i]!["embedding"]!.AsArray().Select(v => v!.GetValue<float>()));
        }

        var tokens = FakeOpenAiServer.EmbeddingTokens(inputs);
        Assert.Equal(tokens.ToString(CultureInfo.InvariantCulture), response.Headers.GetValues("x-webconsole-input-tokens").Single());

        using var v1 = await client.PostAsync("/v1/embeddings", OpenAiConnectorFixture.Json(new { model = "oa-embed", input = "hello world" }));
        var v1Text = await v1.Content.ReadAsStringAsync();
        Assert.True(v1.StatusCode == HttpStatusCode.OK, fixture.Explain(v1Text));
        var v1Json = JsonNode.Parse(v1Text)!;
        Assert.Equal(FakeOpenAiServer.EmbeddingOf("hello world", 8), v1Json["data"]![0]!["embedding"]!.AsArray().Select(v => v!.GetValue<float>()));
        Assert.Equal(FakeOpenAiServer.EmbeddingTokens(["hello world"]), v1Json["usage"]!["prompt_tokens"]!.GetValue<int>());

        Assert.Equal((2L, (long)tokens + FakeOpenAiServer.EmbeddingTokens(["hello world"]), 0L), await fixture.BilledAsync("oa-embed"));
    }

    [Fact]
    public async Task Chat_completion_answers_plain_and_streamed_on_both_surfaces_with_the_providers_usage()
    {
        await fixture.CreateAsync("chat_completion", "oa-chat", fixture.OpenAi());
        using var client = fixture.Client();
        var messages = new[] { new { role = "system", content = "be brief" }, new { role = "user", content = "tell me about tides" } };
        var answer = FakeOpenAiServer.AnswerTo("tell me about tides");
        var prompt = FakeOpenAiServer.PromptTokens(["be brief", "tell me about tides"]);
        var completion = FakeOpenAiServer.CompletionTokens(answer);

        // Elasticsearch's surface, not streamed: an OpenAI chat.completion object.
        using (var plain = await client.PostAsync("/_inference/chat_completion/oa-chat", OpenAiConnectorFixture.Json(new { messages })))
        {
            var text = await plain.Content.ReadAsStringAsync();
            Assert.True(plain.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
            var json = JsonNode.Parse(text)!;
            Assert.Equal(answer, json["choices"]![0]!["message"]!["content"]!.GetValue<string>());
            Assert.Equal((prompt, completion), (json["usage"]!["prompt_tokens"]!.GetValue<int>(), json["usage"]!["completion_tokens"]!.GetValue<int>()));
        }

        // Elasticsearch's stream: the provider's pieces one event each, then the usage.
        using (var streamed = await client.PostAsync("/_inference/chat_completion/oa-chat/_stream", OpenAiConnectorFixture.Json(new { messages })))
        {
            var text = await streamed.Content.ReadAsStringAsync();
            Assert.True(streamed.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
            var events = OpenAiConnectorFixture.Events(text);
            Assert.All(events, e => Assert.Equal("message", e.Event));
            Assert.Equal("[DONE]", events[^1].Data);
            var chunks = events[..^1].Select(e => JsonNode.Parse(e.Data)!).ToList();
            var deltas = chunks.SelectMany(c => c["choices"]!.AsArray()).Select(c => c!["delta"]?["content"]?.GetValue<string>()).Where(d => !string.IsNullOrEmpty(d));
            Assert.Equal(FakeOpenAiServer.Pieces(answer), deltas);
            var usage = chunks.Last(c => c["usage"] is JsonObject)["usage"]!;
            Assert.Equal((prompt, completion), (usage["prompt_tokens"]!.GetValue<int>(), usage["completion_tokens"]!.GetValue<int>()));
        }

        // The OpenAI surface, plain and streamed with the usage chunk asked for.
        using (var v1 = await client.PostAsync("/v1/chat/completions", OpenAiConnectorFixture.Json(new { model = "oa-chat", messages })))
        {
            var text = await v1.Content.ReadAsStringAsync();
            Assert.True(v1.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
            Assert.Equal(answer, JsonNode.Parse(text)!["choices"]![0]!["message"]!["content"]!.GetValue<string>());
            Assert.Equal(completion.ToString(CultureInfo.InvariantCulture), v1.Headers.GetValues("x-webconsole-output-tokens").Single());
        }

        using (var v1Stream = await client.PostAsync("/v1/chat/completions", OpenAiConnectorFixture.Json(new
        {
            model = "oa-chat", messages, stream = true, stream_options = new { include_usage = true },
        })))
        {
            var text = await v1Stream.Content.ReadAsStringAsync();
            Assert.True(v1Stream.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
            var events = OpenAiConnectorFixture.Events(text);
            Assert.All(events, e => Assert.Null(e.Event));
            var chunks = events[..^1].Select(e => JsonNode.Parse(e.Data)!).ToList();
            Assert.Equal(answer, string.Concat(chunks.SelectMany(c => c["choices"]!.AsArray()).Select(c => c!["delta"]?["content"]?.GetValue<string>())));
            Assert.Equal(prompt, chunks[^1]["usage"]!["prompt_tokens"]!.GetValue<int>());
        }

        // The provider saw the stream asking for its usage chunk.
        Assert.Contains(Provider.Requests, r => r.Json?["stream_options"]?["include_usage"]?.GetValue<bool>() == true);
        Assert.Equal((4L, 4L * prompt, 4L * completion), await fixture.BilledAsync("oa-chat"));
    }

    [Fact]
    public async Task Completion_answers_plain_and_streamed()
    {
        await fixture.CreateAsync("completion", "oa-complete", fixture.OpenAi());
        using var client = fixture.Client();
        var answer = FakeOpenAiServer.AnswerTo("write a haiku");

        using var plain = await client.PostAsync("/_inference/completion/oa-complete", OpenAiConnectorFixture.Json(new { input = "write a haiku" }));
        var text = await plain.Content.ReadAsStringAsync();
        Assert.True(plain.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
        Assert.Equal(answer, JsonNode.Parse(text)!["completion"]![0]!["result"]!.GetValue<string>());

        using var streamed = await client.PostAsync("/_inference/completion/oa-complete/_stream", OpenAiConnectorFixture.Json(new { input = "write a haiku" }));
        var streamText = await streamed.Content.ReadAsStringAsync();
        Assert.True(streamed.StatusCode == HttpStatusCode.OK, fixture.Explain(streamText));
        var deltas = OpenAiConnectorFixture.Events(streamText)
            .Where(e => e.Data.StartsWith('{'))
            .SelectMany(e => JsonNode.Parse(e.Data)!["completion"]!.AsArray())
            .Select(c => c!["delta"]?.GetValue<string>());
        Assert.Equal(answer, string.Concat(deltas));
    }

    [Fact]
    public async Task A_429_then_success_is_retried_after_Retry_After_and_billed_once()
    {
        await fixture.CreateAsync("chat_completion", "oa-retry", fixture.OpenAi());
        var before = Provider.Requests.Count;
        Provider.Faults.Enqueue(FakeFault.Status(429, "Rate limit reached for requests", retryAfterSeconds: 1));
        using var client = fixture.Client();
        var started = Stopwatch.GetTimestamp();

        using var response = await client.PostAsync("/_inference/chat_completion/oa-retry",
            OpenAiConnectorFixture.Json(new { messages = new[] { new { role = "user", content = "hi" } } }));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
        Assert.True(Stopwatch.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(950), "retried before Retry-After");
        Assert.Equal(2, Provider.Requests.Count - before);
        Assert.Equal(1, (await fixture.BilledAsync("oa-retry")).Requests);
    }

    [Fact]
    public async Task A_provider_500_is_Elasticsearchs_server_error_with_its_message_and_bills_nothing()
    {
        await fixture.CreateAsync("chat_completion", "oa-500", fixture.OpenAi());
        using var client = fixture.Client();
        foreach (var _ in Enumerable.Range(0, 6))
        {
            Provider.Faults.Enqueue(FakeFault.Status(500, "The engine is currently overloaded"));
        }

        using var response = await client.PostAsync("/_inference/chat_completion/oa-500",
            OpenAiConnectorFixture.Json(new { messages = new[] { new { role = "user", content = "hi" } } }));
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(text)!;
        Assert.Equal("status_exception", error["error"]!["type"]!.GetValue<string>());
        Assert.Equal("Received a server error status code for request from inference entity id [oa-500] status [500]. Error message: [The engine is currently overloaded]",
            error["error"]!["reason"]!.GetValue<string>());

        // The OpenAI surface carries the same message in its own envelope.
        using var v1 = await client.PostAsync("/v1/chat/completions",
            OpenAiConnectorFixture.Json(new { model = "oa-500", messages = new[] { new { role = "user", content = "hi" } } }));
        var v1Text = await v1.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, v1.StatusCode);
        Assert.Contains("Received a server error status code", JsonNode.Parse(v1Text)!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);

        Provider.Faults.Clear();
        Assert.Equal((0L, 0L, 0L), await fixture.BilledAsync("oa-500"));
    }

    [Fact]
    public async Task A_provider_that_hangs_past_the_timeout_is_a_408_and_bills_nothing()
    {
        await fixture.CreateAsync("text_embedding", "oa-hang", fixture.OpenAi());
        Provider.Faults.Enqueue(FakeFault.Hang);
        using var client = fixture.Client();
        var started = Stopwatch.GetTimestamp();

        using var response = await client.PostAsync("/_inference/text_embedding/oa-hang", OpenAiConnectorFixture.Json(new { input = "x" }));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.RequestTimeout, fixture.Explain(text));
        Assert.Equal("Request timed out", JsonNode.Parse(text)!["error"]!["reason"]!.GetValue<string>());
        Assert.InRange(Stopwatch.GetElapsedTime(started), OpenAiConnectorFixture.AttemptTimeout - TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(15));
        Assert.Equal((0L, 0L, 0L), await fixture.BilledAsync("oa-hang"));
    }

    [Theory]
    [InlineData("/_inference/chat_completion/oa-cut/_stream")]
    [InlineData("/v1/chat/completions")]
    public async Task A_stream_the_provider_closes_midway_ends_with_the_mapped_error_and_is_billed_once(string path)
    {
        const string id = "oa-cut";
        await CreateOnceAsync(id);

        var before = await fixture.BilledAsync(id);
        Provider.Faults.Enqueue(FakeFault.AbortStream(2));
        using var client = fixture.Client();
        var messages = new[] { new { role = "user", content = "one two three four" } };
        using var response = await client.PostAsync(path, OpenAiConnectorFixture.Json(path.StartsWith("/v1", StringComparison.Ordinal)
            ? new { model = id, stream = true, messages }
            : (object)new { messages }));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
        var events = OpenAiConnectorFixture.Events(text);
        Assert.DoesNotContain(events, e => e.Data == "[DONE]");
        var pieces = FakeOpenAiServer.Pieces(FakeOpenAiServer.AnswerTo("one two three four"));
        var deltas = events.Select(e => JsonNode.Parse(e.Data)!).Where(c => c["choices"] is JsonArray)
            .SelectMany(c => c["choices"]!.AsArray()).Select(c => c!["delta"]?["content"]?.GetValue<string>()).Where(d => !string.IsNullOrEmpty(d));
        Assert.Equal(pieces.Take(2), deltas);
        var error = JsonNode.Parse(events[^1].Data)!;
        var message = path.StartsWith("/v1", StringComparison.Ordinal)
            ? error["error"]!["message"]!.GetValue<string>()
            : error["error"]!["reason"]!.GetValue<string>();
        Assert.Equal($"The provider closed the stream for request from inference entity id [{id}] before the answer ended", message);
        if (!path.StartsWith("/v1", StringComparison.Ordinal))
        {
            Assert.Equal("error", events[^1].Event);
            Assert.Equal(502, error["status"]!.GetValue<int>());
        }

        var after = await fixture.BilledAsync(id);
        Assert.Equal(before.Requests + 1, after.Requests);
        Assert.True(after.Output > before.Output, "the pieces the client got were not billed");
    }

    [Fact]
    public async Task The_outbound_throttle_holds_the_endpoints_rate_by_queueing()
    {
        await fixture.CreateAsync("chat_completion", "oa-throttled", fixture.OpenAi(rateLimit: new { requests_per_minute = 120 }));
        using var client = fixture.Client();
        var started = Stopwatch.GetTimestamp();
        var before = Provider.Requests.Count;

        var responses = await Task.WhenAll(Enumerable.Range(0, 5).Select(async i =>
        {
            using var response = await client.PostAsync("/_inference/chat_completion/oa-throttled",
                OpenAiConnectorFixture.Json(new { messages = new[] { new { role = "user", content = $"request {i}" } } }));
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }));

        var elapsed = Stopwatch.GetElapsedTime(started);
        Assert.All(responses, r => Assert.True(r.StatusCode == HttpStatusCode.OK, fixture.Explain(r.Item2)));
        // 120 a minute is one call every 500 ms: five calls span at least 2 s, none refused.
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(1950), $"five calls at 120/min took {elapsed}");
        var arrivals = Provider.Requests.Skip(before).Select(r => r.ReceivedAt).Order().ToList();
        Assert.Equal(5, arrivals.Count);
        // The throttle releases call k no earlier than k half-seconds after the first; a call delayed on its way may arrive
        // close to the next one, but no call arrives before its slot.
        for (var i = 1; i < arrivals.Count; i++)
        {
            var since = Stopwatch.GetElapsedTime(started, arrivals[i]);
            Assert.True(since >= TimeSpan.FromMilliseconds((i * 500) - 20), $"call {i + 1} arrived {since.TotalMilliseconds:0} ms after the start, before its slot");
        }
    }

    [Fact]
    public async Task Secrets_never_appear_in_answers_errors_or_the_servers_log()
    {
        await fixture.CreateAsync("text_embedding", "oa-secret", fixture.OpenAi());
        using var client = fixture.Client();
        var all = await client.GetStringAsync("/_inference/_all");
        var one = await client.GetStringAsync("/_inference/oa-secret");
        Assert.DoesNotContain(Provider.ApiKey, all, StringComparison.Ordinal);
        Assert.DoesNotContain(Provider.ApiKey, one, StringComparison.Ordinal);
        Assert.DoesNotContain("api_key", one, StringComparison.Ordinal);

        // A wrong key: the provider's 401 repeats it, WebConsole's 400 does not, and nothing is stored.
        const string wrongKey = "sk-wrong-4f7a9c2e1b3d5a6c";
        using var refused = await client.PutAsync("/_inference/text_embedding/oa-wrong-key", OpenAiConnectorFixture.Json(new
        {
            service = "openai",
            service_settings = new { api_key = wrongKey, model_id = "m", url = $"{Provider.BaseUrl}/v1" },
        }));
        var refusedText = await refused.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("Received an authentication error status code for request from inference entity id [oa-wrong-key] status [401]", refusedText, StringComparison.Ordinal);
        Assert.Contains("[REDACTED]", refusedText, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongKey, refusedText, StringComparison.Ordinal);
        using var missing = await client.GetAsync("/_inference/oa-wrong-key");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        // Calls that were retried and failed leave log lines; none carries a key.
        Provider.Faults.Enqueue(FakeFault.Status(503, "busy"));
        using var retried = await client.PostAsync("/_inference/text_embedding/oa-secret", OpenAiConnectorFixture.Json(new { input = "x" }));
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        await Task.Delay(200);
        Assert.Contains("Retrying the openai call of inference endpoint [oa-secret]", fixture.Server.Log, StringComparison.Ordinal);
        Assert.DoesNotContain(Provider.ApiKey, fixture.Server.Log, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongKey, fixture.Server.Log, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://169.254.169.254/v1", "169.254.169.254")]
    [InlineData("http://10.1.2.3:8080/v1", "10.1.2.3")]
    [InlineData("http://[::1]:9/v1", "::1")]
    public async Task The_guard_refuses_private_addresses_the_operator_did_not_allow(string url, string address)
    {
        using var client = fixture.Client();
        var id = $"oa-guard-{Math.Abs(url.GetHashCode(StringComparison.Ordinal)) % 10000}";
        var started = Stopwatch.GetTimestamp();
        using var response = await client.PutAsync($"/_inference/text_embedding/{id}", OpenAiConnectorFixture.Json(new
        {
            service = "openai",
            service_settings = new { api_key = "sk-any", model_id = "m", url },
        }));
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var reason = JsonNode.Parse(text)!["error"]!["reason"]!.GetValue<string>();
        Assert.Contains($"resolves to the non-public address [{address}]", reason, StringComparison.Ordinal);
        Assert.Contains("Connectors:AllowedOutboundAddresses", reason, StringComparison.Ordinal);
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(5), "the refusal waited for a connection");
        using var missing = await client.GetAsync($"/_inference/{id}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Services_are_listed_with_their_schemas()
    {
        using var client = fixture.Client();
        var services = JsonNode.Parse(await client.GetStringAsync("/_inference/_services"))!.AsArray()
            .ToDictionary(s => s!["service"]!.GetValue<string>());
        foreach (var name in new[] { "openai", "azureopenai", "mistral", "groq", "deepseek" })
        {
            Assert.True(services.ContainsKey(name), name);
            Assert.True(services[name]!["configurations"]!["api_key"]!["sensitive"]!.GetValue<bool>());
        }

        Assert.Equal(["completion", "chat_completion"], services["groq"]!["task_types"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.True(services["azureopenai"]!["configurations"]!["resource_name"]!["required"]!.GetValue<bool>());
    }

    private async Task CreateOnceAsync(string id)
    {
        using var client = fixture.Client();
        using var existing = await client.GetAsync($"/_inference/{id}");
        if (existing.StatusCode == HttpStatusCode.NotFound)
        {
            await fixture.CreateAsync("chat_completion", id, fixture.OpenAi());
        }
    }
}
