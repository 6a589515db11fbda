using System.Globalization;
using System.Net;
using System.Text.Json;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Infrastructure.Connectors.Outbound;

/// <summary>
/// Maps a provider's failure onto the error Elasticsearch's inference plugin answers (its <c>BaseResponseHandler</c>
/// messages and status rules), keeping the provider's own message: e.g. <c>Received a rate limit status code for request
/// from inference entity id [x] status [429]. Error message: [...]</c>. As in Elasticsearch, a provider's 4xx keeps its
/// status and a 5xx becomes 400. Known secrets are redacted from every message.
/// </summary>
public static class ProviderErrors
{
    /// <summary><c>Received a server error status code</c>.</summary>
    public const string ServerError = "Received a server error status code";

    /// <summary><c>Received a server busy error status code</c> (OpenAI's 503).</summary>
    public const string ServerBusy = "Received a server busy error status code";

    /// <summary><c>Received a rate limit status code</c>.</summary>
    public const string RateLimit = "Received a rate limit status code";

    /// <summary><c>Received an authentication error status code</c>.</summary>
    public const string Authentication = "Received an authentication error status code";

    /// <summary><c>Received a permission denied error status code</c>.</summary>
    public const string PermissionDenied = "Received a permission denied error status code";

    /// <summary><c>Unhandled redirection</c>.</summary>
    public const string Redirection = "Unhandled redirection";

    /// <summary><c>Received a content too large status code</c>.</summary>
    public const string ContentTooLarge = "Received a content too large status code";

    /// <summary><c>Received an unsuccessful status code</c>.</summary>
    public const string Unsuccessful = "Received an unsuccessful status code";

    /// <summary><c>Received a bad request status code</c>.</summary>
    public const string BadRequestStatus = "Received a bad request status code";

    /// <summary><c>Received an input validation error response</c> (Mistral's 422).</summary>
    public const string InputValidation = "Received an input validation error response";

    /// <summary>The contract's 408 reason.</summary>
    public const string TimedOut = "Request timed out";

    // OpenAI's wording of a prompt over the context length, which Elasticsearch treats as content too large.
    private const string ContentTooLargeMessage = "Please reduce your prompt; or completion length.";

    /// <summary>
    /// The error of a failed response: reads the body (bounded) for the provider's message and maps the status.
    /// The response is left to the caller to dispose.
    /// </summary>
    public static async Task<InferenceApiException> FromResponseAsync(
        HttpResponseMessage response, string inferenceId, IEnumerable<string?>? secrets = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(response);
        string body;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or TimeoutException)
        {
            body = string.Empty;
        }

