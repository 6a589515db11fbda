using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace WebConsole.Tests.Connectors.Custom;

/// <summary>One request the fake provider got.</summary>
/// <param name="Path">The path.</param>
/// <param name="Query">The raw query string, <c>?</c> included (empty when none).</param>
/// <param name="Headers">Every header, names lower-case.</param>
/// <param name="Body">The body as sent.</param>
public sealed record ProviderRequest(string Path, string Query, IReadOnlyDictionary<string, string> Headers, string Body)
{
    /// <summary>The body parsed as JSON.</summary>
    public JsonNode Json => JsonNode.Parse(Body)!;

    /// <summary>A header's value, or null.</summary>
    public string? Header(string name) => Headers.GetValueOrDefault(name.ToLowerInvariant());
}

/// <summary>
/// A provider with a bespoke JSON API on loopback Kestrel, for the <c>custom</c> service: every POST is recorded and
/// answered by path. Unless a test sets <see cref="Respond"/>, it speaks these formats (the answers follow from the
/// inputs, so tests can predict them):
/// <list type="bullet">
/// <item><c>/embed</c>: <c>{"texts":[...]}</c> → <c>{"data":[{"embedding":[len, vowels, words]}]}</c> (OpenAI-like)</item>
/// <item><c>/sparse</c>: <c>{"texts":[...]}</c> → <c>{"result":{"sparse_embeddings":[{"embedding":[{"token_id":n,"weight":w}]}]}}</c>
/// with one token per distinct word (its length as id, its count as weight; Alibaba-like)</item>
/// <item><c>/rerank</c>: <c>{"query":q,"documents":[...]}</c> → <c>{"results":[{"index":i,"relevance_score":s,"document":{"text":d}}]}</c>
/// scored by words shared with the query, best first, cut to <c>top_n</c> when sent (Cohere-like)</item>
/// <item><c>/complete</c>: <c>{"prompt":p}</c> → <c>{"choices":[{"message":{"content":"echo: p"}}]}</c> (OpenAI-like)</item>
/// </list>
/// Thread-safe.
/// </summary>
public sealed class CustomProviderServer : IAsyncDisposable
{
    private readonly ConcurrentQueue<ProviderRequest> _requests = new();
    private WebApplication? _app;

    /// <summary>The base address, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string BaseUrl { get; private set; } = string.Empty;

    /// <summary>Every request so far, in arrival order.</summary>
    public IReadOnlyList<ProviderRequest> Requests => [.. _requests];

    /// <summary>Overrides the answers: status and body for a request; null falls back to the formats above.</summary>
    public Func<ProviderRequest, (int Status, string Body)?>? Respond { get; set; }

    /// <summary>Starts on a free loopback port.</summary>
    public static async Task<CustomProviderServer> StartAsync()
    {
        var server = new CustomProviderServer();
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

    /// <summary>Forgets the requests so far.</summary>
    public void Clear() => _requests.Clear();

    /// <summary>The embedding the <c>/embed</c> format gives a text: its length, its vowels and its words.</summary>
    public static float[] EmbeddingOf(string text) =>
        [text.Length, text.Count(c => "aeiouAEIOU".Contains(c, StringComparison.Ordinal)), Words(text).Length];

    /// <summary>The words of a text (split on spaces, lower-case).</summary>
    public static string[] Words(string text) =>
        text.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync();
        var request = new ProviderRequest(
            context.Request.Path.Value ?? "/",
            context.Request.QueryString.Value ?? string.Empty,
            context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString(), StringComparer.Ordinal),
            body);
        _requests.Enqueue(request);

        var (status, answer) = Respond?.Invoke(request) ?? Answer(request);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(answer);
    }

    private static (int, string) Answer(ProviderRequest request)
    {
        JsonNode json;
        try
        {
            json = request.Json;
        }
        catch (JsonException e)
        {
            return (400, new JsonObject { ["error"] = new JsonObject { ["message"] = $"malformed body: {e.Message}" } }.ToJsonString());
        }

        switch (request.Path)
        {
            case "/embed":
                var texts = json["texts"]!.AsArray().Select(t => t!.GetValue<string>()).ToList();
                return (200, new JsonObject
                {
                    ["object"] = "list",
                    ["data"] = new JsonArray([.. texts.Select((t, i) => (JsonNode)new JsonObject
                    {
                        ["index"] = i,
                        ["embedding"] = new JsonArray([.. EmbeddingOf(t).Select(v => (JsonNode)v)]),
                    })]),
                    ["usage"] = new JsonObject { ["prompt_tokens"] = 99 },
                }.ToJsonString());
            case "/sparse":
                var sparse = json["texts"]!.AsArray().Select(t => t!.GetValue<string>()).ToList();
                return (200, new JsonObject
                {
                    ["result"] = new JsonObject
                    {
                        ["sparse_embeddings"] = new JsonArray([.. sparse.Select((t, i) => (JsonNode)new JsonObject
                        {
                            ["index"] = i,
                            ["embedding"] = new JsonArray([.. Words(t).GroupBy(w => w, StringComparer.Ordinal).Select(g => (JsonNode)new JsonObject
                            {
                                ["token_id"] = g.Key.Length,
                                ["weight"] = g.Count() / 10.0,
                            })]),
                        })]),
                    },
                }.ToJsonString());
            case "/rerank":
                var query = Words(json["query"]!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
                var documents = json["documents"]!.AsArray().Select(d => d!.GetValue<string>()).ToList();
                var ranked = documents
                    .Select((d, i) => (Index: i, Text: d, Score: Words(d).Count(query.Contains) / 10.0))
                    .OrderByDescending(r => r.Score).ThenBy(r => r.Index)
                    .Take(json["top_n"]?.GetValue<int>() ?? int.MaxValue);
                return (200, new JsonObject
                {
                    ["results"] = new JsonArray([.. ranked.Select(r => (JsonNode)new JsonObject
                    {
                        ["index"] = r.Index,
                        ["relevance_score"] = r.Score,
                        ["document"] = new JsonObject { ["text"] = r.Text },
                    })]),
                }.ToJsonString());
            case "/complete":
                return (200, new JsonObject
                {
                    ["id"] = "cmpl-1",
                    ["choices"] = new JsonArray(new JsonObject
                    {
                        ["index"] = 0,
                        ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = "echo: " + json["prompt"]!.GetValue<string>() },
                    }),
                }.ToJsonString());
            default:
                return (404, string.Create(CultureInfo.InvariantCulture, $"{{\"error\":{{\"message\":\"no route {request.Path}\"}}}}"));
        }
    }
}
