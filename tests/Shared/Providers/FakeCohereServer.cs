using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace WebConsole.Tests.Providers;

/// <summary>
/// Cohere's V2 API on loopback: <c>/v2/embed</c> (float, int8 and binary embeddings; usage in
/// <c>meta.billed_units.input_tokens</c>), <c>/v2/rerank</c> (scores by <see cref="FakeProviderServer.RelevanceOf"/>;
/// only <c>search_units</c> billed, so WebConsole counts tokens) and <c>/v2/chat</c> (plain, or Cohere's event stream:
/// <c>message-start</c>, <c>content-delta</c> a word each, <c>content-end</c>, <c>message-end</c> with the finish reason and
/// usage). Authentication is <c>Authorization: Bearer</c>; errors are <c>{"message": ...}</c>.
/// </summary>
public sealed class FakeCohereServer : FakeProviderServer
{
    /// <inheritdoc />
    public override string ApiKey => "co-fake-5e1d0c2b7a9f3e4d";

    /// <summary>The <c>int8</c> embedding of a text: <see cref="FakeOpenAiServer.EmbeddingOf"/> times 4, rounded and clamped.</summary>
    public static float[] Int8Of(string text, int dimensions) =>
        [.. FakeOpenAiServer.EmbeddingOf(text, dimensions).Select(v => (float)Math.Clamp(MathF.Round(v * 4), -128, 127))];

    /// <summary>The <c>binary</c> embedding of a text: <paramref name="dimensions"/>/8 signed bytes.</summary>
    public static float[] BinaryOf(string text, int dimensions)
    {
        ArgumentNullException.ThrowIfNull(text);
        return [.. Enumerable.Range(0, dimensions / 8).Select(i => (float)(sbyte)(text.Length * 17 + i))];
    }

    /// <inheritdoc />
    protected override string? KeyOf(FakeRequest request) =>
        request.Header("authorization") is { } auth && auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth["Bearer ".Length..] : null;

    /// <inheritdoc />
    protected override Task ErrorAsync(HttpContext context, int status, string message) =>
        WriteJsonAsync(context, status, new JsonObject { ["message"] = message });

    /// <inheritdoc />
    protected override Task UnauthorizedAsync(HttpContext context, string? key) =>
        ErrorAsync(context, 401, $"invalid api token {key}");

    /// <inheritdoc />
    protected override Task AnswerAsync(HttpContext context, FakeRequest request, JsonObject body, FakeFault? fault) =>
        // Any prefix is served (a gateway's path in front of /v2/...).
        request.Path.EndsWith("/v2/embed", StringComparison.Ordinal) ? EmbedAsync(context, body)
        : request.Path.EndsWith("/v2/rerank", StringComparison.Ordinal) ? RerankAsync(context, body)
        : request.Path.EndsWith("/v2/chat", StringComparison.Ordinal) ? ChatAsync(context, body, fault)
        : ErrorAsync(context, 404, $"unknown path {request.Path}");

    private async Task EmbedAsync(HttpContext context, JsonObject body)
    {
        var texts = body["texts"]!.AsArray().Select(t => t!.GetValue<string>()).ToList();
        var type = body["embedding_types"]![0]!.GetValue<string>();
        var vectors = texts.Select(t => type switch
        {
            "int8" => Int8Of(t, Dimensions),
            "binary" => BinaryOf(t, Dimensions),
            _ => FakeOpenAiServer.EmbeddingOf(t, Dimensions),
        });
        await WriteJsonAsync(context, 200, new JsonObject
        {
            ["id"] = "embed-fake",
            ["embeddings"] = new JsonObject { [type] = new JsonArray([.. vectors.Select(v => (JsonNode)new JsonArray([.. v.Select(x => (JsonNode)x)]))]) },
            ["texts"] = new JsonArray([.. texts.Select(t => (JsonNode)t)]),
            ["meta"] = new JsonObject
            {
                ["api_version"] = new JsonObject { ["version"] = "2" },
                ["billed_units"] = new JsonObject { ["input_tokens"] = FakeOpenAiServer.EmbeddingTokens(texts) },
            },
        });
    }

    private static async Task RerankAsync(HttpContext context, JsonObject body)
    {
        var query = body["query"]!.GetValue<string>();
        var documents = body["documents"]!.AsArray().Select(d => d!.GetValue<string>()).ToList();
        var topN = body["top_n"]?.GetValue<int>() ?? documents.Count;
        var ranked = documents.Select((d, i) => (Index: i, Score: RelevanceOf(query, d))).OrderByDescending(r => r.Score).Take(topN);
        await WriteJsonAsync(context, 200, new JsonObject
        {
            ["id"] = "rerank-fake",
            ["results"] = new JsonArray([.. ranked.Select(r => (JsonNode)new JsonObject { ["index"] = r.Index, ["relevance_score"] = r.Score })]),
            ["meta"] = new JsonObject { ["billed_units"] = new JsonObject { ["search_units"] = 1 } },
        });
    }

    private static async Task ChatAsync(HttpContext context, JsonObject body, FakeFault? fault)
    {
        var messages = body["messages"]!.AsArray();
        var answer = FakeOpenAiServer.AnswerTo(messages.Last(m => m!["role"]!.GetValue<string>() == "user")!["content"]!.GetValue<string>());
        var prompt = FakeOpenAiServer.PromptTokens(messages.Select(m => m!["content"]!.GetValue<string>()));
        var units = new JsonObject { ["input_tokens"] = prompt, ["output_tokens"] = FakeOpenAiServer.CompletionTokens(answer) };
        var usage = new JsonObject { ["billed_units"] = units, ["tokens"] = units.DeepClone() };
        if (body["stream"]?.GetValue<bool>() != true)
        {
            await WriteJsonAsync(context, 200, new JsonObject
            {
                ["id"] = "chat-fake",
                ["finish_reason"] = "COMPLETE",
                ["message"] = new JsonObject
                {
                    ["role"] = "assistant",
                    ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = answer }),
                },
                ["usage"] = usage,
            });
            return;
        }

        StartEvents(context);
        await EventAsync(context, "message-start", new JsonObject
        {
            ["id"] = "chat-fake", ["type"] = "message-start",
            ["delta"] = new JsonObject { ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = new JsonArray() } },
        });
        await EventAsync(context, "content-start", new JsonObject
        {
            ["type"] = "content-start", ["index"] = 0,
            ["delta"] = new JsonObject { ["message"] = new JsonObject { ["content"] = new JsonObject { ["type"] = "text", ["text"] = string.Empty } } },
        });
        var pieces = FakeOpenAiServer.Pieces(answer);
        var limit = PiecesBefore(fault);
        for (var i = 0; i < pieces.Count && i < limit; i++)
        {
            await EventAsync(context, "content-delta", new JsonObject
            {
                ["type"] = "content-delta", ["index"] = 0,
                ["delta"] = new JsonObject { ["message"] = new JsonObject { ["content"] = new JsonObject { ["text"] = pieces[i] } } },
            });
        }

        switch (fault)
        {
            case AbortStreamFault:
                await AbortAsync(context);
                return;
            case TruncateStreamFault:
                return;
        }

        await EventAsync(context, "content-end", new JsonObject { ["type"] = "content-end", ["index"] = 0 });
        await EventAsync(context, "message-end", new JsonObject
        {
            ["type"] = "message-end",
            ["delta"] = new JsonObject { ["finish_reason"] = "COMPLETE", ["usage"] = usage },
        });
    }
}
