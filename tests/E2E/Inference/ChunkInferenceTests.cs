using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WebConsole.Domain.Chunking;
using WebConsole.E2E.Infrastructure;
using WebConsole.Infrastructure.Text;

namespace WebConsole.E2E.Inference;

/// <summary>
/// A real server with generated models and embedding endpoints that carry explicit chunking settings, for chunked
/// inference (<c>_chunk</c>) and the chunking preview.
/// </summary>
public sealed class ChunkInferenceServer : IAsyncLifetime
{
    public const int MaxInputs = 64;
    public const int MaxInputBytes = 16_000;

    /// <summary>text_embedding, word / 10 / overlap 1.</summary>
    public const string Words = "chunk-words";

    /// <summary>text_embedding, sentence / 20 / overlap 1.</summary>
    public const string Sentences = "chunk-sentences";

    /// <summary>sparse_embedding, sentence / 20 / overlap 1.</summary>
    public const string Sparse = "chunk-sparse";

    /// <summary>text_embedding, strategy none.</summary>
    public const string Whole = "chunk-none";

    public const string Rerank = "chunk-rerank";
    public const string Completion = "chunk-completion";

    private WebConsoleServer? _server;

    public WebConsoleServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    /// <summary>The embedding model's dimensions.</summary>
    public int EmbeddingDimensions { get; private set; }

    /// <summary>What endpoint creation answered, for failure messages.</summary>
    public string Setup { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        var settings = ServerFixture.Settings.ToDictionary();
        EmbeddingDimensions = await GeneratedModels.RegisterAsync(settings, "chunk-bert", "chunk-splade", "chunk-cross-encoder", "chunk-llama3");
        settings["Inference:Api:MaxInputs"] = MaxInputs.ToString(CultureInfo.InvariantCulture);
        settings["Inference:Api:MaxInputBytes"] = MaxInputBytes.ToString(CultureInfo.InvariantCulture);
        _server = await WebConsoleServer.StartAsync(settings);

        using var http = Client();
        foreach (var (taskType, id, model, chunking) in new (string, string, string, object?)[]
        {
            ("text_embedding", Words, "chunk-bert", new { strategy = "word", max_chunk_size = 10, overlap = 1 }),
            ("text_embedding", Sentences, "chunk-bert", new { strategy = "sentence", max_chunk_size = 20, sentence_overlap = 1 }),
            ("sparse_embedding", Sparse, "chunk-splade", new { strategy = "sentence", max_chunk_size = 20, sentence_overlap = 1 }),
            ("text_embedding", Whole, "chunk-bert", new { strategy = "none" }),
            ("rerank", Rerank, "chunk-cross-encoder", null),
            ("completion", Completion, "chunk-llama3", null),
        })
        {
            var body = new JsonObject
            {
                ["service"] = "elasticsearch",
                ["service_settings"] = new JsonObject { ["model_id"] = model, ["num_allocations"] = 1, ["num_threads"] = 1 },
            };
            if (chunking is not null)
            {
                body["chunking_settings"] = JsonSerializer.SerializeToNode(chunking);
            }

            using var response = await http.PutAsJsonAsync($"/_inference/{taskType}/{id}", body);
            Setup += $"PUT /_inference/{taskType}/{id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}\n";
        }
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>A client with an API key (the bootstrap key by default: inference_admin of the default organization).</summary>
    public HttpClient Client(string? encodedKey = null)
    {
        var client = Server.CreateApiKeyClient(encodedKey);
        return client;
    }

    /// <summary>The failure message of an unexpected answer: the answer, how the endpoints were created, the server's log.</summary>
    public string Explain(string answer) =>
        $"{answer}\n--- setup:\n{Setup}\n--- server log (tail):\n{(Server.Log.Length > 6000 ? Server.Log[^6000..] : Server.Log)}";

    /// <summary>Creates another organization with an admin, signs the admin in and answers an inference_admin key of it.</summary>
    public async Task<string> CreateOrganizationKeyAsync(string slug)
    {
        using var operatorClient = Client();
        return await OtherOrganizations.CreateAdminKeyAsync(Server, operatorClient, slug);
    }
}

public sealed class ChunkInferenceTests(ChunkInferenceServer fixture) : IClassFixture<ChunkInferenceServer>
{
    // CONTRACT.md's check vector: word, max 10, overlap 1 gives exactly 3 chunks.
    private const string CheckVector =
        "Elasticsearch is an open source, distributed, RESTful, search engine which is built on top of Lucene internally and enjoys all the features it provides.";

