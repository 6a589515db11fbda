using System.Text.Json;
using WebConsole.Infrastructure.Connectors.Custom;

namespace WebConsole.Unit.Connectors.Custom;

public sealed class CustomResponseParsersTests
{
    [Fact]
    public void Text_embeddings_are_read_one_list_per_input()
    {
        var parser = new TextEmbeddingResponseParser(JsonPath.Parse("$.data[*].embedding"), CustomEmbeddingType.FloatValues);
        var vectors = Parse("""{"data":[{"embedding":[0.25,-1.5,3]},{"embedding":[1,2,3]}]}""", parser.Parse);
        Assert.Equal(2, vectors.Count);
        Assert.Equal([0.25f, -1.5f, 3f], vectors[0]);
        Assert.Equal(3, parser.DimensionsOf(vectors[0].Length));

        // Cohere's shape: a list of lists under a key.
        var cohere = new TextEmbeddingResponseParser(JsonPath.Parse("$.embeddings.float[*]"), CustomEmbeddingType.FloatValues);
        Assert.Equal([4f, 5f], Parse("""{"embeddings":{"float":[[4,5]]}}""", cohere.Parse)[0]);
    }

    [Fact]
    public void Byte_and_bit_embeddings_must_be_signed_bytes_and_bits_pack_eight_dimensions()
    {
        var bytes = new TextEmbeddingResponseParser(JsonPath.Parse("$.data[*].embedding"), CustomEmbeddingType.ByteValues);
        Assert.Equal([-128f, 0f, 127f], Parse("""{"data":[{"embedding":[-128,0,127]}]}""", bytes.Parse)[0]);
        var error = Assert.Throws<CustomResponseException>(() => Parse("""{"data":[{"embedding":[128]}]}""", bytes.Parse));
        Assert.Equal("Failed to parse text embedding entry [0], error: Value [128] of field [$.data[*].embedding[0]] is out of the range of a byte [-128, 127]", error.Message);
        Assert.Throws<CustomResponseException>(() => Parse("""{"data":[{"embedding":[0.5]}]}""", bytes.Parse));

        var bits = new TextEmbeddingResponseParser(JsonPath.Parse("$.data[*].embedding"), CustomEmbeddingType.Bit);
        Assert.Equal(16, bits.DimensionsOf(Parse("""{"data":[{"embedding":[-1,15]}]}""", bits.Parse)[0].Length));
    }

    [Fact]
    public void A_non_number_in_an_embedding_names_the_entry()
    {
        var parser = new TextEmbeddingResponseParser(JsonPath.Parse("$.data[*].embedding"), CustomEmbeddingType.FloatValues);
        var error = Assert.Throws<CustomResponseException>(() => Parse("""{"data":[{"embedding":[1]},{"embedding":["x"]}]}""", parser.Parse));
        Assert.Equal("Failed to parse text embedding entry [1], error: Unable to convert field [$.data[*].embedding[0]] of type [string] to a number", error.Message);
    }

    [Fact]
    public void Sparse_embeddings_pair_tokens_with_weights_per_input()
    {
        var parser = new SparseEmbeddingResponseParser(
            JsonPath.Parse("$.result.sparse_embeddings[*].embedding[*].token_id"),
            JsonPath.Parse("$.result.sparse_embeddings[*].embedding[*].weight"));
        var embeddings = Parse("""
            {"result":{"sparse_embeddings":[
              {"index":0,"embedding":[{"token_id":6,"weight":0.101},{"token_id":163040,"weight":0.28417},{"token_id":6,"weight":0.5}]},
              {"index":1,"embedding":[{"token_id":"hello","weight":1}]}]}}
            """, parser.Parse);

        Assert.Equal(2, embeddings.Count);
        // Largest weight first; a repeated token keeps its largest weight; numeric ids become their text.
        Assert.Equal([KeyValuePair.Create("6", 0.5f), KeyValuePair.Create("163040", 0.28417f)], embeddings[0].Weights);
        Assert.Equal([KeyValuePair.Create("hello", 1f)], embeddings[1].Weights);
        Assert.False(embeddings[0].IsTruncated);
    }

    [Fact]
    public void Sparse_token_and_weight_lists_of_different_sizes_are_an_error()
    {
        var parser = new SparseEmbeddingResponseParser(JsonPath.Parse("$.tokens[*]"), JsonPath.Parse("$.weights[*]"));
        var error = Assert.Throws<CustomResponseException>(() => Parse("""{"tokens":[["a","b"]],"weights":[[1]]}""", parser.Parse));
        Assert.Equal("Failed to parse sparse embedding entry [0], error: The extracted tokens list is size [2] but the weights list is size [1]. The list sizes must be equal.", error.Message);
    }

    [Fact]
    public void Rerank_reads_scores_with_or_without_indices()
    {
        const string response = """{"results":[{"index":3,"relevance_score":0.99,"document":"abc"},{"index":0,"relevance_score":0.32,"document":"super"}]}""";
        var withIndices = new RerankResponseParser(JsonPath.Parse("$.results[*].relevance_score"), JsonPath.Parse("$.results[*].index"), JsonPath.Parse("$.results[*].document"));
        var ranked = Parse(response, r => withIndices.Parse(r, documentCount: 4));
        Assert.Equal([(3, 0.99f), (0, 0.32f)], ranked.Select(d => (d.Index, d.RelevanceScore)));

        var scoresOnly = new RerankResponseParser(JsonPath.Parse("$.scores"), null, null);
        Assert.Equal([0, 1], Parse("""{"scores":[0.1,0.7]}""", r => scoresOnly.Parse(r, 2)).Select(d => d.Index));
        Assert.Equal("""{"relevance_score":"$.results[*].relevance_score","reranked_index":"$.results[*].index","document_text":"$.results[*].document"}""",
            withIndices.ToJson().ToJsonString());
    }

    [Fact]
    public void Rerank_refuses_indices_it_cannot_map_back_to_documents()
    {
        var parser = new RerankResponseParser(JsonPath.Parse("$.results[*].score"), JsonPath.Parse("$.results[*].index"), null);
        var error = Assert.Throws<CustomResponseException>(() => Parse("""{"results":[{"index":5,"score":1}]}""", r => parser.Parse(r, 2)));
        Assert.Equal("Rerank index [5] is out of range: the request had [2] documents", error.Message);

        var mismatch = new RerankResponseParser(JsonPath.Parse("$.scores"), JsonPath.Parse("$.indices"), null);
        Assert.Equal("The number of index fields [1] was not the same as the number of scores [2]",
            Assert.Throws<CustomResponseException>(() => Parse("""{"scores":[1,2],"indices":[0]}""", r => mismatch.Parse(r, 2))).Message);
    }

    [Fact]
    public void Completion_reads_a_string_or_the_first_of_a_list()
    {
        var list = new CompletionResponseParser(JsonPath.Parse("$.choices[*].message.content"));
        Assert.Equal("Hello!", Parse("""{"choices":[{"message":{"content":"Hello!"}},{"message":{"content":"Other"}}]}""", list.Parse));

        var single = new CompletionResponseParser(JsonPath.Parse("$.output.text"));
        Assert.Equal("Hi", Parse("""{"output":{"text":"Hi"}}""", single.Parse));

        var error = Assert.Throws<CustomResponseException>(() => Parse("""{"output":{"text":42}}""", single.Parse));
        Assert.Equal("Extracted field [$.output.text] from path [$.output.text] is a number, expected a list or a string", error.Message);
    }

    private static T Parse<T>(string json, Func<JsonElement, T> parse)
    {
        using var document = JsonDocument.Parse(json);
        return parse(document.RootElement);
    }
}
