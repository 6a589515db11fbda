namespace WebConsole.Inference.Abstractions;

/// <summary>A failure of the inference layer that a surface maps to a status code.</summary>
public abstract class InferenceException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected InferenceException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>The deployment's queue is full (HTTP 429); the caller may retry later.</summary>
public sealed class InferenceOverloadedException(string message) : InferenceException(message);

/// <summary>The request cannot be served as given (HTTP 400), e.g. an input over the maximum length where truncation is off.</summary>
public sealed class InferenceInputException(string message) : InferenceException(message);

/// <summary>The model could not run (HTTP 503): files missing or unusable, the session failed.</summary>
public sealed class ModelUnavailableException(string modelId, string message, Exception? innerException = null)
    : InferenceException(message, innerException)
{
    /// <summary>The model that failed.</summary>
    public string ModelId { get; } = modelId;
}
