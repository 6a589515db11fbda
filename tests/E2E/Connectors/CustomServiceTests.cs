using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using WebConsole.E2E.Infrastructure;
using WebConsole.Tests.Connectors.Custom;

namespace WebConsole.E2E.Connectors;

/// <summary>
/// A real WebConsole server allowed to reach loopback, and a bespoke provider on loopback (<see cref="CustomProviderServer"/>)
/// that the <c>custom</c> endpoints of the tests describe with templates and JSONPath parsers.
/// </summary>
public sealed class CustomServiceServer : IAsyncLifetime
{
    /// <summary>The secret api key every endpoint sends; it must never come back or reach the logs.</summary>
    public const string ApiKey = "sk-custom-e2e-4f1c9a7b2d";

    private WebConsoleServer? _server;
    private CustomProviderServer? _provider;

    public WebConsoleServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public CustomProviderServer Provider => _provider ?? throw new InvalidOperationException("The provider has not started.");

    public async Task InitializeAsync()
    {
        _provider = await CustomProviderServer.StartAsync();
        var settings = ServerFixture.Settings.ToDictionary();
        settings["Connectors:AllowedOutboundAddresses"] = "127.0.0.1";
        settings["Connectors:MaxRetries"] = "0";
        // Everything a connector might log is written, so the test that looks for the secret in the log can find it.
        settings["Logging:LogLevel:Default"] = "Debug";
        settings["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Warning";
        _server = await WebConsoleServer.StartAsync(settings);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        if (_provider is not null)
        {
            await _provider.DisposeAsync();
        }
    }

    public HttpClient Client() => Server.CreateApiKeyClient();

    /// <summary>The create body of a custom endpoint of <paramref name="taskType"/> against the provider's format for it.</summary>
    public JsonObject CreateBody(string taskType, string? apiKey = null)
    {
        var (path, request, parser) = taskType switch
        {
            "sparse_embedding" => ("/sparse", """{"texts": ${input}}""", new JsonObject
            {
                ["token_path"] = "$.result.sparse_embeddings[*].embedding[*].token_id",
                ["weight_path"] = "$.result.sparse_embeddings[*].embedding[*].weight",
            }),
            "rerank" => ("/rerank", """{"query": ${query}, "documents": ${input}, "top_n": ${top_n}, "return_documents": ${return_documents}}""", new JsonObject
            {
                ["relevance_score"] = "$.results[*].relevance_score",
                ["reranked_index"] = "$.results[*].index",
                ["document_text"] = "$.results[*].document.text",
            }),
            "completion" => ("/complete", """{"prompt": ${input}, "model": ${model}, "temperature": ${temperature}}""", new JsonObject
            {
                ["completion_result"] = "$.choices[*].message.content",
            }),
            _ => ("/embed", """{"texts": ${input}, "input_type": ${input_type}, "model": ${model}}""", new JsonObject
            {
                ["text_embeddings"] = "$.data[*].embedding[*]",
            }),
        };
        return new JsonObject
        {
            ["service"] = "custom",
            ["service_settings"] = new JsonObject
            {
                ["url"] = Provider.BaseUrl + path,
                ["headers"] = new JsonObject { ["Authorization"] = "Bearer ${api_key}", ["X-Model"] = "${model}" },
                ["query_parameters"] = new JsonArray(new JsonArray("api-version", "2024-10-01"), new JsonArray("tenant", "${tenant}")),
                ["request"] = request,
                ["response"] = new JsonObject { ["json_parser"] = parser },
                ["input_type"] = new JsonObject
                {
                    ["translation"] = new JsonObject { ["search"] = "query", ["ingest"] = "document" },
                    ["default"] = "unknown",
                },
                ["secret_parameters"] = new JsonObject { ["api_key"] = apiKey ?? ApiKey, ["tenant"] = "tenant-42" },
            },
            ["task_settings"] = new JsonObject
            {
                ["parameters"] = new JsonObject { ["model"] = "bespoke-1", ["temperature"] = 0.25 },
            },
        };
    }

    /// <summary>Creates an endpoint; fails the test with the answer and the log tail when it is not a 200.</summary>
    public async Task<JsonObject> CreateAsync(HttpClient http, string taskType, string id, JsonObject? body = null)
    {
        using var response = await http.PutAsJsonAsync($"/_inference/{taskType}/{id}", body ?? CreateBody(taskType));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, Explain($"PUT {id}: {(int)response.StatusCode} {text}"));
        return JsonNode.Parse(text)!.AsObject();
    }

    public string Explain(string answer) =>
        $"{answer}\n--- server log (tail):\n{(Server.Log.Length > 6000 ? Server.Log[^6000..] : Server.Log)}";
}

