using System.Text.Json;
using System.Text.Json.Nodes;
using WebConsole.Inference.Abstractions;

namespace WebConsole.Infrastructure.Connectors.Custom;

/// <summary>How a <c>text_embedding</c> response's numbers are read (<c>json_parser.embedding_type</c>).</summary>
public enum CustomEmbeddingType
{
    /// <summary><c>float</c> (the default): the numbers as they are.</summary>
    FloatValues,

    /// <summary><c>byte</c>: whole numbers from -128 to 127, one per dimension.</summary>
    ByteValues,

    /// <summary><c>bit</c> (also written <c>binary</c>): bytes that each pack eight dimensions.</summary>
    Bit,
}

/// <summary>
/// The <c>response.json_parser</c> of a <c>custom</c> endpoint: where its task type's results are in the provider's
/// answer. Each parser reads a whole response; a response of another shape throws <see cref="CustomResponseException"/>.
/// </summary>
public abstract record CustomResponseParser
{
    /// <summary>The <c>json_parser</c> object as stored and shown.</summary>
    public abstract JsonObject ToJson();
}

/// <summary><c>text_embeddings</c>: a path to a list with one list of numbers per input.</summary>
/// <param name="Embeddings">E.g. <c>$.data[*].embedding</c>.</param>
/// <param name="Type">How the numbers are read.</param>
public sealed record TextEmbeddingResponseParser(JsonPath Embeddings, CustomEmbeddingType Type) : CustomResponseParser
{
    /// <summary>The embeddings in response order (bytes and packed bits as their signed byte values).</summary>
    public IReadOnlyList<float[]> Parse(JsonElement response)
    {
        var entries = Embeddings.Evaluate(response).AsList();
        var embeddings = new List<float[]>(entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            try
            {
                var numbers = entries[i].AsList();
                var vector = new float[numbers.Count];
                for (var d = 0; d < numbers.Count; d++)
                {
                    vector[d] = Type == CustomEmbeddingType.FloatValues ? (float)numbers[d].AsNumber() : ReadByte(numbers[d]);
                }

                embeddings.Add(vector);
            }
            catch (CustomResponseException e)
            {
                throw new CustomResponseException($"Failed to parse text embedding entry [{i}], error: {e.Message}");
            }
        }

        return embeddings;
    }

    /// <summary>The number of dimensions a vector of <paramref name="length"/> values stands for.</summary>
    public int DimensionsOf(int length) => Type == CustomEmbeddingType.Bit ? length * 8 : length;

    /// <inheritdoc />
    public override JsonObject ToJson() => new()
    {
        ["text_embeddings"] = Embeddings.Text,
        ["embedding_type"] = Type switch
        {
            CustomEmbeddingType.ByteValues => "byte",
            CustomEmbeddingType.Bit => "bit",
            _ => "float",
        },
    };

    private static float ReadByte(JsonPathValue value)
    {
        var number = value.AsInt32();
        return number is >= sbyte.MinValue and <= sbyte.MaxValue
            ? number
            : throw new CustomResponseException($"Value [{number}] of field [{value.Location}] is out of the range of a byte [-128, 127]");
    }
}

/// <summary><c>token_path</c> and <c>weight_path</c>: per input, a list of tokens and a list of weights of the same size.</summary>
/// <param name="Tokens">E.g. <c>$.result.sparse_embeddings[*].embedding[*].token_id</c>.</param>
/// <param name="Weights">E.g. <c>$.result.sparse_embeddings[*].embedding[*].weight</c>.</param>
public sealed record SparseEmbeddingResponseParser(JsonPath Tokens, JsonPath Weights) : CustomResponseParser
{
    /// <summary>
    /// The weighted tokens of each input in response order, largest weight first; a token that appears twice keeps its
    /// largest weight (a token is a key of the answer's object). Numeric token ids become their text.
    /// </summary>
    public IReadOnlyList<SparseEmbedding> Parse(JsonElement response)
    {
        var tokens = Tokens.Evaluate(response).AsList();
        var weights = Weights.Evaluate(response).AsList();
        RequireSameSize(tokens.Count, weights.Count);
        var embeddings = new List<SparseEmbedding>(tokens.Count);
        for (var i = 0; i < tokens.Count; i++)
        {
            try
            {
                var entryTokens = tokens[i].AsList();
                var entryWeights = weights[i].AsList();
                RequireSameSize(entryTokens.Count, entryWeights.Count);
                var merged = new Dictionary<string, float>(StringComparer.Ordinal);
                for (var t = 0; t < entryTokens.Count; t++)
                {
                    var token = entryTokens[t].AsToken();
                    var weight = (float)entryWeights[t].AsNumber();
                    merged[token] = merged.TryGetValue(token, out var seen) ? Math.Max(seen, weight) : weight;
                }

                embeddings.Add(new SparseEmbedding(
                    [.. merged.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal)], IsTruncated: false));
            }
            catch (CustomResponseException e)
            {
                throw new CustomResponseException($"Failed to parse sparse embedding entry [{i}], error: {e.Message}");
            }
        }

