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

/// <summary>
/// A Hugging Face Inference Endpoint on loopback Kestrel, speaking TEI's wire formats: <c>/embed</c> answers
/// <c>[[...]]</c> and <c>/feature-extraction</c> <c>{"embeddings": [[...]]}</c> (<see cref="FakeOpenAiServer.EmbeddingOf"/>
/// of each input at <see cref="Dimensions"/>), <c>/embed_sparse</c> one <c>{token: weight}</c> object per input
/// (<see cref="SparseOf"/>), <c>/rerank</c> <c>[{"index","score"}]</c> best first (<see cref="ScoreOf"/>), cut to
/// <c>top_n</c>. Chat is OpenAI-compatible on Hugging Face, so tests point it at a <see cref="FakeOpenAiServer"/>.
/// Requests without <c>Authorization: Bearer {Token}</c> get a 401 <c>{"error": "..."}</c> repeating what they sent.
/// Queued <see cref="Faults"/> apply to the next requests, one each. Thread-safe.
/// </summary>
public sealed class FakeHuggingFaceServer : IAsyncDisposable
{
    private readonly ConcurrentQueue<FakeRequest> _requests = new();
    private WebApplication? _app;

    /// <summary>The base address, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string BaseUrl { get; private set; } = string.Empty;

    /// <summary>The token the fake accepts.</summary>
    public string Token { get; set; } = "hf_fake_0123456789abcdefghij";

    /// <summary>The embedding size.</summary>
    public int Dimensions { get; set; } = 6;

    /// <summary>Faults for the next requests, one each, in order.</summary>
    public ConcurrentQueue<FakeFault> Faults { get; } = new();

    /// <summary>Every request so far, in arrival order.</summary>
    public IReadOnlyList<FakeRequest> Requests => [.. _requests];

    /// <summary>Starts on a free loopback port.</summary>
    public static async Task<FakeHuggingFaceServer> StartAsync()
    {
        var server = new FakeHuggingFaceServer();
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

    /// <summary>The sparse embedding of a text: each distinct lower-case word, weighted by its length / 10.</summary>
    public static IReadOnlyDictionary<string, float> SparseOf(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal)
            .ToDictionary(w => w, w => w.Length / 10f, StringComparer.Ordinal);
    }

    /// <summary>The score of a document: the query's words it holds, plus a small tie-breaker from its length.</summary>
    public static float ScoreOf(string query, string document)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(document);
        var words = document.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        return query.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries).Count(words.Contains) + (1f / (10 + document.Length));
    }

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

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var request = new FakeRequest(
            context.Request.Method, context.Request.Path.Value ?? "/", context.Request.QueryString.Value ?? string.Empty,
            context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()), body, Stopwatch.GetTimestamp());
        _requests.Enqueue(request);

        var auth = request.Header("authorization");
        if (auth != $"Bearer {Token}")
        {
            await WriteAsync(context, 401, new JsonObject { ["error"] = $"Authorization header is correct, but the token seems invalid: {auth}" });
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

                await WriteAsync(context, status.Code, new JsonObject { ["error"] = status.Message });
                return;
            case HangFault:
                await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                return;
            case ResetFault:
                context.Abort();
                return;
        }

        var json = request.Json?.AsObject() ?? [];
        var path = request.Path;
        if (path.EndsWith("/rerank", StringComparison.Ordinal))
        {
            var query = json["query"]!.GetValue<string>();
            var texts = json["texts"]!.AsArray().Select(t => t!.GetValue<string>()).ToList();
            var ranked = texts.Select((t, i) => (Index: i, Score: ScoreOf(query, t))).OrderByDescending(r => r.Score).ThenBy(r => r.Index)
                .Take(json["top_n"]?.GetValue<int>() ?? int.MaxValue);
            await WriteAsync(context, 200, new JsonArray([.. ranked.Select(r => (JsonNode)new JsonObject { ["index"] = r.Index, ["score"] = r.Score })]));
            return;
        }

        var inputs = json["inputs"] switch
        {
            JsonArray array => array.Select(i => i!.GetValue<string>()).ToList(),
            JsonValue value => [value.GetValue<string>()],
            _ => [],
        };
        if (path.EndsWith("/embed_sparse", StringComparison.Ordinal))
        {
            await WriteAsync(context, 200, new JsonArray([.. inputs.Select(i => (JsonNode)new JsonObject(
                SparseOf(i).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))))]));
        }
        else if (path.EndsWith("/embed", StringComparison.Ordinal) || path.EndsWith("/feature-extraction", StringComparison.Ordinal))
        {
            var vectors = new JsonArray([.. inputs.Select(i => (JsonNode)new JsonArray([.. FakeOpenAiServer.EmbeddingOf(i, Dimensions).Select(v => (JsonNode)v)]))]);
            await WriteAsync(context, 200, path.EndsWith("/embed", StringComparison.Ordinal) ? vectors : new JsonObject { ["embeddings"] = vectors });
        }
        else
        {
            await WriteAsync(context, 404, new JsonObject { ["error"] = $"Not Found: {path}" });
        }
    }

    private static async Task WriteAsync(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }
}
