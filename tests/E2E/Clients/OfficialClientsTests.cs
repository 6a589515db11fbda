using System.Text;
using System.Text.Json;
using Xunit.Sdk;
using static WebConsole.E2E.Clients.OfficialClientsServer;

namespace WebConsole.E2E.Clients;

/// <summary>
/// The official <c>@elastic/elasticsearch</c> and <c>openai</c> npm clients, unchanged, against the real server: each test
/// checks what one client call answered (shapes, counts, dimensions, streamed text, usage).
/// </summary>
public sealed class OfficialClientsTests(OfficialClientsServer fixture) : IClassFixture<OfficialClientsServer>
{
    [Fact]
    public void Elasticsearch_client_creates_endpoints_with_the_task_type_in_the_path_or_the_body()
    {
        AssertCreated(Ok(fixture.Elasticsearch("put_text_embedding")), EmbeddingEndpoint, "text_embedding", EmbeddingModel);
        AssertCreated(Ok(fixture.Elasticsearch("put_sparse_embedding")), SparseEndpoint, "sparse_embedding", SparseModel);
        AssertCreated(Ok(fixture.Elasticsearch("put_rerank")), RerankEndpoint, "rerank", RerankModel);
    }

    [Fact]
    public void Elasticsearch_client_creates_completion_and_chat_completion_endpoints()
    {
        AssertCreated(Ok(fixture.Elasticsearch("put_completion")), CompletionEndpoint, "completion", ChatModel);
        AssertCreated(Ok(fixture.Elasticsearch("put_chat_completion")), ChatEndpoint, "chat_completion", ChatModel);
    }

    [Fact]
    public void Elasticsearch_client_gets_all_endpoints_sorted_by_id_with_the_reserved_ones()
    {
        var ids = Ok(fixture.Elasticsearch("get_all")).GetProperty("endpoints").EnumerateArray()
            .Select(e => e.GetProperty("inference_id").GetString()!).ToList();
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
        Assert.Subset(ids.ToHashSet(), new HashSet<string> { EmbeddingEndpoint, SparseEndpoint, RerankEndpoint, ".elser-2-elasticsearch", ".multilingual-e5-small-elasticsearch", ".rerank-v1-elasticsearch" });
    }

    [Fact]
    public void Elasticsearch_client_gets_one_endpoint_by_id_and_by_task_type_and_id()
    {
        var byId = Assert.Single(Ok(fixture.Elasticsearch("get_by_id")).GetProperty("endpoints").EnumerateArray());
        Assert.Equal(EmbeddingEndpoint, byId.GetProperty("inference_id").GetString());
        Assert.Equal("elasticsearch", byId.GetProperty("service").GetString());
        var byTaskType = Assert.Single(Ok(fixture.Elasticsearch("get_by_task_type")).GetProperty("endpoints").EnumerateArray());
        Assert.Equal(SparseEndpoint, byTaskType.GetProperty("inference_id").GetString());
        Assert.Equal("sparse_embedding", byTaskType.GetProperty("task_type").GetString());
    }

    [Fact]
    public void Elasticsearch_client_sees_a_missing_endpoint_as_a_404_in_the_elasticsearch_envelope()
    {
        AssertNotFound(Failed(fixture.Elasticsearch("get_missing")), "no-such-endpoint");
    }

    [Fact]
    public void Elasticsearch_client_embeds_texts_with_the_model_dimensions_in_input_order()
    {
        var generic = Embeddings(Ok(fixture.Elasticsearch("inference_text_embedding")));
        Assert.Equal(Texts.Count, generic.Count);
        Assert.All(generic, e => Assert.Equal(fixture.EmbeddingDimensions, e.Length));
        Assert.All(generic, e => Assert.All(e, v => Assert.True(float.IsFinite(v))));
        Assert.NotEqual(generic[0], generic[1]);

        // The per-task-type method on the first text gives the first vector of the batch (no prefix for this model).
        var single = Assert.Single(Embeddings(Ok(fixture.Elasticsearch("text_embedding"))));
        AssertClose(generic[0], single);
    }

