using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace WebConsole.E2E.Inference;

[Collection(InferenceApiCollection.Name)]
public sealed partial class InferenceApiTests(InferenceApiServer fixture)
{
    private static readonly string[] Texts = ["The quick brown fox jumps over the lazy dog.", "Elasticsearch is a search engine.", "Bonjour le monde"];

    [Fact]
    public async Task Text_embedding_answers_one_vector_per_input_in_order_with_usage_headers()
    {
        var (response, json) = await PostOkAsync($"/_inference/text_embedding/{InferenceApiServer.Embedding}", new { input = Texts });
        var vectors = json.GetProperty("text_embedding").EnumerateArray().Select(e => e.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToList();
        Assert.Equal(3, vectors.Count);
        Assert.All(vectors, v => Assert.Equal(fixture.EmbeddingDimensions, v.Length));

        // Order: the single-input answer for the second text equals the second vector of the batch.
        var (_, single) = await PostOkAsync($"/_inference/{InferenceApiServer.Embedding}", new { input = Texts[1], input_type = "INGEST" });
        var second = single.GetProperty("text_embedding")[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(vectors[1].Length, second.Length);
        Assert.All(vectors[1].Zip(second), pair => Assert.Equal(pair.First, pair.Second, 4));
        Assert.NotEqual(vectors[0], vectors[1]);

        Assert.True(int.Parse(Header(response, "x-webconsole-input-tokens"), CultureInfo.InvariantCulture) >= 3 * 3);
        Assert.Equal("0", Header(response, "x-webconsole-output-tokens"));
        Assert.Equal("0", Header(response, "x-webconsole-cost"));
        Assert.Equal("Elasticsearch", Header(response, "X-Elastic-Product"));
    }

    [Fact]
    public async Task Sparse_embedding_answers_token_weights_and_is_truncated()
    {
        var (_, json) = await PostOkAsync($"/_inference/sparse_embedding/{InferenceApiServer.Sparse}", new { input = Texts[..2] });
        var items = json.GetProperty("sparse_embedding").EnumerateArray().ToList();
        Assert.Equal(2, items.Count);
        foreach (var item in items)
        {
            Assert.False(item.GetProperty("is_truncated").GetBoolean());
            var weights = item.GetProperty("embedding").EnumerateObject().ToList();
            Assert.NotEmpty(weights);
            Assert.All(weights, w => Assert.True(w.Value.GetSingle() > 0, w.Name));
        }
    }

    [Fact]
    public async Task Rerank_is_sorted_by_score_cut_to_top_n_and_carries_text_unless_return_documents_is_false()
    {
        var (_, all) = await PostOkAsync($"/_inference/rerank/{InferenceApiServer.Rerank}", new { query = "fox", input = Texts });
        var ranked = all.GetProperty("rerank").EnumerateArray().ToList();
        Assert.Equal(3, ranked.Count);
        var scores = ranked.Select(r => r.GetProperty("relevance_score").GetSingle()).ToList();
        Assert.Equal(scores.OrderByDescending(s => s), scores);
        Assert.Equal([0, 1, 2], ranked.Select(r => r.GetProperty("index").GetInt32()).Order());
        Assert.All(ranked, r => Assert.Equal(Texts[r.GetProperty("index").GetInt32()], r.GetProperty("text").GetString()));

        var (_, top) = await PostOkAsync($"/_inference/{InferenceApiServer.Rerank}", new { query = "fox", input = Texts, top_n = 2, return_documents = false });
        var cut = top.GetProperty("rerank").EnumerateArray().ToList();
        Assert.Equal(2, cut.Count);
        Assert.Equal(ranked[0].GetProperty("index").GetInt32(), cut[0].GetProperty("index").GetInt32());
        Assert.All(cut, r => Assert.False(r.TryGetProperty("text", out _)));
    }

    [Fact]
    public async Task Completion_answers_one_result_and_counts_output_tokens()
    {
        var (response, json) = await PostOkAsync($"/_inference/completion/{InferenceApiServer.Completion}", new { input = "Once upon a time" });
        var results = json.GetProperty("completion").EnumerateArray().ToList();
        Assert.Single(results);
        Assert.Equal(JsonValueKind.String, results[0].GetProperty("result").ValueKind);
        Assert.True(int.Parse(Header(response, "x-webconsole-output-tokens"), CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public async Task Chat_completion_answers_an_openai_chat_completion_object()
    {
        var (response, json) = await PostOkAsync($"/_inference/chat_completion/{InferenceApiServer.Chat}", new
        {
            messages = new object[]
            {
                new { role = "system", content = "Be brief." },
                new { role = "user", content = new[] { new { type = "text", text = "Hello" } } },
            },
            max_completion_tokens = 5,
            temperature = 0,
        });
        Assert.Equal("chat.completion", json.GetProperty("object").GetString());
        Assert.StartsWith("chatcmpl-", json.GetProperty("id").GetString(), StringComparison.Ordinal);
        var choice = json.GetProperty("choices")[0];
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Contains(choice.GetProperty("finish_reason").GetString(), new[] { "stop", "length" });
        var usage = json.GetProperty("usage");
        var prompt = usage.GetProperty("prompt_tokens").GetInt32();
        var completion = usage.GetProperty("completion_tokens").GetInt32();
        Assert.InRange(completion, 1, 5);
        Assert.Equal(prompt + completion, usage.GetProperty("total_tokens").GetInt32());
        Assert.Equal(prompt.ToString(CultureInfo.InvariantCulture), Header(response, "x-webconsole-input-tokens"));
        Assert.Equal(completion.ToString(CultureInfo.InvariantCulture), Header(response, "x-webconsole-output-tokens"));
    }

    [Theory]
    [InlineData("""{"input": []}""", 400, "Field [input] cannot be an empty array")]
    [InlineData("""{}""", 400, "Field [input] cannot be null")]
    [InlineData("""{"input": [1, 2]}""", 400, "Field [input] must be a string or an array of strings")]
    [InlineData("""{"input": "a", "input_type": "QUERY"}""", 400, "Unrecognized input_type [QUERY]")]
    [InlineData("""{"input": "a", "task_settings": {"input_type": "bogus"}}""", 400, "Unrecognized input_type [bogus]")]
    [InlineData("""{"input": "a", "bogus": 1}""", 400, "[request] unknown field [bogus]")]
    [InlineData("""{"input": "a", "query": "q"}""", 400, "Field [query] cannot be specified for task type [text_embedding]")]
    [InlineData("""{"input": ["1","2","3","4","5","6","7","8","9"]}""", 400, "Too many inputs [9], the maximum is [8]")]
    [InlineData("""{"input": "a""", 400, "Failed to parse request body")]
    public async Task Invalid_inference_input_is_rejected_in_the_elasticsearch_envelope(string body, int status, string reason)
    {
        await AssertErrorAsync($"/_inference/text_embedding/{InferenceApiServer.Embedding}", body, status, reason);
    }

    [Fact]
    public async Task Inputs_over_the_byte_limit_are_413()
    {
        var big = new string('x', InferenceApiServer.MaxInputBytes / 2 + 1);
        await AssertErrorAsync($"/_inference/{InferenceApiServer.Embedding}", JsonSerializer.Serialize(new { input = new[] { big, big } }), 413, "Input is too large");
    }

    [Fact]
    public async Task Rerank_needs_a_query_and_completion_a_single_input()
    {
        await AssertErrorAsync($"/_inference/rerank/{InferenceApiServer.Rerank}", """{"input": ["a"]}""", 400, "Field [query] cannot be null for task type [rerank]");
        await AssertErrorAsync($"/_inference/completion/{InferenceApiServer.Completion}", """{"input": ["a", "b"]}""", 400, "must be a single string");
    }

    [Fact]
    public async Task Path_errors_answer_the_contract_messages()
    {
        await AssertErrorAsync($"/_inference/bad/{InferenceApiServer.Embedding}", """{"input": "a"}""", 400, "Unknown task_type [bad]");
        await AssertErrorAsync($"/_inference/rerank/{InferenceApiServer.Embedding}", """{"input": "a"}""", 400,
            "Requested task type [rerank] does not match the inference endpoint's task type [text_embedding]");
        await AssertErrorAsync("/_inference/no-such-endpoint", """{"input": "a"}""", 404, "Inference endpoint not found [no-such-endpoint]", "resource_not_found_exception");
        await AssertErrorAsync($"/_inference/{InferenceApiServer.Embedding}", """{"input": "a", "bogus": 1}""", 400, "[request] unknown field [bogus]", "x_content_parse_exception");
    }

    [Fact]
    public async Task The_elasticsearch_vendor_media_type_is_accepted_and_answers_carry_the_product_header()
    {
        using var client = fixture.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/_inference/{InferenceApiServer.Embedding}")
        {
            Content = new StringContent("""{"input": "hello"}""", Encoding.UTF8),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/vnd.elasticsearch+json; compatible-with=9");
        request.Headers.Accept.ParseAdd("application/vnd.elasticsearch+json; compatible-with=9");
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
        Assert.Equal("Elasticsearch", Header(response, "X-Elastic-Product"));

        // Unauthenticated answers and unknown Elasticsearch paths carry it too.
        using var anonymous = fixture.Server.CreateClient();
        using (var refused = await anonymous.PostAsync($"/_inference/{InferenceApiServer.Embedding}", InferenceApiServer.Json(new { input = "a" })))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("Elasticsearch", Header(refused, "X-Elastic-Product"));
        }

        using var unknown = await client.GetAsync("/_ml/no-such-route/here");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("Elasticsearch", Header(unknown, "X-Elastic-Product"));
    }

    [Fact]
    public async Task A_timed_out_request_is_408_and_its_work_is_cancelled()
    {
        using var client = fixture.Client();
        var started = Stopwatch.StartNew();
        using var response = await client.PostAsync($"/_inference/chat_completion/{InferenceApiServer.SingleChat}?timeout=300ms", InferenceApiServer.Json(new
        {
            messages = new[] { new { role = "user", content = "Tell me a long story." } },
            max_completion_tokens = 1900,
        }));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.RequestTimeout, fixture.Explain(text));
        AssertEnvelope(text, 408, "status_exception", "Request timed out");
        Assert.Equal("Elasticsearch", Header(response, "X-Elastic-Product"));

        // The single allocation is free again: a short request is served at once, not after the long one would have ended.
        var fullGeneration = await TimeFullGenerationAsync(client);
        var next = Stopwatch.StartNew();
        await PostOkAsync($"/_inference/{InferenceApiServer.SingleChat}", new { messages = new[] { new { role = "user", content = "Hi" } }, max_completion_tokens = 2 });
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(60), $"took {started.Elapsed}");
        Assert.True(next.Elapsed < fullGeneration, $"next {next.Elapsed}, full generation {fullGeneration}");
    }

    [Fact]
    public async Task Completion_streams_are_framed_as_server_sent_events_byte_for_byte()
    {
        using var client = fixture.Client();
        using var response = await client.PostAsync($"/_inference/completion/{InferenceApiServer.Completion}/_stream", InferenceApiServer.Json(new { input = "Once upon a time" }));
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var text = Encoding.UTF8.GetString(bytes);
        Assert.True(response.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Elasticsearch", Header(response, "X-Elastic-Product"));
        Assert.NotEqual(0xEF, bytes[0]);

        var events = ParseEvents(text, named: true);
        Assert.Equal(("message", "[DONE]"), events[^1]);
        Assert.All(events, e => Assert.Equal("message", e.Event));
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e.Data).RootElement).ToList();
        var deltas = chunks[..^1].Select(c => c.GetProperty("completion")[0].GetProperty("delta").GetString()).ToList();
        Assert.NotEmpty(string.Concat(deltas));
        var usage = chunks[^1].GetProperty("usage");
        Assert.True(usage.GetProperty("prompt_tokens").GetInt32() > 0);
        Assert.True(usage.GetProperty("completion_tokens").GetInt32() > 0);
    }

    [Fact]
    public async Task Chat_streams_carry_openai_chunks_a_usage_chunk_and_done()
    {
        using var client = fixture.Client();
        using var response = await client.PostAsync($"/_inference/chat_completion/{InferenceApiServer.Chat}/_stream", InferenceApiServer.Json(new
        {
            messages = new[] { new { role = "user", content = "Hello" } },
            max_completion_tokens = 6,
        }));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, fixture.Explain(text));
        var events = ParseEvents(text, named: true);
        Assert.Equal(("message", "[DONE]"), events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e.Data).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        Assert.Contains(chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString(), new[] { "stop", "length" });
        Assert.All(chunks[1..^2], c => Assert.Equal(JsonValueKind.Null, c.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind));
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());
        var usage = chunks[^1].GetProperty("usage");
        var generated = usage.GetProperty("completion_tokens").GetInt32();
        Assert.InRange(generated, 1, 6);
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + generated, usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task Stream_errors_before_the_first_byte_are_plain_http_errors()
    {
        using var client = fixture.Client();
        using var missing = await client.PostAsync("/_inference/completion/no-such-endpoint/_stream", InferenceApiServer.Json(new { input = "a" }));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/json", missing.Content.Headers.ContentType?.MediaType);
        AssertEnvelope(await missing.Content.ReadAsStringAsync(), 404, "resource_not_found_exception", "Inference endpoint not found [no-such-endpoint]");

        using var mismatch = await client.PostAsync($"/_inference/completion/{InferenceApiServer.Embedding}/_stream", InferenceApiServer.Json(new { input = "a" }));
        AssertEnvelope(await mismatch.Content.ReadAsStringAsync(), 400, "status_exception",
            "Requested task type [completion] does not match the inference endpoint's task type [text_embedding]");
    }

    [Fact]
    public async Task A_client_disconnect_mid_stream_stops_generation_and_frees_the_allocation()
    {
        using var client = fixture.Client();

        // A decoder without a KV cache on one allocation: 1900 tokens would take it minutes, so a request behind an
        // uncancelled generation would wait far longer than the bound below, however busy the machine is.
        const string Slow = "disconnect-slow-chat";
        using (var created = await client.PutAsJsonAsync($"/_inference/chat_completion/{Slow}", new
        {
            service = "elasticsearch",
            service_settings = new { model_id = InferenceApiServer.SlowChatModel, num_allocations = 1, num_threads = 1 },
        }))
        {
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        }

        var request = new HttpRequestMessage(HttpMethod.Post, $"/_inference/chat_completion/{Slow}/_stream")
        {
            Content = InferenceApiServer.Json(new { messages = new[] { new { role = "user", content = "Tell me a long story." } }, max_completion_tokens = 1900 }),
        };
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[64];
        Assert.True(await stream.ReadAsync(buffer) > 0);

        // Leave mid-stream: the server must cancel the generation, which holds the deployment's only allocation.
        var left = Stopwatch.StartNew();
        response.Dispose();
        request.Dispose();
        await PostOkAsync($"/_inference/{Slow}", new { messages = new[] { new { role = "user", content = "Hi" } }, max_completion_tokens = 2 });
        Assert.True(left.Elapsed < TimeSpan.FromSeconds(20), $"the next request waited {left.Elapsed}: the cut generation went on");
    }

    // How long the single-allocation endpoint takes to generate as much as the cancelled requests asked for: the bound
    // a request behind an uncancelled generation would wait.
    private async Task<TimeSpan> TimeFullGenerationAsync(HttpClient client)
    {
        var watch = Stopwatch.StartNew();
        using var response = await client.PostAsync($"/_inference/{InferenceApiServer.SingleChat}", InferenceApiServer.Json(new
        {
            messages = new[] { new { role = "user", content = "Tell me a long story." } },
            max_completion_tokens = 1900,
        }));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, fixture.Explain(text));
        return watch.Elapsed;
    }

