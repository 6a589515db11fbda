using WebConsole.Inference.Abstractions;

namespace WebConsole.Inference.Generation;

/// <summary>
/// A generation stopped by its cancellation token. It is an <see cref="OperationCanceledException"/> (callers that only
/// know cancellation still work) that carries the tokens consumed so far, so billing and rate limits count them.
/// </summary>
public sealed class GenerationCanceledException(UsageDetails usage, CancellationToken cancellationToken)
    : OperationCanceledException("The generation was cancelled.", cancellationToken)
{
    /// <summary>Prompt tokens read and tokens generated before the cancellation.</summary>
    public UsageDetails Usage { get; } = usage;
}