    [Fact]
    public void Elasticsearch_client_gets_one_sparse_embedding_per_input()
    {
        var results = Ok(fixture.Elasticsearch("sparse_embedding")).GetProperty("sparse_embedding").EnumerateArray().ToList();
        Assert.Equal(Texts.Count, results.Count);
        Assert.All(results, r =>
        {
            Assert.False(r.GetProperty("is_truncated").GetBoolean());
            var weights = r.GetProperty("embedding").EnumerateObject().ToList();
            Assert.NotEmpty(weights);
            Assert.All(weights, w => Assert.True(w.Value.GetSingle() > 0, $"{w.Name} has weight {w.Value}"));
        });
    }

    [Fact]
    public void Elasticsearch_client_reranks_to_top_n_sorted_by_score_with_the_documents()
    {
        var ranked = Ok(fixture.Elasticsearch("rerank")).GetProperty("rerank").EnumerateArray().ToList();
        Assert.Equal(2, ranked.Count);
        var scores = ranked.Select(r => r.GetProperty("relevance_score").GetDouble()).ToList();
        Assert.Equal(scores.OrderDescending(), scores);
        Assert.Equal(2, ranked.Select(r => r.GetProperty("index").GetInt32()).Distinct().Count());
        Assert.All(ranked, r => Assert.Equal(Texts[r.GetProperty("index").GetInt32()], r.GetProperty("text").GetString()));
    }

    [Fact]
    public void Elasticsearch_client_completes_and_streams_the_same_greedy_text()
    {
        var text = Assert.Single(Ok(fixture.Elasticsearch("completion")).GetProperty("completion").EnumerateArray()).GetProperty("result").GetString();
        Assert.False(string.IsNullOrEmpty(text));

        var events = AssertEventStream(Ok(fixture.Elasticsearch("stream_completion")));
        var streamed = string.Concat(events.SelectMany(e => e.GetProperty("completion").EnumerateArray()).Select(c => c.GetProperty("delta").GetString()));
        Assert.Equal(text, streamed);
    }

