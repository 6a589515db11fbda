using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using WebConsole.Tests.Providers;

namespace WebConsole.E2E.Connectors;

/// <summary>
/// The <c>cohere</c>, <c>jinaai</c> and <c>googleaistudio</c> connectors end to end: the real server calls a fake of each
/// provider on loopback through both REST surfaces, with retries, timeouts, error mapping, billing and redaction. Faults
/// that cost wall time (Retry-After, hangs) run for the three services at once.
/// </summary>
[Collection(ThirdPartyConnectorCollection.Name)]
public sealed class ThirdPartyConnectorTests(ThirdPartyConnectorFixture fixture)
{
    [Fact]
    public async Task Cohere_embeds_reranks_and_completes_plain_and_streamed_with_its_usage()
    {
        fixture.Cohere.Dimensions = 8;
        var created = await fixture.CreateAsync("text_embedding", "co-embed", fixture.Body("cohere", "embed-english-v3.0", taskSettings: new { input_type = "ingest", truncate = "END" }));
        var settings = created["service_settings"]!.AsObject();
        Assert.Equal((8, "dot_product", 10_000), (settings["dimensions"]!.GetValue<int>(), settings["similarity"]!.GetValue<string>(), settings["rate_limit"]!["requests_per_minute"]!.GetValue<int>()));
        Assert.Null(settings["api_key"]);

        // Elasticsearch's surface: the request's input_type wins over the endpoint's.
        string[] inputs = ["hello world", "tides and the moon"];
        var (status, text) = await fixture.PostAsync("/_inference/text_embedding/co-embed", new { input = inputs, input_type = "search" });
        Assert.True(status == HttpStatusCode.OK, fixture.Explain(text));
        Assert.Equal(FakeOpenAiServer.EmbeddingOf(inputs[1], 8), JsonNode.Parse(text)!["text_embedding"]![1]!["embedding"]!.AsArray().Select(v => v!.GetValue<float>()));
        var sent = fixture.Cohere.Requests[^1].Json!;
        Assert.Equal(("search_query", "END"), (sent["input_type"]!.GetValue<string>(), sent["truncate"]!.GetValue<string>()));

        // The OpenAI surface: the endpoint's input_type (ingest) applies.
        var (v1Status, v1Text) = await fixture.PostAsync("/v1/embeddings", new { model = "co-embed", input = "hello world" });
        Assert.True(v1Status == HttpStatusCode.OK, fixture.Explain(v1Text));
        Assert.Equal(FakeOpenAiServer.EmbeddingTokens(["hello world"]), JsonNode.Parse(v1Text)!["usage"]!["prompt_tokens"]!.GetValue<int>());
        Assert.Equal("search_document", fixture.Cohere.Requests[^1].Json!["input_type"]!.GetValue<string>());
        Assert.Equal((2L, (long)FakeOpenAiServer.EmbeddingTokens(inputs) + FakeOpenAiServer.EmbeddingTokens(["hello world"]), 0L), await fixture.BilledAsync("co-embed"));

        await fixture.CreateAsync("rerank", "co-rerank", fixture.Body("cohere", "rerank-v3.5"));
        string[] documents = ["the sea is blue", "tides and the moon", "bread recipes"];
        var (rerankStatus, rerankText) = await fixture.PostAsync("/_inference/rerank/co-rerank", new { query = "moon tides", input = documents, top_n = 2 });
        Assert.True(rerankStatus == HttpStatusCode.OK, fixture.Explain(rerankText));
        var ranked = JsonNode.Parse(rerankText)!["rerank"]!.AsArray();
        Assert.Equal([1, 2], ranked.Select(r => r!["index"]!.GetValue<int>()));
        Assert.Equal("tides and the moon", ranked[0]!["text"]!.GetValue<string>());
        Assert.Equal(2, fixture.Cohere.Requests[^1].Json!["top_n"]!.GetValue<int>());
        Assert.Equal(1L, (await fixture.BilledAsync("co-rerank")).Requests);

        await fixture.CreateAsync("completion", "co-complete", fixture.Body("cohere", "command-r"));
        var answer = FakeOpenAiServer.AnswerTo("write a haiku");
        var (plainStatus, plainText) = await fixture.PostAsync("/_inference/completion/co-complete", new { input = "write a haiku" });
        Assert.True(plainStatus == HttpStatusCode.OK, fixture.Explain(plainText));
        Assert.Equal(answer, JsonNode.Parse(plainText)!["completion"]![0]!["result"]!.GetValue<string>());

        var (streamStatus, streamText) = await fixture.PostAsync("/_inference/completion/co-complete/_stream", new { input = "write a haiku" });
        Assert.True(streamStatus == HttpStatusCode.OK, fixture.Explain(streamText));
        Assert.Equal(FakeOpenAiServer.Pieces(answer), Deltas(streamText));
        Assert.True(fixture.Cohere.Requests[^1].Json!["stream"]!.GetValue<bool>());
        var usage = (FakeOpenAiServer.PromptTokens(["write a haiku"]), FakeOpenAiServer.CompletionTokens(answer));
        Assert.Equal((2L, 2L * usage.Item1, 2L * usage.Item2), await fixture.BilledAsync("co-complete"));

        // Elasticsearch gives cohere no chat_completion, so the chat surface refuses a completion endpoint.
        var (chatStatus, chatText) = await fixture.PostAsync("/v1/chat/completions", new { model = "co-complete", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.BadRequest, chatStatus);
        Assert.Equal("Requested task type [chat_completion] does not match the inference endpoint's task type [completion]",
            JsonNode.Parse(chatText)!["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Jina_embeds_and_reranks_on_both_surfaces_with_its_usage()
    {
        fixture.Jina.Dimensions = 6;
        var created = await fixture.CreateAsync("text_embedding", "jina-embed", fixture.Body("jinaai", "jina-embeddings-v3", taskSettings: new { input_type = "search", late_chunking = true }));
        Assert.Equal((6, 2000), (created["service_settings"]!["dimensions"]!.GetValue<int>(), created["service_settings"]!["rate_limit"]!["requests_per_minute"]!.GetValue<int>()));

        var (status, text) = await fixture.PostAsync("/_inference/text_embedding/jina-embed", new { input = new[] { "a b", "c" } });
        Assert.True(status == HttpStatusCode.OK, fixture.Explain(text));
        Assert.Equal(FakeOpenAiServer.EmbeddingOf("a b", 6), JsonNode.Parse(text)!["text_embedding"]![0]!["embedding"]!.AsArray().Select(v => v!.GetValue<float>()));
        var sent = fixture.Jina.Requests[^1].Json!;
        Assert.Equal(("retrieval.query", true), (sent["task"]!.GetValue<string>(), sent["late_chunking"]!.GetValue<bool>()));

        var (v1Status, v1Text) = await fixture.PostAsync("/v1/embeddings", new { model = "jina-embed", input = new[] { "one two" } });
        Assert.True(v1Status == HttpStatusCode.OK, fixture.Explain(v1Text));
        Assert.Equal(FakeOpenAiServer.EmbeddingOf("one two", 6), JsonNode.Parse(v1Text)!["data"]![0]!["embedding"]!.AsArray().Select(v => v!.GetValue<float>()));
        Assert.Equal((2L, (long)FakeOpenAiServer.EmbeddingTokens(["a b", "c"]) + FakeOpenAiServer.EmbeddingTokens(["one two"]), 0L), await fixture.BilledAsync("jina-embed"));

        await fixture.CreateAsync("rerank", "jina-rerank", fixture.Body("jinaai", "jina-reranker-v2-base-multilingual"));
        string[] documents = ["a cat", "the cat sat", "dogs"];
        var (rerankStatus, rerankText) = await fixture.PostAsync("/_inference/rerank/jina-rerank", new { query = "cat sat", input = documents, return_documents = false });
        Assert.True(rerankStatus == HttpStatusCode.OK, fixture.Explain(rerankText));
        var ranked = JsonNode.Parse(rerankText)!["rerank"]!.AsArray();
        Assert.Equal([1, 0, 2], ranked.Select(r => r!["index"]!.GetValue<int>()));
        Assert.Null(ranked[0]!["text"]);
        Assert.False(fixture.Jina.Requests[^1].Json!["return_documents"]!.GetValue<bool>());
        Assert.Equal((1L, (long)FakeJinaAiServer.RerankTokens("cat sat", documents), 0L), await fixture.BilledAsync("jina-rerank"));
    }

    [Fact]
    public async Task Google_AI_Studio_embeds_and_completes_plain_and_streamed_over_sse()
    {
        fixture.Google.Dimensions = 5;
        var created = await fixture.CreateAsync("text_embedding", "g-embed", fixture.Body("googleaistudio", "text-embedding-004"));
        Assert.Equal((5, 360), (created["service_settings"]!["dimensions"]!.GetValue<int>(), created["service_settings"]!["rate_limit"]!["requests_per_minute"]!.GetValue<int>()));
        var probe = fixture.Google.Requests[^1];
        Assert.Equal(("/v1/models/text-embedding-004:batchEmbedContents", $"?key={fixture.Google.ApiKey}"), (probe.Path, probe.Query));

        var (status, text) = await fixture.PostAsync("/_inference/text_embedding/g-embed", new { input = "sky" });
        Assert.True(status == HttpStatusCode.OK, fixture.Explain(text));
        Assert.Equal(FakeOpenAiServer.EmbeddingOf("sky", 5), JsonNode.Parse(text)!["text_embedding"]![0]!["embedding"]!.AsArray().Select(v => v!.GetValue<float>()));
        var (v1Status, v1Text) = await fixture.PostAsync("/v1/embeddings", new { model = "g-embed", input = "abcdefgh" });
        Assert.True(v1Status == HttpStatusCode.OK, fixture.Explain(v1Text));
        // Gemini reports no embedding usage: about four characters a token.
        Assert.Equal(2, JsonNode.Parse(v1Text)!["usage"]!["prompt_tokens"]!.GetValue<int>());
        Assert.Equal((2L, 1L + 2L, 0L), await fixture.BilledAsync("g-embed"));

        await fixture.CreateAsync("completion", "g-complete", fixture.Body("googleaistudio", "gemini-1.5-flash"));
        var answer = FakeOpenAiServer.AnswerTo("why is the sky blue");
        var (plainStatus, plainText) = await fixture.PostAsync("/_inference/completion/g-complete", new { input = "why is the sky blue" });
        Assert.True(plainStatus == HttpStatusCode.OK, fixture.Explain(plainText));
        Assert.Equal(answer, JsonNode.Parse(plainText)!["completion"]![0]!["result"]!.GetValue<string>());

        var (streamStatus, streamText) = await fixture.PostAsync("/_inference/completion/g-complete/_stream", new { input = "why is the sky blue" });
        Assert.True(streamStatus == HttpStatusCode.OK, fixture.Explain(streamText));
        Assert.Equal(FakeOpenAiServer.Pieces(answer), Deltas(streamText));
        var streamed = fixture.Google.Requests[^1];
        Assert.Equal(("/v1/models/gemini-1.5-flash:streamGenerateContent", $"?alt=sse&key={fixture.Google.ApiKey}"), (streamed.Path, streamed.Query));
        var usage = (FakeOpenAiServer.PromptTokens(["why is the sky blue"]), FakeOpenAiServer.CompletionTokens(answer));
        Assert.Equal((2L, 2L * usage.Item1, 2L * usage.Item2), await fixture.BilledAsync("g-complete"));
    }

    [Fact]
    public async Task A_429_then_success_is_retried_after_Retry_After_and_billed_once_for_every_service()
    {
        await EnsureEndpointsAsync();
        var started = Stopwatch.GetTimestamp();
        var results = await Task.WhenAll(Calls().Select(async call =>
        {
            var provider = fixture.Provider(call.Service);
            var before = provider.Requests.Count;
            var billed = await fixture.BilledAsync(call.Id);
            provider.Faults.Enqueue(FakeFault.Status(429, "Too many requests, slow down", retryAfterSeconds: 1));
            var (status, text) = await fixture.PostAsync(call.Path, call.Body);
            return (call, status, text, Attempts: provider.Requests.Count - before, Billed: (await fixture.BilledAsync(call.Id)).Requests - billed.Requests);
        }));

        Assert.All(results, r => Assert.True(r.status == HttpStatusCode.OK, fixture.Explain($"{r.call.Id}: {r.text}")));
        Assert.All(results, r => Assert.Equal((r.call.Id, 2, 1L), (r.call.Id, r.Attempts, r.Billed)));
        Assert.True(Stopwatch.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(950), "retried before Retry-After");
    }

    [Fact]
    public async Task A_provider_500_is_Elasticsearchs_server_error_with_its_message_and_bills_nothing()
    {
        await EnsureEndpointsAsync();
        var results = await Task.WhenAll(Calls().Select(async call =>
        {
            var provider = fixture.Provider(call.Service);
            var billed = await fixture.BilledAsync(call.Id);
            foreach (var _ in Enumerable.Range(0, 3))
            {
                provider.Faults.Enqueue(FakeFault.Status(500, $"{call.Service} is having a bad day"));
            }

            var (status, text) = await fixture.PostAsync(call.Path, call.Body);
            provider.ClearFaults();
            return (call, status, text, Billed: (await fixture.BilledAsync(call.Id)).Requests - billed.Requests);
        }));

        foreach (var (call, status, text, billed) in results)
        {
            Assert.True(status == HttpStatusCode.BadRequest, fixture.Explain($"{call.Id}: {text}"));
            Assert.Equal($"Received a server error status code for request from inference entity id [{call.Id}] status [500]. Error message: [{call.Service} is having a bad day]",
                JsonNode.Parse(text)!["error"]!["reason"]!.GetValue<string>());
            Assert.Equal(0L, billed);
        }
    }

    [Fact]
    public async Task A_provider_that_hangs_past_the_timeout_is_a_408_and_bills_nothing()
    {
        await EnsureEndpointsAsync();
        var results = await Task.WhenAll(Calls().Select(async call =>
        {
            var billed = await fixture.BilledAsync(call.Id);
            fixture.Provider(call.Service).Faults.Enqueue(FakeFault.Hang);
            var started = Stopwatch.GetTimestamp();
            var (status, text) = await fixture.PostAsync(call.Path, call.Body);
            return (call, status, text, Elapsed: Stopwatch.GetElapsedTime(started), Billed: (await fixture.BilledAsync(call.Id)).Requests - billed.Requests);
        }));

        foreach (var (call, status, text, elapsed, billed) in results)
        {
            Assert.True(status == HttpStatusCode.RequestTimeout, fixture.Explain($"{call.Id}: {text}"));
            Assert.Equal("Request timed out", JsonNode.Parse(text)!["error"]!["reason"]!.GetValue<string>());
            Assert.InRange(elapsed, ThirdPartyConnectorFixture.AttemptTimeout - TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(20));
            Assert.Equal(0L, billed);
        }
    }

    [Theory]
    [InlineData("cohere", "co-cut", "command-r")]
    [InlineData("googleaistudio", "g-cut", "gemini-1.5-flash")]
    public async Task A_stream_the_provider_closes_midway_ends_with_the_mapped_error_and_is_billed_once(string service, string id, string model)
    {
        await fixture.EnsureAsync("completion", id, fixture.Body(service, model));
        var before = await fixture.BilledAsync(id);
        fixture.Provider(service).Faults.Enqueue(FakeFault.AbortStream(2));

        var (status, text) = await fixture.PostAsync($"/_inference/completion/{id}/_stream", new { input = "one two three four" });

        Assert.True(status == HttpStatusCode.OK, fixture.Explain(text));
        Assert.Equal(FakeOpenAiServer.Pieces(FakeOpenAiServer.AnswerTo("one two three four")).Take(2), Deltas(text));
        var last = OpenAiConnectorFixture.Events(text)[^1];
        Assert.Equal("error", last.Event);
        var error = JsonNode.Parse(last.Data)!;
        Assert.Equal($"The provider closed the stream for request from inference entity id [{id}] before the answer ended", error["error"]!["reason"]!.GetValue<string>());
        Assert.Equal(502, error["status"]!.GetValue<int>());
        var after = await fixture.BilledAsync(id);
        Assert.Equal(before.Requests + 1, after.Requests);
        Assert.True(after.Output > before.Output, "the pieces the client got were not billed");
    }

    [Fact]
    public async Task Secrets_never_appear_in_answers_errors_or_the_servers_log()
    {
        await EnsureEndpointsAsync();
        using var client = fixture.Client();
        var all = await client.GetStringAsync("/_inference/_all");
        foreach (var key in new[] { fixture.Cohere.ApiKey, fixture.Jina.ApiKey, fixture.Google.ApiKey })
        {
            Assert.DoesNotContain(key, all, StringComparison.Ordinal);
        }

        // Wrong keys: each provider's error repeats the key; WebConsole's 400 keeps the message, not the key, and stores nothing.
        var wrong = new Dictionary<string, string>
        {
            ["cohere"] = "co-wrong-7d6c5b4a3f2e1d0c",
            ["jinaai"] = "jina_wrong_6e5d4c3b2a1f0e9d",
            ["googleaistudio"] = "AIzaWrong-5f4e3d2c1b0a9f8e",
        };
        foreach (var (service, key) in wrong)
        {
            var id = $"{service}-wrong-key";
            using var refused = await client.PutAsync($"/_inference/text_embedding/{id}", OpenAiConnectorFixture.Json(fixture.Body(service, "m", key)));
            var refusedText = await refused.Content.ReadAsStringAsync();
            Assert.True(refused.StatusCode == HttpStatusCode.BadRequest, fixture.Explain(refusedText));
            Assert.Contains($"Could not complete inference endpoint creation as validation call to service threw an exception. Received a", refusedText, StringComparison.Ordinal);
            Assert.Contains("[REDACTED]", refusedText, StringComparison.Ordinal);
            Assert.DoesNotContain(key, refusedText, StringComparison.Ordinal);
            using var missing = await client.GetAsync($"/_inference/{id}");
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        // A retried call logs its destination: Google's key rides in the query, which the log leaves out.
        fixture.Google.Faults.Enqueue(FakeFault.Status(503, "busy"));
        var (status, text) = await fixture.PostAsync("/_inference/completion/g-fault", new { input = "x" });
        Assert.True(status == HttpStatusCode.OK, fixture.Explain(text));
        await Task.Delay(200);
        var log = fixture.Server.Log;
        Assert.Contains("Retrying the googleaistudio call of inference endpoint [g-fault] to " + fixture.Google.BaseUrl + "/v1/models/gemini-1.5-flash:generateContent after [503]", log, StringComparison.Ordinal);
        foreach (var key in wrong.Values.Concat([fixture.Cohere.ApiKey, fixture.Jina.ApiKey, fixture.Google.ApiKey]))
        {
            Assert.DoesNotContain(key, log, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Services_are_listed_with_their_schemas()
    {
        using var client = fixture.Client();
        var services = JsonNode.Parse(await client.GetStringAsync("/_inference/_services"))!.AsArray().ToDictionary(s => s!["service"]!.GetValue<string>());
        Assert.Equal(["text_embedding", "rerank", "completion"], services["cohere"]!["task_types"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal(["text_embedding", "rerank"], services["jinaai"]!["task_types"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal(["text_embedding", "completion"], services["googleaistudio"]!["task_types"]!.AsArray().Select(t => t!.GetValue<string>()));
        foreach (var name in new[] { "cohere", "jinaai", "googleaistudio" })
        {
            var configurations = services[name]!["configurations"]!;
            Assert.True(configurations["api_key"]!["sensitive"]!.GetValue<bool>(), name);
            Assert.True(configurations["model_id"]!["required"]!.GetValue<bool>(), name);
            Assert.True(configurations["rate_limit"]!["updatable"]!.GetValue<bool>(), name);
        }

        Assert.Equal("float", services["cohere"]!["configurations"]!["embedding_type"]!["default_value"]!.GetValue<string>());
        Assert.Null(services["googleaistudio"]!["configurations"]!["embedding_type"]);
    }

    private static IEnumerable<(string Service, string Id, string Path, object Body)> Calls() =>
    [
        ("cohere", "co-fault", "/_inference/rerank/co-fault", new { query = "q", input = new[] { "a", "b" } }),
        ("jinaai", "jina-fault", "/_inference/text_embedding/jina-fault", new { input = "x" }),
        ("googleaistudio", "g-fault", "/_inference/completion/g-fault", new { input = "hi there" }),
    ];

    private async Task EnsureEndpointsAsync()
    {
        await fixture.EnsureAsync("rerank", "co-fault", fixture.Body("cohere", "rerank-v3.5"));
        await fixture.EnsureAsync("text_embedding", "jina-fault", fixture.Body("jinaai", "jina-embeddings-v3"));
        await fixture.EnsureAsync("completion", "g-fault", fixture.Body("googleaistudio", "gemini-1.5-flash"));
    }

    // The deltas of an Elasticsearch completion stream.
    private static List<string> Deltas(string text) =>
    [
        .. OpenAiConnectorFixture.Events(text)
            .Where(e => e.Event != "error" && e.Data.StartsWith('{'))
            .SelectMany(e => JsonNode.Parse(e.Data)!["completion"]!.AsArray())
            .Select(c => c!["delta"]!.GetValue<string>())
            .Where(d => d.Length > 0),
    ];
}
