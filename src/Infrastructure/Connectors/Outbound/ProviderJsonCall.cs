using System.Globalization;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Infrastructure.Connectors.Outbound;

/// <summary>
/// One endpoint's JSON calls to its provider over a <see cref="ProviderHttpClients"/> client (guard, throttle, retries,
/// timeouts): typed bodies out, typed answers or server-sent events back, and every failure as the contract's error with
/// the endpoint's secrets redacted. Used by the connectors written on <see cref="HttpClient"/> (Cohere, Jina AI, Google AI
/// Studio). Thread-safe.
/// </summary>
internal sealed class ProviderJsonCall(HttpClient http, string inferenceId, IReadOnlyList<string> secrets, IReadOnlyList<KeyValuePair<string, string>> headers)
{
    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json");

    /// <summary>The endpoint's id, as errors name it.</summary>
    public string InferenceId => inferenceId;

    /// <summary>Secret values kept out of every message.</summary>
    public IReadOnlyList<string> Secrets => secrets;

    /// <summary>Posts <paramref name="body"/> and reads the answer as <typeparamref name="TResponse"/>; failures mapped.</summary>
    public async Task<TResponse> PostAsync<TRequest, TResponse>(Uri uri, TRequest body, JsonSerializerOptions options, CancellationToken cancellationToken)
        where TResponse : class
    {
        try
        {
            using var response = await SendAsync(uri, body, options, stream: false, cancellationToken).ConfigureAwait(false);
            TResponse? parsed;
            try
            {
                await using var content = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                parsed = await JsonSerializer.DeserializeAsync<TResponse>(content, options, cancellationToken).ConfigureAwait(false);
            }
            catch (JsonException ex)
            {
                throw Malformed("the body is not the expected JSON", ex);
            }

            return parsed ?? throw Malformed("the body is empty");
        }
        catch (Exception ex) when (Map(ex, streamStarted: false) is { } mapped && !ReferenceEquals(mapped, ex))
        {
            throw mapped;
        }
    }

