using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace WebConsole.Tests.Providers;

/// <summary>
/// The Gemini API on loopback: <c>/v1/models/{model}:batchEmbedContents</c> (no usage, as Gemini sends none;
/// <c>outputDimensionality</c> honoured), <c>:generateContent</c> and <c>:streamGenerateContent?alt=sse</c> (a candidate
/// a word each, the last with <c>finishReason</c> STOP and <c>usageMetadata</c>). The key comes in the <c>key</c> query
/// parameter; a wrong one is a 400 <c>INVALID_ARGUMENT</c> whose message, unlike Google's, repeats the key, to prove
/// WebConsole redacts it. Errors are <c>{"error": {"code", "message", "status"}}</c>.
/// </summary>
public sealed class FakeGoogleAiStudioServer : FakeProviderServer
{
    /// <inheritdoc />
    public override string ApiKey => "AIzaFake-3b2c1d0e9f8a7b6c";

    /// <inheritdoc />
    protected override string? KeyOf(FakeRequest request) =>
        Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(request.Query).TryGetValue("key", out var key) ? key.ToString() : null;

    /// <inheritdoc />
    protected override Task ErrorAsync(HttpContext context, int status, string message) =>
        WriteJsonAsync(context, status, new JsonObject
        {
            ["error"] = new JsonObject { ["code"] = status, ["message"] = message, ["status"] = status == 429 ? "RESOURCE_EXHAUSTED" : "INTERNAL" },
        });

    /// <inheritdoc />
    protected override Task UnauthorizedAsync(HttpContext context, string? key) =>
        WriteJsonAsync(context, 400, new JsonObject
        {
            ["error"] = new JsonObject { ["code"] = 400, ["message"] = $"API key not valid. Please pass a valid API key. [{key}]", ["status"] = "INVALID_ARGUMENT" },
        });

    /// <inheritdoc />
    protected override Task AnswerAsync(HttpContext context, FakeRequest request, JsonObject body, FakeFault? fault)
    {
        var action = request.Path.StartsWith("/v1/models/", StringComparison.Ordinal) && request.Path.Contains(':', StringComparison.Ordinal)
            ? request.Path[(request.Path.LastIndexOf(':') + 1)..]
            : null;
        return action switch
        {
            "batchEmbedContents" => EmbedAsync(context, body),
            "generateContent" => GenerateAsync(context, body, stream: false, fault),
            "streamGenerateContent" when request.Query.Contains("alt=sse", StringComparison.Ordinal) => GenerateAsync(context, body, stream: true, fault),
            _ => ErrorAsync(context, 404, $"unknown path {request.Path}"),
        };
    }

    private async Task EmbedAsync(HttpContext context, JsonObject body)
    {
        var requests = body["requests"]!.AsArray();
        await WriteJsonAsync(context, 200, new JsonObject
        {
            ["embeddings"] = new JsonArray([.. requests.Select(r =>
            {
                var text = r!["content"]!["parts"]![0]!["text"]!.GetValue<string>();
                var dimensions = r["outputDimensionality"]?.GetValue<int>() ?? Dimensions;
                return (JsonNode)new JsonObject { ["values"] = new JsonArray([.. FakeOpenAiServer.EmbeddingOf(text, dimensions).Select(v => (JsonNode)v)]) };
            })]),
        });
    }

    private static async Task GenerateAsync(HttpContext context, JsonObject body, bool stream, FakeFault? fault)
    {
        var contents = body["contents"]!.AsArray();
        var texts = contents.SelectMany(c => c!["parts"]!.AsArray()).Select(p => p!["text"]!.GetValue<string>()).ToList();
        var answer = FakeOpenAiServer.AnswerTo(texts[^1]);
        var usage = new JsonObject
        {
            ["promptTokenCount"] = FakeOpenAiServer.PromptTokens(texts),
            ["candidatesTokenCount"] = FakeOpenAiServer.CompletionTokens(answer),
            ["totalTokenCount"] = FakeOpenAiServer.PromptTokens(texts) + FakeOpenAiServer.CompletionTokens(answer),
        };
        if (!stream)
        {
            await WriteJsonAsync(context, 200, Candidate(answer, "STOP", usage));
            return;
        }

        StartEvents(context);
        var pieces = FakeOpenAiServer.Pieces(answer);
        var limit = PiecesBefore(fault);
        for (var i = 0; i < pieces.Count && i < limit; i++)
        {
            var last = i == pieces.Count - 1 && fault is null;
            await EventAsync(context, null, Candidate(pieces[i], last ? "STOP" : null, last ? usage : null));
        }

        if (fault is AbortStreamFault)
        {
            await AbortAsync(context);
        }
    }

    private static JsonObject Candidate(string text, string? finishReason, JsonObject? usage)
    {
        var candidate = new JsonObject
        {
            ["content"] = new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = text }), ["role"] = "model" },
            ["index"] = 0,
        };
        if (finishReason is not null)
        {
            candidate["finishReason"] = finishReason;
        }

        var answer = new JsonObject { ["candidates"] = new JsonArray(candidate), ["modelVersion"] = "gemini-fake" };
        if (usage is not null)
        {
            answer["usageMetadata"] = usage.DeepClone();
        }

        return answer;
    }
}