        return embeddings;
    }

    /// <inheritdoc />
    public override JsonObject ToJson() => new()
    {
        ["token_path"] = Tokens.Text,
        ["weight_path"] = Weights.Text,
    };

    private static void RequireSameSize(int tokens, int weights)
    {
        if (tokens != weights)
        {
            throw new CustomResponseException(
                $"The extracted tokens list is size [{tokens}] but the weights list is size [{weights}]. The list sizes must be equal.");
        }
    }
}

/// <summary>
/// <c>relevance_score</c> (required), <c>reranked_index</c> and <c>document_text</c> (optional): parallel lists. Without
/// indices, the scores are taken to be in document order.
/// </summary>
/// <param name="Scores">E.g. <c>$.results[*].relevance_score</c>.</param>
/// <param name="Indices">E.g. <c>$.results[*].index</c>; null when the scores follow the documents' order.</param>
/// <param name="Documents">E.g. <c>$.results[*].document.text</c>; read to check the shape only, the answer's texts are the request's.</param>
public sealed record RerankResponseParser(JsonPath Scores, JsonPath? Indices, JsonPath? Documents) : CustomResponseParser
{
    /// <summary>The scored documents of a request of <paramref name="documentCount"/> documents, in response order.</summary>
    public IReadOnlyList<RerankedDocument> Parse(JsonElement response, int documentCount)
    {
        var scores = Read(Scores, response, "scores", v => (float)v.AsNumber());
        var indices = Indices is null ? null : Read(Indices, response, "indices", v => v.AsInt32());
        var documents = Documents is null ? null : Read(Documents, response, "documents", v => v.AsString());
        if (indices is not null && indices.Count != scores.Count)
        {
            throw new CustomResponseException($"The number of index fields [{indices.Count}] was not the same as the number of scores [{scores.Count}]");
        }

        if (documents is not null && documents.Count != scores.Count)
        {
            throw new CustomResponseException($"The number of document fields [{documents.Count}] was not the same as the number of scores [{scores.Count}]");
        }

        var ranked = new List<RerankedDocument>(scores.Count);
        for (var i = 0; i < scores.Count; i++)
        {
            var index = indices?[i] ?? i;
            if (index < 0 || index >= documentCount)
            {
                throw new CustomResponseException($"Rerank index [{index}] is out of range: the request had [{documentCount}] documents");
            }

            ranked.Add(new RerankedDocument(index, scores[i]));
        }

        return ranked;
    }

    /// <inheritdoc />
    public override JsonObject ToJson()
    {
        var json = new JsonObject { ["relevance_score"] = Scores.Text };
        if (Indices is not null)
        {
            json["reranked_index"] = Indices.Text;
        }

        if (Documents is not null)
        {
            json["document_text"] = Documents.Text;
        }

        return json;
    }

    private static List<T> Read<T>(JsonPath path, JsonElement response, string what, Func<JsonPathValue, T> convert)
    {
        try
        {
            var items = path.Evaluate(response).AsList();
            var values = new List<T>(items.Count);
            for (var i = 0; i < items.Count; i++)
            {
                values.Add(convert(items[i]));
            }

            return values;
        }
        catch (CustomResponseException e)
        {
            throw new CustomResponseException($"Failed to parse rerank {what}, error: {e.Message}");
        }
    }
}

/// <summary><c>completion_result</c>: a path to the generated text (a string, or a list whose first string is taken).</summary>
/// <param name="Result">E.g. <c>$.choices[*].message.content</c>.</param>
public sealed record CompletionResponseParser(JsonPath Result) : CustomResponseParser
{
    /// <summary>The generated text.</summary>
    public string Parse(JsonElement response)
    {
        var value = Result.Evaluate(response);
        if (value.Kind == JsonValueKind.String)
        {
            return value.AsString();
        }

        if (value.Kind != JsonValueKind.Array)
        {
            throw new CustomResponseException(
                $"Extracted field [{value.Location}] from path [{Result.Text}] is {JsonPath.Describe(value.Kind)}, expected a list or a string");
        }

        var items = value.AsList();
        return items.Count > 0
            ? items[0].AsString()
            : throw new CustomResponseException($"Extracted field [{value.Location}] from path [{Result.Text}] is an empty list");
    }

    /// <inheritdoc />
    public override JsonObject ToJson() => new() { ["completion_result"] = Result.Text };
}