    internal static List<(string? Event, string Data)> ParseEvents(string text, bool named)
    {
        // Every event is exactly "event: NAME\ndata: JSON\n\n" (Elasticsearch) or "data: JSON\n\n" (OpenAI); nothing else.
        var pattern = named ? NamedEvent() : BareEvent();
        var events = new List<(string?, string)>();
        var position = 0;
        foreach (Match match in pattern.Matches(text))
        {
            Assert.Equal(position, match.Index);
            position = match.Index + match.Length;
            events.Add((named ? match.Groups["event"].Value : null, match.Groups["data"].Value));
        }

        Assert.True(position == text.Length, $"unframed bytes after {position}: {text[position..]}");
        Assert.NotEmpty(events);
        return events;
    }

    private async Task<(HttpResponseMessage Response, JsonElement Json)> PostOkAsync(string path, object body)
    {
        using var client = fixture.Client();
        var response = await client.PostAsync(path, InferenceApiServer.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, fixture.Explain($"{(int)response.StatusCode} {text}"));
        return (response, JsonDocument.Parse(text).RootElement.Clone());
    }

    private async Task AssertErrorAsync(string path, string body, int status, string reason, string? type = null)
    {
        using var client = fixture.Client();
        using var response = await client.PostAsync(path, InferenceApiServer.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, fixture.Explain($"{(int)response.StatusCode} {text}"));
        Assert.Equal("Elasticsearch", Header(response, "X-Elastic-Product"));
        using var json = JsonDocument.Parse(text);
        var error = json.RootElement.GetProperty("error");
        Assert.Contains(reason, error.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(status, json.RootElement.GetProperty("status").GetInt32());
        Assert.Equal(error.GetProperty("type").GetString(), error.GetProperty("root_cause")[0].GetProperty("type").GetString());
        if (type is not null)
        {
            Assert.Equal(type, error.GetProperty("type").GetString());
        }
    }

    private static void AssertEnvelope(string text, int status, string type, string reason)
    {
        using var json = JsonDocument.Parse(text);
        Assert.Equal(status, json.RootElement.GetProperty("status").GetInt32());
        var error = json.RootElement.GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Equal(reason, error.GetProperty("reason").GetString());
        Assert.Equal(reason, error.GetProperty("root_cause")[0].GetProperty("reason").GetString());
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(",", values)
            : throw new Xunit.Sdk.XunitException($"no header {name}");

    [GeneratedRegex("\\Gevent: (?<event>[a-z]+)\\ndata: (?<data>[^\\n]+)\\n\\n")]
    private static partial Regex NamedEvent();

    [GeneratedRegex("\\Gdata: (?<data>[^\\n]+)\\n\\n")]
    private static partial Regex BareEvent();
}
