using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace WebConsole.Tests.Providers;

/// <summary>
/// Jina AI's API on loopback: <c>/v1/embeddings</c> (float or binary; <c>dimensions</c> honoured; usage
/// <see cref="FakeOpenAiServer.EmbeddingTokens"/>) and <c>/v1/rerank</c> (scores by
/// <see cref="FakeProviderServer.RelevanceOf"/>, <c>top_n</c> and <c>return_documents</c> honoured, usage
/// <see cref="RerankTokens"/>). Authentication is <c>Authorization: Bearer</c>; errors are <c>{"detail": ...}</c>.
/// </summary>
public sealed class FakeJinaAiServer : FakeProviderServer
{
    /// <inheritdoc />
    public override string ApiKey => "jina_fake_9c8b7a6d5e4f3a2b";

    /// <summary>The <c>total_tokens</c> of a rerank: the query's words once per document plus every document's words.</summary>
    public static int RerankTokens(string query, IReadOnlyList<string> documents) =>
        (WordCount(query) * documents.Count) + documents.Sum(WordCount);

    /// <inheritdoc />
    protected override string? KeyOf(FakeRequest request) =>
        request.Header("authorization") is { } auth && auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth["Bearer ".Length..] : null;

    /// <inheritdoc />
    protected override Task ErrorAsync(HttpContext context, int status, string message) =>
        WriteJsonAsync(context, status, new JsonObject { ["detail"] = message });

    /// <inheritdoc />
    protected override Task UnauthorizedAsync(HttpContext context, string? key) =>
        ErrorAsync(context, 401, $"Unauthorized: the API key {key} is invalid");

    /// <inheritdoc />
    protected override Task AnswerAsync(HttpContext context, FakeRequest request, JsonObject body, FakeFault? fault) => request.Path switch
    {
        "/v1/embeddings" => EmbeddingsAsync(context, body),
        "/v1/rerank" => RerankAsync(context, body),
        _ => ErrorAsync(context, 404, $"unknown path {request.Path}"),
    };

    private async Task EmbeddingsAsync(HttpContext context, JsonObject body)
    {
        var inputs = body["input"]!.AsArray().Select(t => t!.GetValue<string>()).ToList();
        var dimensions = body["dimensions"]?.GetValue<int>() ?? Dimensions;
        var binary = body["embedding_type"]?.GetValue<string>() == "binary";
        var tokens = FakeOpenAiServer.EmbeddingTokens(inputs);
        await WriteJsonAsync(context, 200, new JsonObject
        {
            ["model"] = body["model"]!.GetValue<string>(),
            ["object"] = "list",
            ["usage"] = new JsonObject { ["total_tokens"] = tokens, ["prompt_tokens"] = tokens },
            ["data"] = new JsonArray([.. inputs.Select((t, i) => (JsonNode)new JsonObject
            {
                ["object"] = "embedding",
                ["index"] = i,
                ["embedding"] = new JsonArray([.. (binary ? FakeCohereServer.BinaryOf(t, dimensions) : FakeOpenAiServer.EmbeddingOf(t, dimensions)).Select(v => (JsonNode)v)]),
            })]),
        });
    }

    private static async Task RerankAsync(HttpContext context, JsonObject body)
    {
        var query = body["query"]!.GetValue<string>();
        var documents = body["documents"]!.AsArray().Select(d => d!.GetValue<string>()).ToList();
        var topN = body["top_n"]?.GetValue<int>() ?? documents.Count;
        var returnDocuments = body["return_documents"]?.GetValue<bool>() ?? true;
        var ranked = documents.Select((d, i) => (Index: i, Score: RelevanceOf(query, d))).OrderByDescending(r => r.Score).Take(topN);
        await WriteJsonAsync(context, 200, new JsonObject
        {
            ["model"] = body["model"]!.GetValue<string>(),
            ["usage"] = new JsonObject { ["total_tokens"] = RerankTokens(query, documents) },
            ["results"] = new JsonArray([.. ranked.Select(r =>
            {
                var item = new JsonObject { ["index"] = r.Index, ["relevance_score"] = r.Score };
                if (returnDocuments)
                {
                    item["document"] = new JsonObject { ["text"] = documents[r.Index] };
                }

                return (JsonNode)item;
            })]),
        });
    }
}