    /// <summary>
    /// Posts <paramref name="body"/> asking for an event stream and hands out its events' data as JSON as they arrive. The
    /// caller wraps its own enumeration with <see cref="MapStream{T}"/> so failures midway become the contract's errors.
    /// </summary>
    public async IAsyncEnumerable<JsonElement> StreamAsync<TRequest>(
        Uri uri, TRequest body, JsonSerializerOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var response = await SendAsync(uri, body, options, stream: true, cancellationToken).ConfigureAwait(false);
        await using var content = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var item in SseParser.Create(content).EnumerateAsync(cancellationToken).ConfigureAwait(false))
        {
            if (string.IsNullOrWhiteSpace(item.Data) || item.Data == "[DONE]")
            {
                continue;
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(item.Data);
            }
            catch (JsonException ex)
            {
                throw Malformed("a stream event is not JSON", ex);
            }

            using (document)
            {
                if (item.EventType == "error" || document.RootElement.TryGetProperty("error", out _))
                {
                    throw StreamError(ProviderErrors.ExtractMessage(item.Data));
                }

                yield return document.RootElement.Clone();
            }
        }
    }

    /// <summary>A stream event as <typeparamref name="T"/>; a shape that does not fit is <see cref="Malformed"/>.</summary>
    public T? Parse<T>(JsonElement element, JsonSerializerOptions options)
    {
        try
        {
            return element.Deserialize<T>(options);
        }
        catch (JsonException ex)
        {
            throw Malformed("a stream event is not the expected JSON", ex);
        }
    }

    /// <summary><paramref name="source"/> with its failures mapped (a cut connection after the first piece: <see cref="StreamEnded"/>).</summary>
    public IAsyncEnumerable<T> MapStream<T>(IAsyncEnumerable<T> source, CancellationToken cancellationToken) =>
        MapStreamCore(source, cancellationToken);

    /// <summary>
    /// The contract's error of an exception out of a call: already mapped, the attempt timeout, a refused address, a
    /// network failure (after a stream began: <see cref="StreamEnded"/>). Null for the caller's own cancellation and bugs.
    /// </summary>
    public InferenceApiException? Map(Exception exception, bool streamStarted)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return ProviderJson.Map(inferenceId, secrets, exception, streamStarted);
    }

    /// <summary>A stream that ended (cleanly or not) before its answer did: 502, naming the endpoint.</summary>
    public InferenceApiException StreamEnded(Exception? cause = null) => ProviderJson.StreamEnded(inferenceId, cause);

    /// <summary>An error inside a stream (Elasticsearch's <c>Received an error response</c>).</summary>
    public InferenceApiException StreamError(string? message) =>
        new(500, InferenceApiException.StatusExceptionType, SecretRedaction.Redact(
            string.IsNullOrEmpty(message)
                ? $"Received an error response for request from inference entity id [{inferenceId}]"
                : $"Received an error response for request from inference entity id [{inferenceId}]. Error message: [{message}]",
            secrets));

    /// <summary>A 2xx answer that is not the expected shape.</summary>
    public InferenceApiException Malformed(string what, Exception? cause = null) => ProviderJson.Malformed(inferenceId, what, cause);

    private async IAsyncEnumerable<T> MapStreamCore<T>(IAsyncEnumerable<T> source, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var enumerator = source.GetAsyncEnumerator(cancellationToken);
        await using (enumerator.ConfigureAwait(false))
        {
            var started = false;
            while (true)
            {
                bool more;
                try
                {
                    more = await enumerator.MoveNextAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (Map(ex, started) is { } mapped && !ReferenceEquals(mapped, ex))
                {
                    throw mapped;
                }

                if (!more)
                {
                    break;
                }

                started = true;
                yield return enumerator.Current;
            }
        }
    }

    private async Task<HttpResponseMessage> SendAsync<TRequest>(Uri uri, TRequest body, JsonSerializerOptions options, bool stream, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, options)),
        };
        request.Content.Headers.ContentType = JsonMediaType;
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
            throw await ProviderErrors.FromResponseAsync(response, inferenceId, secrets, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>Settings that the HttpClient-based connectors read alike, with Elasticsearch's names and messages.</summary>
internal static class ConnectorSettings
{
    /// <summary>The input of the probe calls, as Elasticsearch sends it.</summary>
    public const string ProbeInput = "how big";

    /// <summary>The query of a rerank probe.</summary>
    public const string ProbeQuery = "test query";

    /// <summary>The similarities of <c>similarity</c>.</summary>
    public static readonly string[] Similarities = ["cosine", "dot_product", "l2_norm"];

    /// <summary>The wire names of <c>input_type</c>.</summary>
    public static readonly string[] InputTypes = ["classification", "clustering", "ingest", "search"];

    /// <summary><c>similarity</c>, lower-cased; 400 when not one of <see cref="Similarities"/>.</summary>
    public static string? Similarity(JsonSettings map) => OneOf(map, "similarity", Similarities, "service_settings");

    /// <summary>An optional string that must be one of <paramref name="allowed"/> (case-insensitive), lower-cased.</summary>
    public static string? OneOf(JsonSettings map, string key, IReadOnlyList<string> allowed, string section)
    {
        ArgumentNullException.ThrowIfNull(map);
        var value = map.OptionalString(key)?.ToLowerInvariant();
        if (value is not null && !allowed.Contains(value))
        {
            throw InferenceApiException.BadRequest(
                $"[{section}] Invalid value [{value}] received. [{key}] must be one of [{string.Join(", ", allowed)}]");
        }

        return value;
    }

    /// <summary>An optional positive integer; 400 naming it otherwise.</summary>
    public static int? PositiveInt(JsonSettings map, string key, string section = "service_settings")
    {
        ArgumentNullException.ThrowIfNull(map);
        var value = map.OptionalInt(key);
        return value is < 1
            ? throw InferenceApiException.BadRequest($"[{section}] Invalid value [{value}]. [{key}] must be a positive integer")
            : value;
    }

    /// <summary>An optional absolute http(s) URL; 400 naming it otherwise.</summary>
    public static string? Url(JsonSettings map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var url = map.OptionalString("url");
        if (url is not null && !(Uri.TryCreate(url, UriKind.Absolute, out var parsed) && (parsed.Scheme == Uri.UriSchemeHttp || parsed.Scheme == Uri.UriSchemeHttps)))
        {
            throw InferenceApiException.BadRequest($"[service_settings] Invalid url [{url}] received for field [url]. [url] must be an absolute http or https URL");
        }

        return url;
    }

    /// <summary>Rejects a task type the service lacks, as Elasticsearch words it.</summary>
    public static void RequireTaskType(string service, IReadOnlyList<Domain.Endpoints.TaskType> supported, Domain.Endpoints.TaskType taskType)
    {
        if (!supported.Contains(taskType))
        {
            throw InferenceApiException.BadRequest($"The [{service}] service does not support task type [{Domain.Endpoints.TaskTypes.ToWireName(taskType)}]");
        }
    }

    /// <summary>The operator's base URL of the service (<c>Connectors:BaseUrls:{service}</c>), else the provider's.</summary>
    public static Uri BaseUrl(ProviderHttpClients clients, string service, Uri defaultBaseUrl)
    {
        ArgumentNullException.ThrowIfNull(clients);
        return clients.Options.BaseUrls.TryGetValue(service, out var configured) ? configured : defaultBaseUrl;
    }

    /// <summary><paramref name="baseUrl"/> with <paramref name="path"/> appended (and an optional query).</summary>
    public static Uri Append(Uri baseUrl, string path, string? query = null)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        var builder = new UriBuilder(baseUrl);
        builder.Path = builder.Path.TrimEnd('/') + path;
        if (query is not null)
        {
            builder.Query = query;
        }

        return builder.Uri;
    }

    /// <summary>
    /// The request URL of <paramref name="path"/> under a tenant's <c>url</c>: the URL itself when it already ends with the
    /// path (a full request URL), else the URL as a base.
    /// </summary>
    public static Uri Resolve(Uri url, string path)
    {
        ArgumentNullException.ThrowIfNull(url);
        return url.AbsolutePath.TrimEnd('/').EndsWith(path, StringComparison.OrdinalIgnoreCase) ? url : Append(url, path);
    }

    /// <summary>The call options of an endpoint's calls: its throttle key and rate, and the operator's attempt timeout.</summary>
    public static ProviderCallOptions CallOptions(ProviderHttpClients clients, string service, string throttleKey, string inferenceId, int requestsPerMinute) =>
        new(service, throttleKey, requestsPerMinute, clients.Options.AttemptTimeout) { InferenceId = inferenceId };

    /// <summary>
    /// Runs a creation probe: a failure is Elasticsearch's 400 <c>Could not complete inference endpoint creation as
    /// validation call to service threw an exception</c>, keeping the provider's message; a size mismatch stays as it is.
    /// </summary>
    public static async Task<T> ProbeAsync<T>(Func<Task<T>> probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        try
        {
            return await probe().ConfigureAwait(false);
        }
        catch (InferenceApiException ex) when (ex.Status != 400 || !ex.Reason.StartsWith("The retrieved embeddings size", StringComparison.Ordinal))
        {
            throw new InferenceApiException(400, InferenceApiException.StatusExceptionType,
                $"Could not complete inference endpoint creation as validation call to service threw an exception. {ex.Reason}", ex);
        }
    }

    /// <summary>The 400 of a probed embedding size that differs from the tenant's <c>dimensions</c>.</summary>
    public static InferenceApiException DimensionsMismatch(int size, int dimensions, string inferenceId) =>
        InferenceApiException.BadRequest(string.Create(CultureInfo.InvariantCulture,
            $"The retrieved embeddings size [{size}] does not match the size specified in the settings [{dimensions}]. Please recreate the [{inferenceId}] configuration with the correct dimensions"));

    /// <summary>Adds a string to a JSON object when it is not null.</summary>
    public static void AddIfPresent(JsonObject json, string key, JsonNode? value)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (value is not null)
        {
            json[key] = value;
        }
    }

    /// <summary>About four characters a token: the count when a provider reports no usage.</summary>
    public static int EstimateTokens(string text) => (text.Length + 3) / 4;
}
