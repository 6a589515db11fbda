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
/// What the fake providers other than OpenAI's share: a loopback Kestrel server that records every request, checks the
/// key (a wrong one gets the provider's auth error repeating it, to prove WebConsole redacts it), and applies the queued
/// <see cref="FakeFault"/>s one a request (<see cref="FakeFault.Status"/>, <see cref="FakeFault.Hang"/> and
/// <see cref="FakeFault.Reset"/> here; stream cuts by the provider's own handler). Answers follow from the inputs
/// (<see cref="FakeOpenAiServer.EmbeddingOf"/>, <see cref="FakeOpenAiServer.AnswerTo"/>, <see cref="RelevanceOf"/>).
/// Thread-safe.
/// </summary>
public abstract class FakeProviderServer : IAsyncDisposable
{
    private readonly ConcurrentQueue<FakeRequest> _requests = new();
    private WebApplication? _app;

    /// <summary>The base address, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string BaseUrl { get; private set; } = string.Empty;

    /// <summary>The key the fake accepts.</summary>
    public abstract string ApiKey { get; }

    /// <summary>The embedding size the fake answers with (unless a request asks for one).</summary>
    public int Dimensions { get; set; } = 6;

    /// <summary>Faults for the next requests, one each, in order.</summary>
    public ConcurrentQueue<FakeFault> Faults { get; } = new();

    /// <summary>Every request so far, in arrival order.</summary>
    public IReadOnlyList<FakeRequest> Requests => [.. _requests];

    /// <summary>Starts a fake on a free loopback port.</summary>
    public static async Task<T> StartAsync<T>()
        where T : FakeProviderServer, new()
    {
        var server = new T();
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

    /// <summary>
    /// The relevance of a document to a query: how many of the query's words it holds, plus a little for shortness (so
    /// ties break predictably).
    /// </summary>
    public static float RelevanceOf(string query, string document)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(document);
        var words = document.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return query.Split(' ', StringSplitOptions.RemoveEmptyEntries).Count(q => words.Contains(q, StringComparer.Ordinal)) + (1f / (1 + document.Length));
    }

    /// <summary>Words of a text.</summary>
    public static int WordCount(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;

    /// <summary>Forgets the faults queued so far.</summary>
    public void ClearFaults() => Faults.Clear();

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _app.StopAsync(stop.Token);
            await _app.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>The key a request carries, or null.</summary>
    protected abstract string? KeyOf(FakeRequest request);

    /// <summary>The provider's error body and status.</summary>
    protected abstract Task ErrorAsync(HttpContext context, int status, string message);

    /// <summary>The provider's auth failure (its status and wording, repeating the key).</summary>
    protected abstract Task UnauthorizedAsync(HttpContext context, string? key);

    /// <summary>Answers an authorized request with no status fault (<paramref name="fault"/> may be a stream cut).</summary>
    protected abstract Task AnswerAsync(HttpContext context, FakeRequest request, JsonObject body, FakeFault? fault);

    /// <summary>Writes a JSON answer.</summary>
    protected static async Task WriteJsonAsync(HttpContext context, int status, JsonNode body)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(body);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    /// <summary>Starts an event stream.</summary>
    protected static void StartEvents(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/event-stream";
    }

    /// <summary>Writes one server-sent event (named when <paramref name="name"/> is given) and flushes it.</summary>
    protected static async Task EventAsync(HttpContext context, string? name, JsonNode data)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(data);
        var text = name is null ? $"data: {data.ToJsonString()}\n\n" : $"event: {name}\ndata: {data.ToJsonString()}\n\n";
        await context.Response.WriteAsync(text, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    /// <summary>Drops the connection after the client had time to read what was sent.</summary>
    protected static async Task AbortAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        // A reset discards data the client has not read yet.
        await Task.Delay(300, context.RequestAborted);
        context.Abort();
    }

    /// <summary>How many pieces a stream may send before <paramref name="fault"/> cuts it (all when none).</summary>
    protected static int PiecesBefore(FakeFault? fault) => fault switch
    {
        AbortStreamFault abort => abort.Chunks,
        TruncateStreamFault truncate => truncate.Chunks,
        _ => int.MaxValue,
    };

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

        var key = KeyOf(request);
        if (key != ApiKey)
        {
            await UnauthorizedAsync(context, key);
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

                await ErrorAsync(context, status.Code, status.Message);
                return;
            case HangFault:
                await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                return;
            case ResetFault:
                context.Abort();
                return;
        }

        await AnswerAsync(context, request, request.Json?.AsObject() ?? [], fault);
    }
}