    private const string ShortDocument = "Short notes fit in one chunk.";

    private static readonly string LongDocument = string.Join("\n\n",
        "Elasticsearch is a distributed search and analytics engine. It stores documents as JSON and indexes every field, so "
        + "that full-text queries, structured filters and aggregations all run quickly, even over billions of records. Nodes "
        + "form a cluster, and each index is split into shards that are spread over the nodes and copied for resilience.",
        "Semantic search adds meaning to matching. An inference endpoint turns each passage into a vector or a set of weighted "
        + "tokens, and queries are embedded the same way. Long passages are first cut into chunks, because a model reads only "
        + "a limited number of tokens at once; every chunk is embedded on its own and keeps its offsets into the original text.",
        "Chunking strategies differ in how they cut. The sentence strategy packs whole sentences until the word budget is "
        + "reached and may carry the previous sentence over. The word strategy slides a window of words with an overlap. The "
        + "recursive strategy splits on separators such as blank lines and markdown headings before it falls back to sentences.",
        "Operators watch the cost of all this work. Every request reports the tokens it read and what they cost, and the "
        + "deployment batches the chunks of many requests together so that the accelerator stays busy and the answers stay fast.");

    // An English paragraph, then Chinese and Japanese ones: ICU finds their words by dictionary, not by spaces.
    private static readonly string CjkDocument = string.Join("\n\n",
        "Multilingual documents mix scripts. The chunker must count words the way each language writes them, and keep exact offsets.",
        "搜索引擎把文档切分成较小的片段，然后为每个片段计算向量。中文没有空格，所以词语的边界需要依靠词典来确定。这样每个片段的长度才能按照词语来计算。",
        "検索エンジンは長い文書を小さな断片に分けます。日本語の単語の境界は辞書によって決まります。それぞれの断片は元の文書の位置を保ちます。");

    private static readonly IcuTextSegmenter Segmenter = new(IcuLibrary.Shared);
    private static readonly TextChunker Chunker = new(Segmenter);

