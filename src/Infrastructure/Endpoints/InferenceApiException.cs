using WebConsole.Domain;
using WebConsole.Inference.Abstractions;

namespace WebConsole.Infrastructure.Endpoints;

/// <summary>
/// An error of the <c>/_inference</c> surface with its HTTP status, Elasticsearch error type and reason. The web layer
/// writes it as the Elasticsearch error envelope; <see cref="From"/> maps the other exceptions onto it once.
/// </summary>
public sealed class InferenceApiException(int status, string type, string reason, Exception? innerException = null)
    : Exception(reason, innerException)
{
    /// <summary>Elasticsearch's type of validation errors and most others.</summary>
    public const string StatusExceptionType = "status_exception";

    /// <summary>The HTTP status.</summary>
    public int Status { get; } = status;

    /// <summary>The Elasticsearch error type, e.g. <c>status_exception</c>.</summary>
    public string Type { get; } = type;

    /// <summary>The reason shown to clients.</summary>
    public string Reason { get; } = reason;

    /// <summary>Response headers that go with the error (e.g. <c>Retry-After</c> and <c>x-ratelimit-*</c> on a 429).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; private init; } = [];

    /// <summary>The same error with these headers.</summary>
    public InferenceApiException WithHeaders(IReadOnlyList<KeyValuePair<string, string>> headers) =>
        new(Status, Type, Reason, InnerException) { Headers = headers };

    /// <summary>A 400 <c>status_exception</c>.</summary>
    public static InferenceApiException BadRequest(string reason) => new(400, StatusExceptionType, reason);

    /// <summary>404 <c>Inference endpoint not found [id]</c>.</summary>
    public static InferenceApiException EndpointNotFound(string inferenceId) =>
        new(404, "resource_not_found_exception", $"Inference endpoint not found [{inferenceId}]");

    /// <summary>400 <c>Unknown task_type [x]</c>.</summary>
    public static InferenceApiException UnknownTaskType(string? taskType) => BadRequest($"Unknown task_type [{taskType}]");

    /// <summary>400 <c>Requested task type [a] does not match the inference endpoint's task type [b]</c>.</summary>
    public static InferenceApiException TaskTypeMismatch(string requested, string actual) =>
        BadRequest($"Requested task type [{requested}] does not match the inference endpoint's task type [{actual}]");

    /// <summary>400 <c>[service_settings] does not contain the required setting [x]</c>.</summary>
    public static InferenceApiException MissingSetting(string name, string section = "service_settings") =>
        BadRequest($"[{section}] does not contain the required setting [{name}]");

    /// <summary>400 <c>Configuration contains settings [{k=v}] unknown to the [svc] service</c>.</summary>
    public static InferenceApiException UnknownSettings(string service, IEnumerable<KeyValuePair<string, string>> settings) =>
        BadRequest($"Configuration contains settings [{{{string.Join(", ", settings.Select(s => $"{s.Key}={s.Value}"))}}}] unknown to the [{service}] service");

    /// <summary>405 <c>Streaming is not allowed for service [s] and task [t]</c>.</summary>
    public static InferenceApiException StreamingNotAllowed(string service, string taskType) =>
        new(405, StatusExceptionType, $"Streaming is not allowed for service [{service}] and task [{taskType}]");

    /// <summary>
    /// Maps any exception of the layers below onto the contract's error (status, type, reason); null for exceptions that
    /// are bugs (the caller lets them become a 500).
    /// </summary>
    public static InferenceApiException? From(Exception exception) => exception switch
    {
        InferenceApiException api => api,
        DomainValidationException validation => new(400, StatusExceptionType, validation.Message, validation),
        InferenceInputException input => new(400, StatusExceptionType, input.Message, input),
        InferenceOverloadedException overloaded => new(429, StatusExceptionType, overloaded.Message, overloaded),
        Models.ModelNotReadyException notReady => new(408, StatusExceptionType, notReady.Message, notReady),
        ModelUnavailableException unavailable => new(503, StatusExceptionType, unavailable.Message, unavailable),
        Usage.UsageLedgerUnavailableException ledger => new(503, StatusExceptionType, ledger.Message, ledger),
        _ => null,
    };
}
