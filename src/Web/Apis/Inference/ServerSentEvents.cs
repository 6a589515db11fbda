using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;

namespace WebConsole.Web.Apis.Inference;

/// <summary>
/// Writes <c>text/event-stream</c> exactly as the contracts frame it: <c>event: NAME\ndata: JSON\n\n</c> for Elasticsearch,
/// bare <c>data: JSON\n\n</c> for OpenAI; UTF-8 without a byte-order mark, flushed per event.
/// </summary>
internal sealed class ServerSentEvents(HttpResponse response) : IStreamOpening
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public bool Started { get; private set; }

    /// <summary>Sends the headers; nothing is buffered from here on.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await response.StartAsync(cancellationToken);
        Started = true;
    }

    /// <summary>One event; <paramref name="eventName"/> null writes OpenAI's bare <c>data:</c> line.</summary>
    public Task WriteAsync(string? eventName, JsonNode data, CancellationToken cancellationToken) =>
        WriteRawAsync(eventName, data.ToJsonString(), cancellationToken);

    /// <summary>One event with literal data, e.g. <c>[DONE]</c>.</summary>
    public async Task WriteRawAsync(string? eventName, string data, CancellationToken cancellationToken)
    {
        var text = eventName is null ? $"data: {data}\n\n" : $"event: {eventName}\ndata: {data}\n\n";
        await response.Body.WriteAsync(Utf8.GetBytes(text), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
