using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Generation;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Usage;

namespace WebConsole.Web.Apis.Inference;

/// <summary>
/// Runs one streamed generation for either surface: errors before the first byte propagate (the caller answers a plain
/// HTTP error), errors after it become an error event. The usage record is committed (in progress) before the first byte,
/// checkpointed every <see cref="UsageLedger.CheckpointInterval"/> while the stream runs and revised once when it ends,
/// also when the client leaves mid-stream (its disconnect cancels the generation through the deadline's token, which
/// frees the allocation); all under the request's id, so it stays one record.
/// </summary>
internal sealed class GenerationStreamer(InferenceRunner runner, CallerIdentity caller, ResolvedEndpoint resolved, RequestDeadline deadline)
{
    public delegate Task UpdateWriter(GenerationUpdate update, bool first, CancellationToken cancellationToken);

    public delegate Task EndWriter(UsageDetails usage, decimal cost, CancellationToken cancellationToken);

    public delegate Task ErrorWriter(InferenceApiException error, CancellationToken cancellationToken);

    /// <summary>The usage recorded for the stream and its cost, once recorded (also when it was cut short).</summary>
    public (UsageDetails Usage, decimal Cost)? Recorded { get; private set; }

    public async Task RunAsync(IStreamOpening events, IAsyncEnumerable<GenerationUpdate> updates, UpdateWriter writeUpdate, EndWriter writeEnd, ErrorWriter writeError)
    {
        UsageDetails? reported = null;
        var count = 0;
        var recorded = false;
        var checkpoint = Task.CompletedTask;
        var checkpointedAt = 0L;
        var token = deadline.Token;
        var enumerator = updates.GetAsyncEnumerator(token);
        try
        {
            bool more;
            try
            {
                more = await enumerator.MoveNextAsync();
            }
            catch (OperationCanceledException ex) when (deadline.TimedOut)
            {
                await RecordOnceAsync(ex);
                throw new InferenceApiException(408, InferenceApiException.StatusExceptionType, "Request timed out", ex);
            }

            // Once the first piece exists the request has been served in time; from here only the client ends it.
            deadline.Disarm();
            if (more)
            {
                Observe(enumerator.Current);
                await BeginAsync();
            }

            await events.StartAsync(token);
            var first = true;
            while (more)
            {
                await writeUpdate(enumerator.Current, first, token);
                first = false;
                more = await enumerator.MoveNextAsync();
                if (more)
                {
                    Observe(enumerator.Current);
                    CheckpointIfDue();
                }
            }

            var usage = InferenceRunner.UsageSoFar(reported, count, null);
            recorded = true;
            var cost = await runner.RecordAsync(caller, resolved, usage, streamed: true, completed: true);
            Recorded = (usage, cost);
            await writeEnd(usage, cost, token);
        }
        catch (Exception ex) when (events.Started)
        {
            await RecordOnceAsync(ex);
            if (!token.IsCancellationRequested)
            {
                var error = InferenceApiException.From(ex) ?? new InferenceApiException(500, "exception", "The generation failed", ex);
                try
                {
                    await writeError(error, token);
                }
                catch (Exception writeFailure) when (writeFailure is OperationCanceledException or IOException)
                {
                    // The client left while the error was written.
                }
            }
        }
        catch (Exception ex)
        {
            await RecordOnceAsync(ex);
            throw;
        }
        finally
        {
            await enumerator.DisposeAsync();
        }

        void Observe(GenerationUpdate update)
        {
            count++;
            reported = update.Usage ?? reported;
        }

        // The record exists before the first byte is sent: a server killed from here on leaves it billed up to its last
        // checkpoint. Refused (the ledger's buffer is full or the server stops), the stream is answered with the error.
        async Task BeginAsync()
        {
            try
            {
                await runner.BeginStreamAsync(caller, resolved, InferenceRunner.UsageSoFar(reported, count, null));
                checkpointedAt = runner.Time.GetTimestamp();
            }
            catch
            {
                recorded = true;
                throw;
            }
        }

        // Queued, not awaited: the stream never waits for the database, and a stream has at most one checkpoint queued.
        void CheckpointIfDue()
        {
            if (checkpoint.IsCompleted && runner.Time.GetElapsedTime(checkpointedAt) >= UsageLedger.CheckpointInterval)
            {
                checkpointedAt = runner.Time.GetTimestamp();
                checkpoint = runner.CheckpointStreamAsync(caller, resolved, InferenceRunner.UsageSoFar(reported, count, null));
            }
        }

        async Task RecordOnceAsync(Exception failure)
        {
            // A failure before any token (overload, bad input) consumed nothing; a cancelled generation reports what it read and wrote.
            if (!recorded && (count > 0 || reported is not null || failure is GenerationCanceledException))
            {
                recorded = true;
                var cancelled = failure is OperationCanceledException or IOException || token.IsCancellationRequested;
                var produced = Produced(failure);
                Recorded = (produced, await runner.RecordAsync(caller, resolved, produced, streamed: true, completed: false, failed: !cancelled));
            }
        }

        // A cancelled generation counts every token it made, also one not yet handed out as an update.
        UsageDetails Produced(Exception failure)
        {
            var soFar = InferenceRunner.UsageSoFar(reported, count, failure);
            return failure is GenerationCanceledException { Usage: var made } && made.OutputTokens > soFar.OutputTokens ? made : soFar;
        }
    }
}

/// <summary>
/// The moment a stream is committed to its client (the SSE headers sent; for a hub, the first item handed out): errors
/// before it are answered as plain errors, errors after it inside the stream.
/// </summary>
internal interface IStreamOpening
{
    bool Started { get; }

    Task StartAsync(CancellationToken cancellationToken);
}
