using WebConsole.Inference.Abstractions;
using WebConsole.Inference.Generation;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;

namespace WebConsole.Web.Apis.Inference;

/// <summary>
/// Runs one streamed generation for either surface: errors before the first byte propagate (the caller answers a plain
/// HTTP error), errors after it become an error event; the usage is recorded exactly once, also when the client leaves
/// mid-stream (its disconnect cancels the generation through the deadline's token, which frees the allocation).
/// </summary>
internal sealed class GenerationStreamer(InferenceRunner runner, CallerIdentity caller, ResolvedEndpoint resolved, RequestDeadline deadline)
{
    public delegate Task UpdateWriter(GenerationUpdate update, bool first, CancellationToken cancellationToken);

    public delegate Task EndWriter(UsageDetails usage, decimal cost, CancellationToken cancellationToken);

    public delegate Task ErrorWriter(InferenceApiException error, CancellationToken cancellationToken);

    public async Task RunAsync(ServerSentEvents events, IAsyncEnumerable<GenerationUpdate> updates, UpdateWriter writeUpdate, EndWriter writeEnd, ErrorWriter writeError)
    {
        UsageDetails? reported = null;
        var count = 0;
        var recorded = false;
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
            await events.StartAsync(token);
            var first = true;
            while (more)
            {
                var update = enumerator.Current;
                count++;
                reported = update.Usage ?? reported;
                await writeUpdate(update, first, token);
                first = false;
                more = await enumerator.MoveNextAsync();
            }

            var usage = InferenceRunner.UsageSoFar(reported, count, null);
            recorded = true;
            var cost = await runner.RecordAsync(caller, resolved, usage, streamed: true, completed: true);
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

        async Task RecordOnceAsync(Exception failure)
        {
            // A failure before any token (overload, bad input) consumed nothing; a cancelled generation reports what it read and wrote.
            if (!recorded && (count > 0 || reported is not null || failure is GenerationCanceledException))
            {
                recorded = true;
                await runner.RecordAsync(caller, resolved, InferenceRunner.UsageSoFar(reported, count, failure), streamed: true, completed: false);
            }
        }
    }
}
