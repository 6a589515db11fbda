using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Infrastructure.Connectors.Outbound;

/// <summary>
/// What the HttpClient-based connectors share about one call: sending a JSON body with the endpoint's headers, mapping a
/// failed status with the connector's own rules, reading a JSON answer, and the errors of calls that got no usable answer.
/// </summary>
internal static class ProviderJson
{
    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json");

    /// <summary>
    /// Sends <paramref name="body"/> (none when null) with <paramref name="headers"/>; answers a successful response (the
    /// caller disposes it) or throws what <paramref name="onError"/> makes of a failed one.
    /// </summary>
    public static async Task<HttpResponseMessage> SendAsync(
        HttpClient http,
        HttpMethod method,
        Uri uri,
        JsonNode? body,
        IEnumerable<KeyValuePair<string, string>> headers,
        bool stream,
        Func<HttpResponseMessage, string, InferenceApiException> onError,
        CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, uri);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body));
            request.Content.Headers.ContentType = JsonMediaType;
        }

        request.Headers.Accept.ParseAdd(stream ? "text/event-stream" : "application/json");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            string text;
            try
            {
                text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or TimeoutException)
            {
                text = string.Empty;
            }

            throw onError(response, text);
        }
    }

    /// <summary>The answer's body as JSON; a body that is not JSON is <see cref="Malformed"/>.</summary>
    public static async Task<JsonNode?> ReadAsync(HttpResponseMessage response, string inferenceId, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return await JsonNode.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            throw Malformed(inferenceId, "the body is not JSON", ex);
        }
    }

    /// <summary>A stream that ended (cleanly or not) before its answer did: 502, naming the endpoint.</summary>
    public static InferenceApiException StreamEnded(string inferenceId, Exception? cause = null) =>
        new(502, InferenceApiException.StatusExceptionType,
            $"The provider closed the stream for request from inference entity id [{inferenceId}] before the answer ended", cause);

    /// <summary>A 2xx answer that is not the expected shape.</summary>
    public static InferenceApiException Malformed(string inferenceId, string what, Exception? cause = null) =>
        new(502, InferenceApiException.StatusExceptionType,
            $"Failed to parse the response for request from inference entity id [{inferenceId}]: {what}", cause);

    /// <summary>
    /// The contract's error of an exception out of a call: already mapped, the attempt timeout, a refused address, a
    /// network failure (after a stream began: <see cref="StreamEnded"/>). Null for the caller's own cancellation and bugs.
    /// </summary>
    public static InferenceApiException? Map(string inferenceId, IReadOnlyList<string> secrets, Exception exception, bool streamStarted)
    {
        if (exception is OperationCanceledException)
        {
            return null;
        }

        if (streamStarted && exception is IOException or HttpRequestException && ProviderHttpClients.FindTimeout(exception) is null)
        {
            return StreamEnded(inferenceId, exception);
        }

        return ProviderErrors.FromException(exception, inferenceId, secrets);
    }

    /// <summary>A JSON string value, or null.</summary>
    public static string? String(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    /// <summary>A JSON whole number, or null.</summary>
    public static int? Int(JsonNode? node) =>
        Number(node) is { } number && number >= int.MinValue && number <= int.MaxValue && number == Math.Floor(number) ? (int)number : null;

    /// <summary>A JSON number as a float, or null.</summary>
    public static float? Float(JsonNode? node) => Number(node) is { } number ? (float)number : null;

    /// <summary>
    /// A JSON number, whether parsed from text or built in memory (where <c>TryGetValue&lt;double&gt;</c> of an int fails),
    /// or null.
    /// </summary>
    public static double? Number(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.Number
            && double.TryParse(value.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var number)
            ? number
            : null;
}
