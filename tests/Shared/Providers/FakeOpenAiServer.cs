using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WebConsole.Tests.Providers;

/// <summary>One request the fake provider got.</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">The path.</param>
/// <param name="Query">The raw query string, <c>?</c> included (empty when none).</param>
/// <param name="Headers">Every header, names lower-case.</param>
/// <param name="Body">The body as sent.</param>
/// <param name="ReceivedAt">When it arrived (a <see cref="Stopwatch"/> timestamp).</param>
public sealed record FakeRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, string Body, long ReceivedAt)
{
    /// <summary>The body parsed as JSON (null when there is none).</summary>
    public JsonNode? Json => string.IsNullOrEmpty(Body) ? null : JsonNode.Parse(Body);

    /// <summary>A header's value, or null.</summary>
    public string? Header(string name) => Headers.GetValueOrDefault(name.ToLowerInvariant());
}

/// <summary>A misbehaviour the fake provider shows for one request.</summary>
public abstract record FakeFault
{
    /// <summary>Answers the status with OpenAI's error body (and <c>Retry-After</c> seconds when given).</summary>
    public static FakeFault Status(int status, string message = "The server had an error while processing your request.", int? retryAfterSeconds = null) =>
        new StatusFault(status, message, retryAfterSeconds);

    /// <summary>Sends nothing until the client gives up.</summary>
    public static FakeFault Hang { get; } = new HangFault();

    /// <summary>Streams <paramref name="chunks"/> pieces, then drops the connection.</summary>
    public static FakeFault AbortStream(int chunks) => new AbortStreamFault(chunks);

    /// <summary>Streams <paramref name="chunks"/> pieces, then ends the response cleanly without a finish reason or <c>[DONE]</c>.</summary>
    public static FakeFault TruncateStream(int chunks) => new TruncateStreamFault(chunks);

    /// <summary>Closes the connection before answering.</summary>
    public static FakeFault Reset { get; } = new ResetFault();
}

/// <summary>See <see cref="FakeFault.Status"/>.</summary>
public sealed record StatusFault(int Code, string Message, int? RetryAfterSeconds) : FakeFault;

/// <summary>See <see cref="FakeFault.Hang"/>.</summary>
public sealed record HangFault : FakeFault;

/// <summary>See <see cref="FakeFault.AbortStream"/>.</summary>
public sealed record AbortStreamFault(int Chunks) : FakeFault;

/// <summary>See <see cref="FakeFault.TruncateStream"/>.</summary>
public sealed record TruncateStreamFault(int Chunks) : FakeFault;

/// <summary>See <see cref="FakeFault.Reset"/>.</summary>
public sealed record ResetFault : FakeFault;

/// <summary>
/// An OpenAI-compatible provider on loopback Kestrel, for the <c>openai</c>, <c>azureopenai</c>, <c>mistral</c>,
/// <c>groq</c> and <c>deepseek</c> connectors. Any path ending in <c>/embeddings</c> or <c>/chat/completions</c> is
/// served (so <c>/v1/...</c>, <c>/openai/v1/...</c> and Azure's <c>/openai/deployments/{d}/...</c> all work). Its
/// answers follow from the inputs so tests can predict them:
/// <list type="bullet">
/// <item>embeddings: <see cref="EmbeddingOf"/> of each input (<c>dimensions</c> from the request, else
/// <see cref="Dimensions"/>), as floats or base64 as asked; usage <c>prompt_tokens</c> = <see cref="EmbeddingTokens"/></item>
/// <item>chat: <c>echo: {last user message}</c>; usage <see cref="PromptTokens"/> and <see cref="CompletionTokens"/>
/// (word counts, unlike WebConsole's own estimate); streams send the answer a word a chunk, the finish reason, then a
/// usage chunk when <c>stream_options.include_usage</c> is set (with <see cref="UsageInFinishChunk"/>: in the finish
/// chunk, as Mistral does), then <c>[DONE]</c></item>
/// </list>
/// Requests without <c>Authorization: Bearer {ApiKey}</c> or <c>api-key: {ApiKey}</c> get a 401 whose message repeats the
/// key they sent (as OpenAI's does), to prove WebConsole redacts it. Queued <see cref="Faults"/> apply to the next
/// requests, one each. Thread-safe.
/// </summary>
public sealed class FakeOpenAiServer : IAsyncDisposable
{
    private readonly ConcurrentQueue<FakeRequest> _requests = new();
    private WebApplication? _app;

    /// <summary>The base address, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string BaseUrl { get; private set; } = string.Empty;

