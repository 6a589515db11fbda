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

/// <summary>Streams <paramref name="Chunks"/> deltas, then sends Anthropic's <c>error</c> event of <paramref name="Type"/>.</summary>
public sealed record StreamErrorFault(int Chunks, string Type, string Message) : FakeFault;

/// <summary>
/// Anthropic's Messages API on loopback Kestrel (<c>POST /v1/messages</c>): the answer is <c>echo: {last user turn}</c>;
/// usage <c>input_tokens</c> = <see cref="InputTokens"/> of the system prompt and turns, <c>output_tokens</c> =
/// <see cref="FakeOpenAiServer.CompletionTokens"/> of the answer. Streams follow Anthropic's events: <c>message_start</c>
/// (with the input usage), <c>content_block_start</c>, <c>ping</c>, one <c>content_block_delta</c> a word
/// (<see cref="FakeOpenAiServer.Pieces"/>), <c>content_block_stop</c>, <c>message_delta</c> (stop reason and output usage),
/// <c>message_stop</c>. A request without <c>x-api-key: {ApiKey}</c> gets a 401 <c>authentication_error</c> repeating the
/// key; one without <c>anthropic-version</c> a 400. Queued <see cref="Faults"/> apply to the next requests. Thread-safe.
/// </summary>
public sealed class FakeAnthropicServer : IAsyncDisposable
{
    private readonly ConcurrentQueue<FakeRequest> _requests = new();
    private WebApplication? _app;

    /// <summary>The base address, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string BaseUrl { get; private set; } = string.Empty;

    /// <summary>The key the fake accepts.</summary>
    public string ApiKey { get; set; } = "sk-ant-fake-0123456789abcdef";

    /// <summary>Faults for the next requests, one each, in order.</summary>
    public ConcurrentQueue<FakeFault> Faults { get; } = new();

    /// <summary>Every request so far, in arrival order.</summary>
    public IReadOnlyList<FakeRequest> Requests => [.. _requests];

    /// <summary>Starts on a free loopback port.</summary>
    public static async Task<FakeAnthropicServer> StartAsync()
    {
        var server = new FakeAnthropicServer();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(server.HandleAsync);
        await app.StartAsync();
        server._app = app;
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        server.BaseUrl = $"http://127.0.0.1:{address.Port}";
        return server;
    }

    /// <summary>The <c>input_tokens</c> of a request: 7 plus the words of the system prompt and of every turn.</summary>
    public static int InputTokens(string? system, IEnumerable<string> turns) =>
        7 + Words(system ?? string.Empty) + turns.Sum(Words);

    /// <summary>Forgets the requests and faults so far.</summary>
    public void Clear()
    {
        _requests.Clear();
        Faults.Clear();
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

    private static int Words(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;

    private static string ErrorType(int status) => status switch
    {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var request = new FakeRequest(
            context.Request.Method, context.Request.Path.Value ?? "/", context.Request.QueryString.Value ?? string.Empty,
            context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()), body, Stopwatch.GetTimestamp());
        _requests.Enqueue(request);

        if (request.Header("x-api-key") is var key && key != ApiKey)
        {
            await ErrorAsync(context, 401, $"invalid x-api-key: {key}");
            return;
        }

        if (string.IsNullOrEmpty(request.Header("anthropic-version")))
        {
            await ErrorAsync(context, 400, "anthropic-version: header is required");
            return;
        }

        if (!request.Path.EndsWith("/messages", StringComparison.Ordinal))
        {
            await ErrorAsync(context, 404, $"Not found: {request.Path}");
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

                if (status.Code == 429)
                {
                    context.Response.Headers["anthropic-ratelimit-requests-limit"] = "50";
                    context.Response.Headers["anthropic-ratelimit-requests-remaining"] = "0";
                }

                await ErrorAsync(context, status.Code, status.Message);
                return;
            case HangFault:
                await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                return;
            case ResetFault:
                context.Abort();
                return;
        }

        var json = request.Json!.AsObject();
        var turns = json["messages"]!.AsArray().Select(m => (Role: m!["role"]!.GetValue<string>(), Text: m["content"]!.GetValue<string>())).ToList();
        var system = json["system"]?.GetValue<string>();
        var answer = FakeOpenAiServer.AnswerTo(turns.Last(t => t.Role == "user").Text);
        var input = InputTokens(system, turns.Select(t => t.Text));
        var output = FakeOpenAiServer.CompletionTokens(answer);
        var model = json["model"]!.GetValue<string>();
        if (json["stream"]?.GetValue<bool>() != true)
        {
            await WriteAsync(context, 200, new JsonObject
            {
                ["id"] = "msg_fake",
                ["type"] = "message",
                ["role"] = "assistant",
                ["model"] = model,
                ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = answer }),
                ["stop_reason"] = "end_turn",
                ["stop_sequence"] = null,
                ["usage"] = new JsonObject { ["input_tokens"] = input, ["output_tokens"] = output },
            });
            return;
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
        await EventAsync(context, "message_start", new JsonObject
        {
            ["type"] = "message_start",
            ["message"] = new JsonObject
            {
                ["id"] = "msg_fake", ["type"] = "message", ["role"] = "assistant", ["model"] = model, ["content"] = new JsonArray(),
                ["stop_reason"] = null, ["usage"] = new JsonObject { ["input_tokens"] = input, ["output_tokens"] = 1 },
            },
        });
        await EventAsync(context, "content_block_start", new JsonObject
        {
            ["type"] = "content_block_start", ["index"] = 0, ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = string.Empty },
        });
        await EventAsync(context, "ping", new JsonObject { ["type"] = "ping" });
        var pieces = FakeOpenAiServer.Pieces(answer);
        var limit = fault switch
        {
            AbortStreamFault abort => abort.Chunks,
            TruncateStreamFault truncate => truncate.Chunks,
            StreamErrorFault error => error.Chunks,
            _ => int.MaxValue,
        };
        for (var i = 0; i < pieces.Count && i < limit; i++)
        {
            await EventAsync(context, "content_block_delta", new JsonObject
            {
                ["type"] = "content_block_delta", ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = pieces[i] },
            });
        }

        switch (fault)
        {
            case AbortStreamFault:
                // Give the client time to read what was sent: a reset discards data it has not read yet.
                await Task.Delay(300, context.RequestAborted);
                context.Abort();
                return;
            case TruncateStreamFault:
                return;
            case StreamErrorFault error:
                await EventAsync(context, "error", new JsonObject
                {
                    ["type"] = "error", ["error"] = new JsonObject { ["type"] = error.Type, ["message"] = error.Message },
                });
                return;
        }

        await EventAsync(context, "content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = 0 });
        await EventAsync(context, "message_delta", new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = "end_turn", ["stop_sequence"] = null },
            ["usage"] = new JsonObject { ["output_tokens"] = output },
        });
        await EventAsync(context, "message_stop", new JsonObject { ["type"] = "message_stop" });
    }

    private static async Task EventAsync(HttpContext context, string name, JsonObject data)
    {
        await context.Response.WriteAsync($"event: {name}\ndata: {data.ToJsonString()}\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static Task ErrorAsync(HttpContext context, int status, string message) =>
        WriteAsync(context, status, new JsonObject
        {
            ["type"] = "error",
            ["error"] = new JsonObject { ["type"] = ErrorType(status), ["message"] = message },
        });

    private static async Task WriteAsync(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }
}
