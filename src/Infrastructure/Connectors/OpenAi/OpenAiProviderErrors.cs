using WebConsole.Infrastructure.Connectors.Outbound;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Infrastructure.Connectors.OpenAi;

/// <summary>The errors of OpenAI-compatible calls that the shared <see cref="ProviderErrors"/> does not cover.</summary>
internal static class OpenAiProviderErrors
{
    /// <summary>A stream that ended (cleanly or not) before its answer did: 502, naming the endpoint.</summary>
    public static InferenceApiException StreamEnded(OpenAiTarget target, Exception? cause = null) =>
        new(502, InferenceApiException.StatusExceptionType,
            $"The provider closed the stream for request from inference entity id [{target.InferenceId}] before the answer ended", cause);

    /// <summary>An error object inside a stream (Elasticsearch's <c>Received an error response</c>).</summary>
    public static InferenceApiException StreamError(OpenAiTarget target, string? message) =>
        new(500, InferenceApiException.StatusExceptionType, SecretRedaction.Redact(
            string.IsNullOrEmpty(message)
                ? $"Received an error response for request from inference entity id [{target.InferenceId}]"
                : $"Received an error response for request from inference entity id [{target.InferenceId}]. Error message: [{message}]",
            target.Secrets));

    /// <summary>A 2xx answer that is not the expected shape.</summary>
    public static InferenceApiException Malformed(OpenAiTarget target, string what, Exception? cause = null) =>
        new(502, InferenceApiException.StatusExceptionType,
            $"Failed to parse the response for request from inference entity id [{target.InferenceId}]: {what}", cause);

    /// <summary>
    /// The contract's error of an exception out of a call: already mapped, the attempt timeout, a refused address, a
    /// network failure (after a stream began: <see cref="StreamEnded"/>). Null for the caller's own cancellation and bugs.
    /// </summary>
    public static InferenceApiException? Map(OpenAiTarget target, Exception exception, bool streamStarted)
    {
        if (exception is OperationCanceledException)
        {
            return null;
        }

        if (streamStarted && exception is IOException or HttpRequestException && ProviderHttpClients.FindTimeout(exception) is null)
        {
            return StreamEnded(target, exception);
        }

        return ProviderErrors.FromException(exception, target.InferenceId, target.Secrets);
    }
}