    [Fact]
    public void Elasticsearch_client_chat_completion_streams_the_non_streamed_greedy_answer_with_usage()
    {
        var completion = Ok(fixture.Elasticsearch("chat_completion"));
        Assert.Equal("chat.completion", completion.GetProperty("object").GetString());
        var message = Assert.Single(completion.GetProperty("choices").EnumerateArray()).GetProperty("message");
        Assert.Equal("assistant", message.GetProperty("role").GetString());
        var text = message.GetProperty("content").GetString();
        Assert.False(string.IsNullOrEmpty(text));
        var usage = AssertUsage(completion.GetProperty("usage"));

        var chunks = AssertEventStream(Ok(fixture.Elasticsearch("chat_completion_unified")));
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        var streamed = string.Concat(chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray())
            .Select(c => c.GetProperty("delta").TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String ? content.GetString() : ""));
        Assert.Equal(text, streamed);
        var streamedUsage = AssertUsage(chunks.Last(c => c.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object).GetProperty("usage"));
        Assert.Equal(usage, streamedUsage);
    }

    [Fact]
    public void Elasticsearch_client_updates_num_allocations()
    {
        Assert.Equal(2, Ok(fixture.Elasticsearch("update")).GetProperty("service_settings").GetProperty("num_allocations").GetInt32());
        var stored = Assert.Single(Ok(fixture.Elasticsearch("get_after_update")).GetProperty("endpoints").EnumerateArray());
        Assert.Equal(2, stored.GetProperty("service_settings").GetProperty("num_allocations").GetInt32());
    }

    [Fact]
    public void Elasticsearch_client_creates_an_api_key_that_works_at_once()
    {
        var key = Ok(fixture.Elasticsearch("create_api_key"));
        Assert.Equal("official-client-test", key.GetProperty("name").GetString());
        var expected = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{key.GetProperty("id").GetString()}:{key.GetProperty("api_key").GetString()}"));
        Assert.Equal(expected, key.GetProperty("encoded").GetString());
        var embedding = Assert.Single(Embeddings(Ok(fixture.Elasticsearch("new_key_text_embedding"))));
        Assert.Equal(fixture.EmbeddingDimensions, embedding.Length);
    }

    [Fact]
    public void Elasticsearch_client_deletes_after_a_dry_run_that_removes_nothing()
    {
        var dryRun = Ok(fixture.Elasticsearch("delete_dry_run"));
        Assert.False(dryRun.GetProperty("acknowledged").GetBoolean());
        Assert.Equal(JsonValueKind.Array, dryRun.GetProperty("pipelines").ValueKind);

        var deleted = Ok(fixture.Elasticsearch("delete"));
        Assert.True(deleted.GetProperty("acknowledged").GetBoolean());
        Assert.Empty(deleted.GetProperty("pipelines").EnumerateArray());
        Assert.Empty(deleted.GetProperty("indexes").EnumerateArray());
        AssertNotFound(Failed(fixture.Elasticsearch("get_after_delete")), RerankEndpoint);
    }

    [Fact]
    public void OpenAI_client_streams_chat_with_a_final_usage_chunk_and_the_non_streamed_greedy_text()
    {
        var stream = Ok(fixture.OpenAi("chat_stream"));
        var content = stream.GetProperty("content").GetString();
        Assert.False(string.IsNullOrEmpty(content));
        Assert.Equal(["chat.completion.chunk"], stream.GetProperty("objects").EnumerateArray().Select(o => o.GetString()));
        Assert.Single(stream.GetProperty("ids").EnumerateArray());
        Assert.Single(stream.GetProperty("finishReasons").EnumerateArray());
        var usageChunk = Assert.Single(stream.GetProperty("usageChunks").EnumerateArray());
        Assert.Equal(0, usageChunk.GetProperty("choices").GetInt32());
        var streamedUsage = AssertUsage(usageChunk.GetProperty("usage"));
        Assert.Equal(JsonValueKind.Object, stream.GetProperty("lastChunk").GetProperty("usage").ValueKind);

        var chat = Ok(fixture.OpenAi("chat"));
        var completion = chat.GetProperty("completion");
        Assert.Equal("chat.completion", completion.GetProperty("object").GetString());
        Assert.Equal(OpenAiChatEndpoint, completion.GetProperty("model").GetString());
        var message = Assert.Single(completion.GetProperty("choices").EnumerateArray()).GetProperty("message");
        Assert.Equal("assistant", message.GetProperty("role").GetString());
        Assert.Equal(content, message.GetProperty("content").GetString());
        var usage = AssertUsage(completion.GetProperty("usage"));
        Assert.Equal(usage, streamedUsage);
        Assert.Equal(usage.Input.ToString(System.Globalization.CultureInfo.InvariantCulture), chat.GetProperty("inputTokens").GetString());
        Assert.Equal(usage.Output.ToString(System.Globalization.CultureInfo.InvariantCulture), chat.GetProperty("outputTokens").GetString());
    }

    [Fact]
    public void OpenAI_client_gets_float_embeddings_with_usage()
    {
        var response = Ok(fixture.OpenAi("embeddings_float"));
        Assert.Equal(OpenAiEmbeddingEndpoint, response.GetProperty("model").GetString());
        var data = response.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal([0, 1], data.Select(d => d.GetProperty("index").GetInt32()));
        Assert.All(data, d => Assert.Equal("embedding", d.GetProperty("object").GetString()));
        Assert.All(data, d => Assert.Equal(fixture.EmbeddingDimensions, d.GetProperty("embedding").GetArrayLength()));
        var usage = response.GetProperty("usage");
        Assert.True(usage.GetProperty("prompt_tokens").GetInt32() > 0);
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public void OpenAI_client_base64_embeddings_decode_to_the_float_ones()
    {
        var floats = Ok(fixture.OpenAi("embeddings_float")).GetProperty("data").EnumerateArray().Select(d => Vector(d.GetProperty("embedding"))).ToList();
        var base64 = Ok(fixture.OpenAi("embeddings_base64"));
        Assert.All(base64.GetProperty("data").EnumerateArray(), d => Assert.Equal(JsonValueKind.String, d.GetProperty("embedding").ValueKind));
        var decoded = base64.GetProperty("decoded").EnumerateArray().Select(Vector).ToList();
        Assert.Equal(floats.Count, decoded.Count);
        for (var i = 0; i < floats.Count; i++)
        {
            AssertClose(floats[i], decoded[i]);
        }

        // The client's default asks for base64 and decodes it itself.
        var byDefault = Assert.Single(Ok(fixture.OpenAi("embeddings_default")).GetProperty("data").EnumerateArray());
        AssertClose(floats[0], Vector(byDefault.GetProperty("embedding")));
    }

    [Fact]
    public void OpenAI_client_lists_the_endpoints_as_models()
    {
        var models = Ok(fixture.OpenAi("models_list")).EnumerateArray().ToList();
        Assert.All(models, m => Assert.Equal("model", m.GetProperty("object").GetString()));
        var ids = models.Select(m => m.GetProperty("id").GetString()).ToHashSet();
        Assert.Contains(OpenAiChatEndpoint, ids);
        Assert.Contains(OpenAiEmbeddingEndpoint, ids);
    }

    [Fact]
    public void OpenAI_client_sees_an_unknown_model_as_a_404_openai_error()
    {
        var error = Failed(fixture.OpenAi("chat_unknown_model"));
        Assert.Equal(404, error.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("error").GetProperty("message").GetString()));
    }

    private static JsonElement Ok(JsonElement call) =>
        call.GetProperty("ok").GetBoolean() ? call.GetProperty("result") : throw new XunitException($"The call failed: {call.GetProperty("error")}");

    private static JsonElement Failed(JsonElement call) =>
        call.GetProperty("ok").GetBoolean() ? throw new XunitException($"The call should have failed but answered {call.GetProperty("result")}") : call.GetProperty("error");

    private static void AssertCreated(JsonElement endpoint, string id, string taskType, string model)
    {
        Assert.Equal(id, endpoint.GetProperty("inference_id").GetString());
        Assert.Equal(taskType, endpoint.GetProperty("task_type").GetString());
        Assert.Equal("elasticsearch", endpoint.GetProperty("service").GetString());
        Assert.Equal(model, endpoint.GetProperty("service_settings").GetProperty("model_id").GetString());
    }

    private static void AssertNotFound(JsonElement error, string id)
    {
        Assert.Equal(404, error.GetProperty("statusCode").GetInt32());
        var body = error.GetProperty("body");
        Assert.Equal(404, body.GetProperty("status").GetInt32());
        Assert.Equal("resource_not_found_exception", body.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal($"Inference endpoint not found [{id}]", body.GetProperty("error").GetProperty("reason").GetString());
        Assert.Equal("resource_not_found_exception", Assert.Single(body.GetProperty("error").GetProperty("root_cause").EnumerateArray()).GetProperty("type").GetString());
    }

    /// <summary>Checks the SSE framing of the contract and answers the JSON data of the message events before [DONE].</summary>
    private static List<JsonElement> AssertEventStream(JsonElement stream)
    {
        Assert.Equal(200, stream.GetProperty("statusCode").GetInt32());
        Assert.StartsWith("text/event-stream", stream.GetProperty("contentType").GetString(), StringComparison.Ordinal);
        Assert.False(stream.GetProperty("startsWithBom").GetBoolean());
        var events = stream.GetProperty("events").EnumerateArray().ToList();
        Assert.All(events, e => Assert.Equal("message", e.GetProperty("event").GetString()));
        Assert.Equal("[DONE]", events[^1].GetProperty("data").GetString());
        var data = events[..^1].Select(e => e.GetProperty("data")).ToList();
        Assert.NotEmpty(data);
        Assert.All(data, d => Assert.Equal(JsonValueKind.Object, d.ValueKind));
        return data;
    }

    private static (int Input, int Output) AssertUsage(JsonElement usage)
    {
        var input = usage.GetProperty("prompt_tokens").GetInt32();
        var output = usage.GetProperty("completion_tokens").GetInt32();
        Assert.True(input > 0, $"prompt_tokens {input}");
        Assert.True(output > 0, $"completion_tokens {output}");
        Assert.Equal(input + output, usage.GetProperty("total_tokens").GetInt32());
        return (input, output);
    }

    private static List<float[]> Embeddings(JsonElement response) =>
        [.. response.GetProperty("text_embedding").EnumerateArray().Select(e => Vector(e.GetProperty("embedding")))];

    private static float[] Vector(JsonElement array) => [.. array.EnumerateArray().Select(v => v.GetSingle())];

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f, $"component {i}: {expected[i]} vs {actual[i]}");
        }
    }
}