    /// <summary>The port.</summary>
    public int Port { get; private set; }

    /// <summary>The key the fake accepts.</summary>
    public string ApiKey { get; set; } = "sk-fake-0123456789abcdef";

    /// <summary>The embedding size when the request names none.</summary>
    public int Dimensions { get; set; } = 8;

    /// <summary>Whether the usage goes in the finish chunk (Mistral) instead of a usage chunk on request.</summary>
    public bool UsageInFinishChunk { get; set; }

    /// <summary>Faults for the next requests, one each, in order.</summary>
    public ConcurrentQueue<FakeFault> Faults { get; } = new();

    /// <summary>Every request so far, in arrival order.</summary>
    public IReadOnlyList<FakeRequest> Requests => [.. _requests];

    /// <summary>Starts on a free loopback port.</summary>
    public static async Task<FakeOpenAiServer> StartAsync()
    {
        var server = new FakeOpenAiServer();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server._app = app;
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        server.Port = address.Port;
        server.BaseUrl = $"http://127.0.0.1:{address.Port}";
        return server;
    }

    /// <summary>Forgets the requests and faults so far.</summary>
    public void Clear()
    {
        _requests.Clear();
        Faults.Clear();
    }

    /// <summary>The embedding of a text: its length, vowels, words, then 0.5, 0.25, ... up to the size.</summary>
    public static float[] EmbeddingOf(string text, int dimensions)
    {
        ArgumentNullException.ThrowIfNull(text);
        var vector = new float[dimensions];
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] = i switch
            {
                0 => text.Length,
                1 => text.Count(c => "aeiouAEIOU".Contains(c, StringComparison.Ordinal)),
                2 => Words(text).Length,
                _ => 1f / (1 << Math.Min(i - 2, 20)),
            };
        }

        return vector;
    }

    /// <summary>The <c>prompt_tokens</c> of an embeddings request: 3 per input plus its words.</summary>
    public static int EmbeddingTokens(IEnumerable<string> inputs) => inputs.Sum(i => 3 + Words(i).Length);

    /// <summary>The answer to a conversation: <c>echo: </c> and the last user message.</summary>
    public static string AnswerTo(string lastUserMessage) => $"echo: {lastUserMessage}";

    /// <summary>The <c>prompt_tokens</c> of a chat: 10 plus the words of every message.</summary>
    public static int PromptTokens(IEnumerable<string> messages) => 10 + messages.Sum(m => Words(m).Length);

    /// <summary>The <c>completion_tokens</c> of an answer: its words plus one.</summary>
    public static int CompletionTokens(string answer) => Words(answer).Length + 1;

    /// <summary>The pieces a streamed answer comes in: a word each (with its following space).</summary>
    public static IReadOnlyList<string> Pieces(string answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var words = answer.Split(' ');
        return [.. words.Select((w, i) => i < words.Length - 1 ? w + " " : w)];
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _app.StopAsync(stop.Token);
            await _app.DisposeAsync();
        }
    }

    private static string[] Words(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var request = new FakeRequest(
            context.Request.Method,
            context.Request.Path.Value ?? "/",
            context.Request.QueryString.Value ?? string.Empty,
            context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()),
            body,
            Stopwatch.GetTimestamp());
        _requests.Enqueue(request);

        var key = request.Header("api-key")
            ?? (request.Header("authorization") is { } auth && auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth["Bearer ".Length..] : null);
        if (key != ApiKey)
        {
            await ErrorAsync(context, 401, $"Incorrect API key provided: {key}. You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_api_key");
            return;
        }

        Faults.TryDequeue(out var fault);
        switch (fault)
        {
            case StatusFault status:
                if (status.RetryAfterSeconds is { } seconds)
                {
                    context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                }

                await ErrorAsync(context, status.Code, status.Message, null);
                return;
            case HangFault:
                await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                return;
            case ResetFault:
                context.Abort();
                return;
        }

        var json = request.Json?.AsObject() ?? [];
        if (request.Path.EndsWith("/embeddings", StringComparison.Ordinal))
        {
            await EmbeddingsAsync(context, json);
        }
        else if (request.Path.EndsWith("/chat/completions", StringComparison.Ordinal))
        {
            await ChatAsync(context, json, fault);
        }
        else
        {
            await ErrorAsync(context, 404, $"Unknown path {request.Path}", null);
        }
    }

    private async Task EmbeddingsAsync(HttpContext context, JsonObject json)
    {
        var inputs = json["input"] switch
        {
            JsonArray array => array.Select(i => i!.GetValue<string>()).ToList(),
            JsonValue value => [value.GetValue<string>()],
            _ => [],
        };
        var dimensions = json["dimensions"]?.GetValue<int>() ?? Dimensions;
        var base64 = json["encoding_format"]?.GetValue<string>() == "base64";
        var data = new JsonArray();
        for (var i = 0; i < inputs.Count; i++)
        {
            var vector = EmbeddingOf(inputs[i], dimensions);
            JsonNode embedding = base64
                ? Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector.AsSpan()))
                : new JsonArray([.. vector.Select(v => (JsonNode)v)]);
            data.Add(new JsonObject { ["object"] = "embedding", ["index"] = i, ["embedding"] = embedding });
        }

        // Answered out of order: a client must sort by index.
        var reversed = new JsonArray([.. data.Reverse().Select(d => d!.DeepClone())]);
        var tokens = EmbeddingTokens(inputs);
        await WriteJsonAsync(context, 200, new JsonObject
        {
            ["object"] = "list",
            ["data"] = reversed,
            ["model"] = json["model"]?.GetValue<string>() ?? "deployment",
            ["usage"] = new JsonObject { ["prompt_tokens"] = tokens, ["total_tokens"] = tokens },
        });
    }

    private async Task ChatAsync(HttpContext context, JsonObject json, FakeFault? fault)
    {
        var messages = json["messages"]!.AsArray().Select(m => m!["content"]!.GetValue<string>()).ToList();
        var lastUser = json["messages"]!.AsArray().Last(m => m!["role"]!.GetValue<string>() == "user")!["content"]!.GetValue<string>();
        var answer = AnswerTo(lastUser);
        var model = json["model"]?.GetValue<string>() ?? "deployment";
        var usage = new JsonObject
        {
            ["prompt_tokens"] = PromptTokens(messages),
            ["completion_tokens"] = CompletionTokens(answer),
            ["total_tokens"] = PromptTokens(messages) + CompletionTokens(answer),
        };
        if (json["stream"]?.GetValue<bool>() != true)
        {
            await WriteJsonAsync(context, 200, new JsonObject
            {
                ["id"] = "chatcmpl-fake",
                ["object"] = "chat.completion",
                ["created"] = 1700000000,
                ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = answer },
                    ["finish_reason"] = "stop",
                }),
                ["usage"] = usage,
            });
            return;
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        var pieces = Pieces(answer);
        var limit = fault switch
        {
            AbortStreamFault abort => abort.Chunks,
            TruncateStreamFault truncate => truncate.Chunks,
            _ => int.MaxValue,
        };
        await ChunkAsync(context, Chunk(model, new JsonObject { ["role"] = "assistant", ["content"] = string.Empty }, null));
        for (var i = 0; i < pieces.Count && i < limit; i++)
        {
            await ChunkAsync(context, Chunk(model, new JsonObject { ["content"] = pieces[i] }, null));
        }

        if (fault is AbortStreamFault)
        {
            // Give the client time to read what was sent: a reset discards data it has not read yet.
            await Task.Delay(300, context.RequestAborted);
            context.Abort();
            return;
        }

        if (fault is TruncateStreamFault)
        {
            return;
        }

        var finish = Chunk(model, new JsonObject(), "stop");
        if (UsageInFinishChunk)
        {
            finish["usage"] = usage.DeepClone();
        }

        await ChunkAsync(context, finish);
        if (!UsageInFinishChunk && json["stream_options"]?["include_usage"]?.GetValue<bool>() == true)
        {
            await ChunkAsync(context, new JsonObject
            {
                ["id"] = "chatcmpl-fake",
                ["object"] = "chat.completion.chunk",
                ["created"] = 1700000000,
                ["model"] = model,
                ["choices"] = new JsonArray(),
                ["usage"] = usage.DeepClone(),
            });
        }

        await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
    }

    private static JsonObject Chunk(string model, JsonObject delta, string? finishReason) => new()
    {
        ["id"] = "chatcmpl-fake",
        ["object"] = "chat.completion.chunk",
        ["created"] = 1700000000,
        ["model"] = model,
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finishReason }),
    };

    private static async Task ChunkAsync(HttpContext context, JsonObject chunk)
    {
        await context.Response.WriteAsync($"data: {chunk.ToJsonString()}\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static Task ErrorAsync(HttpContext context, int status, string message, string? code) =>
        WriteJsonAsync(context, status, new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = message, ["type"] = "invalid_request_error", ["param"] = null, ["code"] = code },
        });

    private static async Task WriteJsonAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }
}
