using WebConsole.Domain.Endpoints;
using WebConsole.Domain.Usage;
using WebConsole.Infrastructure.Identity;

namespace WebConsole.Infrastructure.Usage;

/// <summary>What one inference request consumed, as both REST surfaces report it.</summary>
/// <param name="Caller">Who asked.</param>
/// <param name="InferenceId">The endpoint that served the request.</param>
/// <param name="Service">The endpoint's service (<c>elasticsearch</c>, <c>elastic</c>, ...).</param>
/// <param name="TaskType">The task performed.</param>
/// <param name="ModelId">The model behind the endpoint, when it names one.</param>
/// <param name="InputTokens">Tokens read.</param>
/// <param name="OutputTokens">Tokens generated (so far, for a cancelled stream).</param>
/// <param name="Streamed">Whether the answer was streamed.</param>
/// <param name="Completed">False when the client went away or the request timed out before the answer ended.</param>
/// <param name="Surface">Where the request came in.</param>
/// <param name="RequestId">The request's id, unique per request; null lets the sink give it one (a stream needs its own).</param>
/// <param name="Failed">
/// With <paramref name="Completed"/> false: the request failed after work was done (an error mid-stream) rather than being
/// cancelled by its client or its deadline.
/// </param>
public sealed record InferenceUsage(
    CallerIdentity Caller,
    string InferenceId,
    string Service,
    TaskType TaskType,
    string? ModelId,
    int InputTokens,
    int OutputTokens,
    bool Streamed,
    bool Completed,
    Surface Surface = Surface.Inference,
    string? RequestId = null,
    bool Failed = false);

/// <summary>
/// Receives the usage of every inference request exactly once, streamed or not, cancelled streams included. Billing
/// (issue 8) implements it; the answer is the request's cost in the installation's currency, reported in
/// <c>x-webconsole-cost</c> and in a stream's final usage chunk. Implementations must be thread-safe and must not
/// depend on the request's cancellation token (a disconnected client's usage still counts).
/// </summary>
/// <remarks>
/// A non-streamed request calls <see cref="RecordAsync"/> once. A stream calls <see cref="BeginAsync"/> before its first
/// byte, <see cref="CheckpointAsync"/> while it runs and <see cref="RecordAsync"/> when it ends, all with the same
/// <see cref="InferenceUsage.RequestId"/>: the three build up one record, never two.
/// </remarks>
public interface IInferenceUsageSink
{
    /// <summary>
    /// Records the final usage and answers its cost. For a stream opened with <see cref="BeginAsync"/> this revises the
    /// stream's record (final tokens, cost and outcome) instead of adding one.
    /// </summary>
    ValueTask<decimal> RecordAsync(InferenceUsage usage, CancellationToken cancellationToken);

    /// <summary>
    /// Opens a stream's record (outcome in progress, the tokens so far) and completes once it is stored, so the stream's
    /// first byte is never sent unbilled. Throws, like <see cref="RecordAsync"/>, when the usage cannot be recorded.
    /// </summary>
    ValueTask BeginAsync(InferenceUsage usage, CancellationToken cancellationToken);

    /// <summary>
    /// Brings an open stream's record up to the tokens so far without waiting for the database: the answer completes once
    /// the checkpoint is stored or dropped, and never throws. Callers keep at most one checkpoint of a stream outstanding.
    /// </summary>
    Task CheckpointAsync(InferenceUsage usage);
}

/// <summary>The default until billing exists: records nothing, costs nothing.</summary>
public sealed class NoInferenceUsageSink : IInferenceUsageSink
{
    /// <inheritdoc />
    public ValueTask<decimal> RecordAsync(InferenceUsage usage, CancellationToken cancellationToken) => ValueTask.FromResult(0m);

    /// <inheritdoc />
    public ValueTask BeginAsync(InferenceUsage usage, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public Task CheckpointAsync(InferenceUsage usage) => Task.CompletedTask;
}