/// <summary>
/// The <c>custom</c> service end to end: endpoints of every task type it supports against a loopback provider with a
/// bespoke API, the requests it receives (headers with the secret, query parameters, rendered bodies), the parsed
/// answers on both REST surfaces, the secret kept out of answers and logs, and the 405 on <c>_stream</c>.
/// </summary>
public sealed class CustomServiceTests(CustomServiceServer server) : IClassFixture<CustomServiceServer>
{
    [Fact]
    public async Task Text_embedding_renders_the_request_and_parses_the_answer()
    {
        using var http = server.Client();
        var created = await server.CreateAsync(http, "text_embedding", "custom-embed");

        // The probe on create discovered the dimensions (three numbers per input in this provider's format).
        Assert.Equal(3, (int?)created["service_settings"]?["dimensions"]);
        Assert.Equal("dot_product", (string?)created["service_settings"]?["similarity"]);
        Assert.Equal("""{"parameters":{"model":"bespoke-1","temperature":0.25}}""", created["task_settings"]?.ToJsonString());
        server.Provider.Clear();

        using var response = await http.PostAsJsonAsync("/_inference/text_embedding/custom-embed",
            new JsonObject { ["input"] = new JsonArray("hello world", "naïve \"quoted\" input"), ["input_type"] = "SEARCH" });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, server.Explain(text));
        var embeddings = JsonNode.Parse(text)!["text_embedding"]!.AsArray();
        Assert.Equal(CustomProviderServer.EmbeddingOf("hello world"), embeddings[0]!["embedding"]!.AsArray().Select(v => v!.GetValue<float>()));
        Assert.Equal(CustomProviderServer.EmbeddingOf("naïve \"quoted\" input"), embeddings[1]!["embedding"]!.AsArray().Select(v => v!.GetValue<float>()));