        return FromStatus((int)response.StatusCode, inferenceId, ExtractMessage(body), response.RequestMessage?.RequestUri, secrets);
    }

    /// <summary>
    /// The error of a provider status with the provider's message (null when it sent none), as Elasticsearch words it.
    /// </summary>
    public static InferenceApiException FromStatus(
        int status, string inferenceId, string? providerMessage, Uri? requestUri = null, IEnumerable<string?>? secrets = null)
    {
        var prefix = PrefixOf(status, providerMessage, requestUri);
        if (prefix == ContentTooLarge)
        {
            status = 413;
        }

        return WithPrefix(prefix, status, inferenceId, providerMessage, secrets);
    }

    /// <summary>
    /// The error of a provider status with a prefix the provider's own rules chose (e.g. Hugging Face's 503 is a rate
    /// limit, Anthropic's 529 is overloaded): <c>{prefix} for request from inference entity id [x] status [N]. Error
    /// message: [...]</c>, at <see cref="ToRestStatus"/> of the status, with <paramref name="type"/> (default
    /// <c>status_exception</c>).
    /// </summary>
    public static InferenceApiException WithPrefix(
        string prefix, int status, string inferenceId, string? providerMessage, IEnumerable<string?>? secrets = null, string? type = null)
    {
        var reason = string.IsNullOrEmpty(providerMessage)
            ? string.Create(CultureInfo.InvariantCulture, $"{prefix} for request from inference entity id [{inferenceId}] status [{status}]")
            : string.Create(CultureInfo.InvariantCulture, $"{prefix} for request from inference entity id [{inferenceId}] status [{status}]. Error message: [{providerMessage}]");
        return new InferenceApiException(ToRestStatus(status), type ?? InferenceApiException.StatusExceptionType, SecretRedaction.Redact(reason, secrets));
    }

    /// <summary>
    /// The prefix <see cref="FromStatus"/> gives a status, for connectors that keep the shared rules but change the
    /// wording of a few statuses.
    /// </summary>
    public static string PrefixOf(int status, string? providerMessage, Uri? requestUri) => status switch
    {
        500 => ServerError,
        503 => ServerBusy,
        > 500 => ServerError,
        429 => RateLimit,
        413 => ContentTooLarge,
        400 when providerMessage?.Contains(ContentTooLargeMessage, StringComparison.Ordinal) == true => ContentTooLarge,
        401 => Authentication,
        403 => PermissionDenied,
        >= 300 and < 400 => Redirection,
        422 => InputValidation,
        400 => BadRequestStatus,
        404 => $"Resource not found at [{SecretRedaction.DescribeUri(requestUri)}]",
        _ => Unsuccessful,
    };

    /// <summary>
    /// The error of a call that got no usable response: the attempt timeout (408 <c>Request timed out</c>), a refused
    /// destination (400 naming the address and the setting that allows it), a network failure (502 naming the cause),
    /// an error already mapped (unchanged). Null for anything else (a bug, left to become a 500).
    /// </summary>
    public static InferenceApiException? FromException(Exception exception, string inferenceId, IEnumerable<string?>? secrets = null)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is InferenceApiException api)
        {
            return api;
        }

        if (ProviderHttpClients.FindTimeout(exception) is { } timeout)
        {
            return new InferenceApiException(408, InferenceApiException.StatusExceptionType, TimedOut, timeout);
        }

        if (ProviderHttpClients.FindRefusal(exception) is { } refused)
        {
            return new InferenceApiException(400, InferenceApiException.StatusExceptionType,
                $"Failed to send request from inference entity id [{inferenceId}]: {refused.Message}", refused);
        }

        if (exception is HttpRequestException or IOException or System.Net.Sockets.SocketException)
        {
            var cause = SecretRedaction.Redact(Innermost(exception).Message, secrets);
            return new InferenceApiException(502, InferenceApiException.StatusExceptionType,
                $"Failed to send request from inference entity id [{inferenceId}]: {cause}", exception);
        }

        return null;
    }

    /// <summary>
    /// Elasticsearch's status of a provider's status: a known status below 500 is kept, everything else is 400.
    /// </summary>
    public static int ToRestStatus(int status) =>
        status is >= 300 and < 500 && Enum.IsDefined(typeof(HttpStatusCode), status) ? status : 400;

    /// <summary>
    /// The provider's message out of an error body: <c>error.message</c> (OpenAI and most others), <c>error</c> as a
    /// string, <c>message</c>, <c>detail</c> (a string, or FastAPI's list of <c>msg</c>); else the body itself when it is
    /// short plain text; null when there is nothing.
    /// </summary>
    public static string? ExtractMessage(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array && root.GetArrayLength() > 0)
            {
                root = root[0];
            }

            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("error", out var error))
                {
                    if (error.ValueKind == JsonValueKind.String)
                    {
                        return error.GetString();
                    }

                    if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var nested) && nested.ValueKind == JsonValueKind.String)
                    {
                        return nested.GetString();
                    }

                    if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("reason", out var reason) && reason.ValueKind == JsonValueKind.String)
                    {
                        return reason.GetString();
                    }
                }

                if (root.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
                {
                    return message.GetString();
                }

                if (root.TryGetProperty("detail", out var detail))
                {
                    if (detail.ValueKind == JsonValueKind.String)
                    {
                        return detail.GetString();
                    }

                    if (detail.ValueKind == JsonValueKind.Array)
                    {
                        var messages = detail.EnumerateArray()
                            .Select(d => d.ValueKind == JsonValueKind.Object && d.TryGetProperty("msg", out var msg) && msg.ValueKind == JsonValueKind.String ? msg.GetString() : null)
                            .Where(m => m is not null)
                            .ToList();
                        if (messages.Count > 0)
                        {
                            return string.Join("; ", messages);
                        }
                    }
                }
            }

            return null;
        }
        catch (JsonException)
        {
            var text = body.Trim();
            return text.Length <= 500 && !text.StartsWith('<') ? text : null;
        }
    }

    private static Exception Innermost(Exception exception)
    {
        var e = exception;
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }
}