    [Fact]
    public async Task Chunk_answers_the_chunkers_chunks_with_offsets_that_slice_each_input_and_one_embedding_per_chunk()
    {
        string[] inputs = [LongDocument, ShortDocument];
        var (response, json) = await PostOkAsync($"/_inference/text_embedding/{ChunkInferenceServer.Words}/_chunk", new { input = inputs });

        var results = json.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(inputs.Length, results.Count);
        var allTexts = new List<string>();
        var allVectors = new List<float[]>();
        for (var i = 0; i < inputs.Length; i++)
        {
            var chunks = results[i].GetProperty("chunks").EnumerateArray().ToList();
            var expected = Chunker.Chunk(inputs[i], ChunkingSettings.Word(10, 1));
            Assert.Equal(expected.Select(c => (c.StartOffset, c.EndOffset)), chunks.Select(Offsets));
            foreach (var chunk in chunks)
            {
                var (start, end) = Offsets(chunk);
                Assert.Equal(inputs[i][start..end], chunk.GetProperty("text").GetString());
                var vector = chunk.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
                Assert.Equal(fixture.EmbeddingDimensions, vector.Length);
                allTexts.Add(chunk.GetProperty("text").GetString()!);
                allVectors.Add(vector);
            }
        }

        // Windows of 10 words advancing by 9: the long document gives at least its words / 10 chunks; the short note one.
        Assert.True(results[0].GetProperty("chunks").GetArrayLength() >= Segmenter.CountWords(LongDocument) / 10, json.ToString());
        Assert.Equal(1, results[1].GetProperty("chunks").GetArrayLength());
        Assert.Equal(ShortDocument, results[1].GetProperty("chunks")[0].GetProperty("text").GetString());

        // Each chunk's embedding is the embedding of its text as a document, and the usage is the tokens of all chunks.
        var (plainResponse, plain) = await PostOkAsync($"/_inference/text_embedding/{ChunkInferenceServer.Words}", new { input = allTexts, input_type = "INGEST" });
        var plainVectors = plain.GetProperty("text_embedding").EnumerateArray().Select(e => e.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToList();
        Assert.Equal(allVectors.Count, plainVectors.Count);
        for (var k = 0; k < allVectors.Count; k++)
        {
            Assert.All(allVectors[k].Zip(plainVectors[k]), pair => Assert.Equal(pair.Second, pair.First, 3));
        }

        var inputTokens = int.Parse(Header(response, "x-webconsole-input-tokens"), CultureInfo.InvariantCulture);
        Assert.Equal(Header(plainResponse, "x-webconsole-input-tokens"), inputTokens.ToString(CultureInfo.InvariantCulture));
        Assert.True(inputTokens > allTexts.Count * 10, $"{inputTokens} tokens for {allTexts.Count} chunks");
        Assert.Equal("0", Header(response, "x-webconsole-output-tokens"));
        Assert.True(decimal.Parse(Header(response, "x-webconsole-cost"), CultureInfo.InvariantCulture) >= 0);
        Assert.Equal("Elasticsearch", Header(response, "X-Elastic-Product"));
    }

    [Fact]
    public async Task The_contract_check_vector_gives_exactly_three_chunks()
    {
        var (_, json) = await PostOkAsync($"/_inference/{ChunkInferenceServer.Words}/_chunk", new { input = CheckVector });
        var chunks = json.GetProperty("results")[0].GetProperty("chunks").EnumerateArray().ToList();
        Assert.Equal(
            [
                "Elasticsearch is an open source, distributed, RESTful, search engine which",
                "which is built on top of Lucene internally and enjoys",
                "enjoys all the features it provides.",
            ],
            chunks.Select(c => c.GetProperty("text").GetString()!.Trim()));
        Assert.All(chunks, c => Assert.Equal(CheckVector[Offsets(c).Start..Offsets(c).End], c.GetProperty("text").GetString()));
    }

    [Fact]
    public async Task Sentence_chunks_of_a_cjk_document_slice_it_exactly_for_dense_and_sparse_endpoints()
    {
        var expected = Chunker.Chunk(CjkDocument, ChunkingSettings.Sentence(20, 1));
        Assert.True(expected.Count > 2, $"{expected.Count} chunks");

        var (_, dense) = await PostOkAsync($"/_inference/text_embedding/{ChunkInferenceServer.Sentences}/_chunk", new { input = new[] { CjkDocument } });
        var denseChunks = dense.GetProperty("results")[0].GetProperty("chunks").EnumerateArray().ToList();
        Assert.Equal(expected.Select(c => (c.StartOffset, c.EndOffset)), denseChunks.Select(Offsets));
        Assert.All(denseChunks, c => Assert.Equal(CjkDocument[Offsets(c).Start..Offsets(c).End], c.GetProperty("text").GetString()));
        Assert.All(denseChunks, c => Assert.Equal(fixture.EmbeddingDimensions, c.GetProperty("embedding").GetArrayLength()));
        Assert.Contains(denseChunks, c => c.GetProperty("text").GetString()!.Contains("词典", StringComparison.Ordinal));
        Assert.Contains(denseChunks, c => c.GetProperty("text").GetString()!.Contains("辞書", StringComparison.Ordinal));

        var (response, sparse) = await PostOkAsync($"/_inference/sparse_embedding/{ChunkInferenceServer.Sparse}/_chunk", new { input = CjkDocument });
        var sparseChunks = sparse.GetProperty("results")[0].GetProperty("chunks").EnumerateArray().ToList();
        Assert.Equal(expected.Select(c => (c.StartOffset, c.EndOffset)), sparseChunks.Select(Offsets));
        foreach (var chunk in sparseChunks)
        {
            Assert.Equal(CjkDocument[Offsets(chunk).Start..Offsets(chunk).End], chunk.GetProperty("text").GetString());
            var weights = chunk.GetProperty("embedding").EnumerateObject().ToList();
            Assert.NotEmpty(weights);
            Assert.All(weights, w => Assert.True(w.Value.GetSingle() > 0, w.Name));
        }

        Assert.True(int.Parse(Header(response, "x-webconsole-input-tokens"), CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public async Task Strategy_none_makes_each_input_one_chunk_and_a_chunk_longer_than_the_model_is_400_not_truncated()
    {
        string[] inputs = [ShortDocument, CheckVector];
        var (_, json) = await PostOkAsync($"/_inference/{ChunkInferenceServer.Whole}/_chunk", new { input = inputs });
        var results = json.GetProperty("results").EnumerateArray().ToList();
        for (var i = 0; i < inputs.Length; i++)
        {
            var chunk = Assert.Single(results[i].GetProperty("chunks").EnumerateArray());
            Assert.Equal((0, inputs[i].Length), Offsets(chunk));
            Assert.Equal(inputs[i], chunk.GetProperty("text").GetString());
        }

        // 600 words are more than the model's 512 tokens: the route refuses rather than embed a truncated text.
        var tooLong = string.Join(' ', Enumerable.Repeat("hello", 600));
        using var client = fixture.Client();
        await AssertElasticErrorAsync(client, $"/_inference/text_embedding/{ChunkInferenceServer.Whole}/_chunk", new { input = tooLong },
            400, "maximum of 512 tokens");
    }

    [Fact]
    public async Task Chunk_refuses_other_task_types_and_applies_the_inference_limits_and_timeout()
    {
        using var client = fixture.Client();
        const string NotChunkable = "Chunked inference is not supported for task type";
        await AssertElasticErrorAsync(client, $"/_inference/rerank/{ChunkInferenceServer.Rerank}/_chunk", new { input = "a" }, 400, $"{NotChunkable} [rerank]");
        await AssertElasticErrorAsync(client, $"/_inference/{ChunkInferenceServer.Rerank}/_chunk", new { input = "a" }, 400, $"{NotChunkable} [rerank]");
        await AssertElasticErrorAsync(client, $"/_inference/completion/{ChunkInferenceServer.Completion}/_chunk", new { input = "a" }, 400, $"{NotChunkable} [completion]");
        await AssertElasticErrorAsync(client, $"/_inference/{ChunkInferenceServer.Completion}/_chunk", new { input = "a" }, 400, $"{NotChunkable} [completion]");
        await AssertElasticErrorAsync(client, $"/_inference/sparse_embedding/{ChunkInferenceServer.Words}/_chunk", new { input = "a" }, 400,
            "Requested task type [sparse_embedding] does not match the inference endpoint's task type [text_embedding]");
        await AssertElasticErrorAsync(client, $"/_inference/bad/{ChunkInferenceServer.Words}/_chunk", new { input = "a" }, 400, "Unknown task_type [bad]");
        await AssertElasticErrorAsync(client, "/_inference/text_embedding/no-such-endpoint/_chunk", new { input = "a" }, 404,
            "Inference endpoint not found [no-such-endpoint]", "resource_not_found_exception");

        await AssertElasticErrorAsync(client, $"/_inference/{ChunkInferenceServer.Words}/_chunk", new { input = Array.Empty<string>() }, 400,
            "Field [input] cannot be an empty array");
        await AssertElasticErrorAsync(client, $"/_inference/{ChunkInferenceServer.Words}/_chunk", new { input = Enumerable.Repeat("a", ChunkInferenceServer.MaxInputs + 1) }, 400,
            $"Too many inputs [{ChunkInferenceServer.MaxInputs + 1}], the maximum is [{ChunkInferenceServer.MaxInputs}]");
        var half = new string('x', ChunkInferenceServer.MaxInputBytes / 2 + 1);
        await AssertElasticErrorAsync(client, $"/_inference/{ChunkInferenceServer.Words}/_chunk", new { input = new[] { half, half } }, 413, "Input is too large");
        // Hundreds of chunks keep the deployment busy far longer than the 1 ms timeout (one document alone can finish before
        // the timer fires on a warm deployment).
        await AssertElasticErrorAsync(client, $"/_inference/{ChunkInferenceServer.Words}/_chunk?timeout=1ms",
            new { input = Enumerable.Repeat(LongDocument, ChunkInferenceServer.MaxInputBytes / LongDocument.Length - 1).ToArray() }, 408, "Request timed out");
    }

    [Fact]
    public async Task Preview_chunks_by_given_settings_by_an_endpoints_settings_or_by_the_default()
    {
        using var client = fixture.Client();
        string[] inputs = [LongDocument, CjkDocument];
        var given = await PreviewOkAsync(client, new { input = inputs, chunking_settings = new { strategy = "word", max_chunk_size = 10, overlap = 1 } });
        AssertPreview(given, inputs, ChunkingSettings.Word(10, 1));
        Assert.Equal("""{"strategy":"word","max_chunk_size":10,"overlap":1}""", given["chunking_settings"]!.ToJsonString());

        var byEndpoint = await PreviewOkAsync(client, new { input = inputs, inference_id = ChunkInferenceServer.Sentences });
        AssertPreview(byEndpoint, inputs, ChunkingSettings.Sentence(20, 1));
        Assert.Equal("""{"strategy":"sentence","max_chunk_size":20,"sentence_overlap":1}""", byEndpoint["chunking_settings"]!.ToJsonString());

        var byDefault = await PreviewOkAsync(client, new { input = LongDocument });
        AssertPreview(byDefault, [LongDocument], ChunkingSettings.Default);
        Assert.Equal("""{"strategy":"sentence","max_chunk_size":250,"sentence_overlap":1}""", byDefault["chunking_settings"]!.ToJsonString());
    }

    [Fact]
    public async Task Preview_refuses_invalid_settings_with_the_contract_messages_and_other_organizations_endpoints()
    {
        using var client = fixture.Client();
        await AssertProblemAsync(client, new { input = "a", chunking_settings = new { strategy = "sentence", max_chunk_size = 20, sentence_overlap = 2 } },
            400, "sentence_overlap[2] must be either 0 or 1");
        await AssertProblemAsync(client, new { input = "a", chunking_settings = new { strategy = "word", max_chunk_size = 10, overlap = 1, separators = new[] { "x" } } },
            400, "Word based chunking settings can not have the following settings: [separators]");
        await AssertProblemAsync(client, new { input = "a", chunking_settings = new { max_chunk_size = 10 } },
            400, "Can't generate Chunker without ChunkingStrategy provided");
        await AssertProblemAsync(client, new { input = "a", chunking_settings = new { strategy = "word", max_chunk_size = 5, overlap = 1 } },
            400, "[chunking_settings] Invalid value [5.0]. [max_chunk_size] must be a greater than or equal to [10.0]");
        await AssertProblemAsync(client, new { input = "a", inference_id = ChunkInferenceServer.Words, chunking_settings = new { strategy = "none" } },
            400, "[inference_id] and [chunking_settings] cannot both be given");
        await AssertProblemAsync(client, new { input = "a", inference_id = ChunkInferenceServer.Rerank }, 400, "does not chunk its inputs");
        await AssertProblemAsync(client, new { input = Array.Empty<string>() }, 400, "[input] cannot be an empty array");
        await AssertProblemAsync(client, new { input = "a", bogus = 1 }, 400, "[bogus] is not a field of a chunking preview");
        await AssertProblemAsync(client, new { input = "a", inference_id = "no-such-endpoint" }, 404, "Inference endpoint not found [no-such-endpoint]");

        // Another organization sees neither the endpoint's settings nor the endpoint.
        using var other = fixture.Client(await fixture.CreateOrganizationKeyAsync($"chunk{Guid.NewGuid():N}"[..20]));
        await AssertProblemAsync(other, new { input = "a", inference_id = ChunkInferenceServer.Words }, 404, $"Inference endpoint not found [{ChunkInferenceServer.Words}]");
        await AssertElasticErrorAsync(other, $"/_inference/{ChunkInferenceServer.Words}/_chunk", new { input = "a" }, 404,
            $"Inference endpoint not found [{ChunkInferenceServer.Words}]", "resource_not_found_exception");
    }

    private static void AssertPreview(JsonNode preview, string[] inputs, ChunkingSettings settings)
    {
        var results = preview["results"]!.AsArray();
        Assert.Equal(inputs.Length, results.Count);
        for (var i = 0; i < inputs.Length; i++)
        {
            var expected = Chunker.Chunk(inputs[i], settings);
            var chunks = results[i]!["chunks"]!.AsArray();
            Assert.Equal(expected.Select(c => (c.StartOffset, c.EndOffset)), chunks.Select(c => ((int)c!["start_offset"]!, (int)c["end_offset"]!)));
            foreach (var chunk in chunks)
            {
                var text = inputs[i][(int)chunk!["start_offset"]!..(int)chunk["end_offset"]!];
                Assert.Equal(text, (string?)chunk["text"]);
                Assert.Equal(Segmenter.CountWords(text), (int)chunk["word_count"]!);
            }
        }
    }

    private async Task<JsonNode> PreviewOkAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/api/chunking/preview", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, fixture.Explain($"{(int)response.StatusCode} {text}"));
        return JsonNode.Parse(text)!;
    }

    private async Task AssertProblemAsync(HttpClient client, object body, int status, string detail)
    {
        using var response = await client.PostAsJsonAsync("/api/chunking/preview", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, fixture.Explain($"{(int)response.StatusCode} {text}"));
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(text)!;
        Assert.Equal(status, (int)problem["status"]!);
        Assert.Contains(detail, (string?)problem["detail"], StringComparison.Ordinal);
    }

    private async Task<(HttpResponseMessage Response, JsonElement Json)> PostOkAsync(string path, object body)
    {
        using var client = fixture.Client();
        var response = await client.PostAsync(path, Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, fixture.Explain($"{(int)response.StatusCode} {text}"));
        return (response, JsonDocument.Parse(text).RootElement.Clone());
    }

    private async Task AssertElasticErrorAsync(HttpClient client, string path, object body, int status, string reason, string type = "status_exception")
    {
        using var response = await client.PostAsync(path, Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, fixture.Explain($"{path}: {(int)response.StatusCode} {text}"));
        Assert.Equal("Elasticsearch", Header(response, "X-Elastic-Product"));
        using var json = JsonDocument.Parse(text);
        var error = json.RootElement.GetProperty("error");
        Assert.Contains(reason, error.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Equal(status, json.RootElement.GetProperty("status").GetInt32());
    }

    private static (int Start, int End) Offsets(JsonElement chunk) =>
        (chunk.GetProperty("start_offset").GetInt32(), chunk.GetProperty("end_offset").GetInt32());

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(",", values)
            : throw new Xunit.Sdk.XunitException($"no header {name}");
}