        // What the provider got: the secret in the header, the query parameters, the body rendered as JSON.
        var request = Assert.Single(server.Provider.Requests);
        Assert.Equal("/embed", request.Path);
        Assert.Equal("?api-version=2024-10-01&tenant=tenant-42", request.Query);
        Assert.Equal($"Bearer {CustomServiceServer.ApiKey}", request.Header("Authorization"));
        Assert.Equal("bespoke-1", request.Header("X-Model"));
        Assert.StartsWith("application/json", request.Header("Content-Type"), StringComparison.Ordinal);
        Assert.Equal("""{"texts":["hello world","naïve \"quoted\" input"],"input_type":"query","model":"bespoke-1"}""",
            request.Json.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));

        // Custom providers report no usage: about four characters a token.
        var characters = "hello world".Length + "naïve \"quoted\" input".Length;
        Assert.Equal(((characters + 3) / 4).ToString(System.Globalization.CultureInfo.InvariantCulture), Header(response, "x-webconsole-input-tokens"));

        // An ingest request gets the ingest word.
        using var ingest = await http.PostAsJsonAsync("/_inference/custom-embed", new JsonObject { ["input"] = "doc", ["input_type"] = "ingest" });
        Assert.Equal(HttpStatusCode.OK, ingest.StatusCode);
        Assert.Equal("document", (string?)server.Provider.Requests[^1].Json["input_type"]);
    }

    [Fact]
    public async Task Text_embedding_is_served_on_the_openai_surface_too()
    {
        using var http = server.Client();
        await server.CreateAsync(http, "text_embedding", "custom-embed-v1");

        using var response = await http.PostAsJsonAsync("/v1/embeddings", new JsonObject { ["model"] = "custom-embed-v1", ["input"] = "four words of text" });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, server.Explain(text));
        var json = JsonNode.Parse(text)!;
        Assert.Equal(CustomProviderServer.EmbeddingOf("four words of text"), json["data"]![0]!["embedding"]!.AsArray().Select(v => v!.GetValue<float>()));
        Assert.Equal(5, (int?)json["usage"]?["prompt_tokens"]);
    }

    [Fact]
    public async Task Chunked_inference_sends_the_chunks_in_batches_of_batch_size()
    {
        using var http = server.Client();
        var body = server.CreateBody("text_embedding");
        body["service_settings"]!["batch_size"] = 2;
        body["chunking_settings"] = new JsonObject { ["strategy"] = "word", ["max_chunk_size"] = 10, ["overlap"] = 0 };
        await server.CreateAsync(http, "text_embedding", "custom-chunked", body);
        server.Provider.Clear();
        var text = string.Join(' ', Enumerable.Range(1, 50).Select(i => $"word{i}"));

        using var response = await http.PostAsJsonAsync("/_inference/text_embedding/custom-chunked/_chunk", new JsonObject { ["input"] = text });
        var answer = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, server.Explain(answer));

        var chunks = JsonNode.Parse(answer)!["results"]![0]!["chunks"]!.AsArray();
        Assert.Equal(5, chunks.Count);
        Assert.All(chunks, c => Assert.Equal(CustomProviderServer.EmbeddingOf((string)c!["text"]!), c!["embedding"]!.AsArray().Select(v => v!.GetValue<float>())));
        Assert.Equal([2, 2, 1], server.Provider.Requests.Select(r => r.Json["texts"]!.AsArray().Count));
    }

    [Fact]
    public async Task Sparse_embedding_pairs_the_tokens_with_their_weights()
    {
        using var http = server.Client();
        await server.CreateAsync(http, "sparse_embedding", "custom-sparse");

        using var response = await http.PostAsJsonAsync("/_inference/sparse_embedding/custom-sparse", new JsonObject
        {
            ["input"] = new JsonArray("a to the a", "hello"),
        });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, server.Explain(text));

        // The provider's numeric token ids (word lengths) become the tokens, weighted by count, largest first.
        var embeddings = JsonNode.Parse(text)!["sparse_embedding"]!.AsArray();
        Assert.Equal(2, embeddings.Count);
        Assert.False((bool)embeddings[0]!["is_truncated"]!);
        Assert.Equal("""{"1":0.2,"2":0.1,"3":0.1}""", embeddings[0]!["embedding"]!.ToJsonString());
        Assert.Equal("""{"5":0.1}""", embeddings[1]!["embedding"]!.ToJsonString());
        Assert.Equal("""{"texts":["a to the a","hello"]}""", server.Provider.Requests[^1].Json.ToJsonString());
    }

    [Fact]
    public async Task Rerank_sends_query_top_n_and_return_documents_and_reads_the_ranking()
    {
        using var http = server.Client();
        await server.CreateAsync(http, "rerank", "custom-rerank");
        server.Provider.Clear();

        using var response = await http.PostAsJsonAsync("/_inference/rerank/custom-rerank", new JsonObject
        {
            ["query"] = "red apple",
            ["input"] = new JsonArray("green pear", "red apple pie", "a red car", "blue sky"),
            ["top_n"] = 2,
        });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, server.Explain(text));

        var ranked = JsonNode.Parse(text)!["rerank"]!.AsArray();
        Assert.Equal([1, 2], ranked.Select(r => (int)r!["index"]!));
        Assert.Equal("red apple pie", (string?)ranked[0]!["text"]);
        Assert.Equal(0.2f, (float)ranked[0]!["relevance_score"]!, 5);

        var sent = Assert.Single(server.Provider.Requests).Json;
        Assert.Equal("red apple", (string?)sent["query"]);
        Assert.Equal(4, sent["documents"]!.AsArray().Count);
        Assert.Equal(2, (int?)sent["top_n"]);
        Assert.True((bool?)sent["return_documents"]);
    }

    [Fact]
    public async Task Completion_answers_and_streaming_is_refused_with_the_405_envelope()
    {
        using var http = server.Client();
        await server.CreateAsync(http, "completion", "custom-completion");

        using var response = await http.PostAsJsonAsync("/_inference/completion/custom-completion", new JsonObject { ["input"] = "Say hi" });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, server.Explain(text));
        Assert.Equal("echo: Say hi", (string?)JsonNode.Parse(text)!["completion"]![0]!["result"]);
        Assert.Equal("""{"prompt":"Say hi","model":"bespoke-1","temperature":0.25}""", server.Provider.Requests[^1].Json.ToJsonString());
        Assert.Equal("2", Header(response, "x-webconsole-input-tokens"));
        Assert.Equal("3", Header(response, "x-webconsole-output-tokens"));

        var calls = server.Provider.Requests.Count;
        using var stream = await http.PostAsJsonAsync("/_inference/completion/custom-completion/_stream", new JsonObject { ["input"] = "Say hi" });
        Assert.Equal(HttpStatusCode.MethodNotAllowed, stream.StatusCode);
        Assert.Equal("Elasticsearch", Header(stream, "X-Elastic-Product"));
        var error = JsonNode.Parse(await stream.Content.ReadAsStringAsync())!;
        Assert.Equal(405, (int?)error["status"]);
        Assert.Equal("status_exception", (string?)error["error"]?["type"]);
        Assert.Equal("Streaming is not allowed for service [custom] and task [completion]", (string?)error["error"]?["reason"]);
        Assert.Equal("Streaming is not allowed for service [custom] and task [completion]", (string?)error["error"]?["root_cause"]?[0]?["reason"]);
        Assert.Equal(calls, server.Provider.Requests.Count);
    }

    [Fact]
    public async Task Secret_parameters_never_come_back_and_never_reach_the_log()
    {
        const string secret = "sk-only-in-this-test-93be51";
        using var http = server.Client();
        var created = await server.CreateAsync(http, "text_embedding", "custom-secret", server.CreateBody("text_embedding", secret));
        Assert.Null(created["service_settings"]?["secret_parameters"]);
        Assert.DoesNotContain(secret, created.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains("Bearer ${api_key}", created.ToJsonString(), StringComparison.Ordinal);

        foreach (var path in new[] { "/_inference/custom-secret", "/_inference/_all", "/_inference/text_embedding/_all" })
        {
            var body = await http.GetStringAsync(path);
            Assert.DoesNotContain(secret, body, StringComparison.Ordinal);
            Assert.DoesNotContain("tenant-42", body, StringComparison.Ordinal);
        }

        // The provider echoes the key in its error: the answer masks it.
        server.Provider.Respond = request => request.Header("Authorization") == $"Bearer {secret}"
            ? (401, $$$"""{"error":{"message":"key {{{secret}}} is not valid"}}""")
            : null;
        try
        {
            using var failed = await http.PostAsJsonAsync("/_inference/custom-secret", new JsonObject { ["input"] = "x" });
            var error = await failed.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
            Assert.Contains("Received an authentication error status code for request from inference entity id [custom-secret] status [401]", error, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, error, StringComparison.Ordinal);
        }
        finally
        {
            server.Provider.Respond = null;
        }

        // A new key through _update is used from then on, and is not echoed either.
        const string rotated = "sk-rotated-key-in-this-test-77aa";
        using var update = await http.PutAsJsonAsync("/_inference/custom-secret/_update", new JsonObject
        {
            ["service_settings"] = new JsonObject { ["secret_parameters"] = new JsonObject { ["api_key"] = rotated, ["tenant"] = "tenant-42" } },
        });
        var updated = await update.Content.ReadAsStringAsync();
        Assert.True(update.StatusCode == HttpStatusCode.OK, server.Explain(updated));
        Assert.DoesNotContain(rotated, updated, StringComparison.Ordinal);
        using var after = await http.PostAsJsonAsync("/_inference/custom-secret", new JsonObject { ["input"] = "x" });
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal($"Bearer {rotated}", server.Provider.Requests[^1].Header("Authorization"));

        Assert.DoesNotContain(secret, server.Server.Log, StringComparison.Ordinal);
        Assert.DoesNotContain(rotated, server.Server.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_placeholder_found_nowhere_is_a_400_naming_it_and_stores_nothing()
    {
        using var http = server.Client();
        var body = server.CreateBody("text_embedding");
        body["service_settings"]!["request"] = """{"texts": ${input}, "dims": ${dimensions_wanted}}""";
        var calls = server.Provider.Requests.Count;

        using var response = await http.PutAsJsonAsync("/_inference/text_embedding/custom-bad-template", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("Failed to validate model configuration: Found placeholder [${dimensions_wanted}] in field [request] after replacement call",
            (string?)error["error"]?["reason"]);
        Assert.Equal(calls, server.Provider.Requests.Count);
        using var missing = await http.GetAsync("/_inference/custom-bad-template");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task A_parser_that_does_not_match_the_provider_fails_creation_and_stores_nothing()
    {
        using var http = server.Client();
        var body = server.CreateBody("text_embedding");
        body["service_settings"]!["response"]!["json_parser"]!["text_embeddings"] = "$.embeddings[*]";

        using var response = await http.PutAsJsonAsync("/_inference/text_embedding/custom-bad-parser", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var reason = (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]?["reason"];
        Assert.StartsWith("Could not complete inference endpoint creation as validation call to service threw an exception.", reason, StringComparison.Ordinal);
        Assert.Contains("Unable to find field [$.embeddings]", reason, StringComparison.Ordinal);
        using var missing = await http.GetAsync("/_inference/custom-bad-parser");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task The_services_list_describes_the_custom_schema()
    {
        using var http = server.Client();
        var services = JsonNode.Parse(await http.GetStringAsync("/_inference/_services"))!.AsArray();
        var custom = services.Single(s => (string?)s!["service"] == "custom")!;
        Assert.Equal(["text_embedding", "sparse_embedding", "rerank", "completion"], custom["task_types"]!.AsArray().Select(t => (string?)t));
        Assert.True((bool?)custom["configurations"]!["secret_parameters"]!["sensitive"]);
        Assert.True((bool?)custom["configurations"]!["secret_parameters"]!["updatable"]);
        Assert.True((bool?)custom["configurations"]!["request"]!["required"]);
        Assert.Equal("map", (string?)custom["configurations"]!["response"]!["type"]);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault()
        : response.Content.Headers.TryGetValues(name, out values) ? values.FirstOrDefault()
        : null;
}
