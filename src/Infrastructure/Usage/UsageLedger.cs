using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebConsole.Domain.Usage;
using WebConsole.Infrastructure.Billing;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Usage;

/// <summary>
/// The usage ledger: one <see cref="UsageRecord"/> per inference request, priced by the <see cref="PriceBook"/>, committed
/// before the caller answers. Concurrent requests share one write (group commit): a single background writer takes
/// everything queued while the previous write ran and saves it in one <c>SaveChanges</c>; each caller's task completes
/// once its record is committed. While the database is unavailable, records wait (up to
/// <see cref="BillingOptions.LedgerBufferCapacity"/>) and the writer retries with backoff; past that, new records are
/// refused with <see cref="UsageLedgerUnavailableException"/>. A retried write never doubles a record: records are keyed
/// by request id, and after a failed write the ids already in the database count as written. Stopping the host writes
/// what is still held. Thread-safe; a singleton.
/// </summary>
public sealed partial class UsageLedger : IInferenceUsageSink, IHostedService, IAsyncDisposable, IDisposable
{
    private readonly ISystemDbContextFactory _contexts;
    private readonly PriceBook _prices;
    private readonly BillingOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<UsageLedger> _log;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _abandon = new();
    private readonly ConcurrentDictionary<Guid, Guid> _teamOfOrganization = new();
    private readonly Task _writer;
    private int _held;
    private int _commits;
    private int _failures;
    private int _disposed;

    /// <summary>Creates the ledger and starts its writer.</summary>
    public UsageLedger(ISystemDbContextFactory contexts, PriceBook prices, IOptions<BillingOptions> options, TimeProvider time, ILogger<UsageLedger> log)
    {
        ArgumentNullException.ThrowIfNull(options);
        _contexts = contexts;
        _prices = prices;
        _options = options.Value;
        _time = time;
        _log = log;
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>Records waiting for the database (queued or being written).</summary>
    public int Held => Volatile.Read(ref _held);

    /// <summary>Group commits written so far (for tests and metrics).</summary>
    internal int CommitCount => Volatile.Read(ref _commits);

    /// <summary>Writes that failed and were retried (for tests and metrics).</summary>
    internal int FailedWrites => Volatile.Read(ref _failures);

    /// <inheritdoc />
    public async ValueTask<decimal> RecordAsync(InferenceUsage usage, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(usage);
        var at = _time.GetUtcNow();
        var modelId = string.IsNullOrWhiteSpace(usage.ModelId) ? usage.InferenceId : usage.ModelId;
        PriceQuote quote;
        try
        {
            quote = await _prices.QuoteAsync(modelId, usage.TaskType, usage.InputTokens, usage.OutputTokens, at, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Only before the first price list was ever read: without it the cost is unknown, and serving unbilled is not an option.
            throw new UsageLedgerUnavailableException("Usage cannot be recorded: the price list could not be read", ex);
        }

        var caller = usage.Caller;

        // Users without a team are billed to their organization's default team, resolved by the writer (it may need the database).
        var record = UsageRecord.Create(
            Guid.CreateVersion7(at),
            usage.RequestId ?? Guid.CreateVersion7(at).ToString("N"),
            caller.OrganizationId,
            caller.TeamId ?? caller.OrganizationId,
            caller.ApiKeyId,
            caller.UserId,
            usage.InferenceId,
            modelId,
            usage.TaskType,
            usage.Surface,
            usage.InputTokens,
            usage.OutputTokens,
            quote.Cost,
            quote.Price?.Currency ?? _prices.Currency,
            usage.Completed ? UsageOutcome.Succeeded : UsageOutcome.Cancelled,
            at);
        var pending = new Pending(record, caller.TeamId is null);

        if (Interlocked.Increment(ref _held) > _options.LedgerBufferCapacity)
        {
            Interlocked.Decrement(ref _held);
            throw new UsageLedgerUnavailableException(
                $"Usage cannot be recorded: {_options.LedgerBufferCapacity} records are already waiting for the database; try again later");
        }

        if (!_queue.Writer.TryWrite(pending))
        {
            Interlocked.Decrement(ref _held);
            throw new UsageLedgerUnavailableException("Usage cannot be recorded: the server is stopping");
        }

        // Not cancellable: once queued the record will be written, and the answer must wait for it.
        await pending.Committed.Task.ConfigureAwait(false);
        return record.Cost;
    }

    /// <summary>Reads the price list so the first request does not wait for it; a database down at start is not fatal here.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _prices.ReloadAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogPricesUnavailable(_log, ex);
        }
    }

    /// <summary>Refuses new records and writes those still held, until they are written or <paramref name="cancellationToken"/> fires.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        try
        {
            await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Out of time: the writer gives up and fails the callers still waiting (their answers were not sent).
            await _abandon.CancelAsync();
            await _writer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Stops as <see cref="StopAsync"/> does, within <see cref="BillingOptions.LedgerShutdownTimeout"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_writer.IsCompleted)
        {
            using var timeout = new CancellationTokenSource(_options.LedgerShutdownTimeout, _time);
            await StopAsync(timeout.Token);
        }

        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _abandon.Dispose();
        }
    }

    /// <summary>For containers disposed synchronously: blocks while <see cref="DisposeAsync"/> writes what is held.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task WriteLoopAsync()
    {
        var batch = new List<Pending>();
        var delay = _options.LedgerRetryInitialDelay;
        while (true)
        {
            while (batch.Count < _options.LedgerMaxBatchSize && _queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }

            if (batch.Count == 0)
            {
                // Completed and drained: the host is stopping and everything is written.
                if (!await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            try
            {
                await WriteAsync(batch).ConfigureAwait(false);
                Release(batch, failure: null);
                batch.Clear();
                delay = _options.LedgerRetryInitialDelay;
            }
            catch (Exception ex)
            {
                Interlocked.Increment(ref _failures);
                LogWriteFailed(_log, batch.Count, Held, delay, ex);
                try
                {
                    await Task.Delay(delay, _time, _abandon.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    AbandonAll(batch, ex);
                    return;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.LedgerRetryMaxDelay.Ticks));
            }
        }
    }

    private async Task WriteAsync(List<Pending> batch)
    {
        await using var context = _contexts.CreateDbContext();

        // A failed write may still have committed (the connection broke after COMMIT): what is there counts as written.
        if (batch.Exists(p => p.Attempted))
        {
            var ids = batch.Select(p => p.Record.RequestId).ToList();
            var written = (await context.UsageRecords.AsNoTracking().Where(u => ids.Contains(u.RequestId))
                .Select(u => u.RequestId).ToListAsync().ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
            if (written.Count > 0)
            {
                var done = batch.FindAll(p => written.Contains(p.Record.RequestId));
                batch.RemoveAll(p => written.Contains(p.Record.RequestId));
                Release(done, failure: null);
                if (batch.Count == 0)
                {
                    return;
                }
            }
        }

        await ResolveTeamsAsync(context, batch).ConfigureAwait(false);
        foreach (var pending in batch)
        {
            pending.Attempted = true;
            context.UsageRecords.Add(pending.NeedsTeam ? WithTeam(pending.Record, _teamOfOrganization[pending.Record.OrganizationId]) : pending.Record);
        }

        // Not cancellable: a write cut halfway would leave the caller guessing; shutdown waits for it instead.
        await context.SaveChangesAsync(CancellationToken.None).ConfigureAwait(false);
        Interlocked.Increment(ref _commits);
    }

    // The organization's team named "Default" (every organization is created with one), else its oldest team, else the
    // organization's own id (an organization without teams cannot normally exist).
    private async Task ResolveTeamsAsync(WebConsoleDbContext context, List<Pending> batch)
    {
        var missing = batch.Where(p => p.NeedsTeam && !_teamOfOrganization.ContainsKey(p.Record.OrganizationId))
            .Select(p => p.Record.OrganizationId).Distinct().ToList();
        if (missing.Count == 0)
        {
            return;
        }

        var teams = await context.Teams.AsNoTracking().Where(t => missing.Contains(t.OrganizationId))
            .Select(t => new { t.Id, t.OrganizationId, t.Name, t.CreatedAt }).ToListAsync().ConfigureAwait(false);
        foreach (var organization in missing)
        {
            var team = teams.Where(t => t.OrganizationId == organization)
                .OrderByDescending(t => t.Name == IdentitySeeder.DefaultTeamName).ThenBy(t => t.CreatedAt).FirstOrDefault();
            _teamOfOrganization[organization] = team?.Id ?? organization;
        }
    }

    private static UsageRecord WithTeam(UsageRecord r, Guid teamId) => UsageRecord.Create(
        r.Id, r.RequestId, r.OrganizationId, teamId, r.ApiKeyId, r.UserId, r.InferenceId, r.ModelId, r.TaskType, r.Surface,
        r.InputTokens, r.OutputTokens, r.Cost, r.Currency, r.Outcome, r.OccurredAt);

    private void Release(List<Pending> done, Exception? failure)
    {
        Interlocked.Add(ref _held, -done.Count);
        foreach (var pending in done)
        {
            if (failure is null)
            {
                pending.Committed.TrySetResult();
            }
            else
            {
                pending.Committed.TrySetException(failure);
            }
        }
    }

    private void AbandonAll(List<Pending> batch, Exception cause)
    {
        while (_queue.Reader.TryRead(out var next))
        {
            batch.Add(next);
        }

        LogAbandoned(_log, batch.Count);
        Release(batch, new UsageLedgerUnavailableException("Usage could not be recorded before the server stopped", cause));
        batch.Clear();
    }

    [LoggerMessage(1, LogLevel.Warning, "Writing {Count} usage records failed ({Held} held); retrying in {Delay}")]
    private static partial void LogWriteFailed(ILogger logger, int count, int held, TimeSpan delay, Exception exception);

    [LoggerMessage(2, LogLevel.Error, "The server stopped with {Count} usage records unwritten; their requests were refused")]
    private static partial void LogAbandoned(ILogger logger, int count);

    [LoggerMessage(3, LogLevel.Warning, "The price list could not be read at start; it is read again on the first request")]
    private static partial void LogPricesUnavailable(ILogger logger, Exception exception);

    private sealed class Pending(UsageRecord record, bool needsTeam)
    {
        public UsageRecord Record { get; } = record;

        public bool NeedsTeam { get; } = needsTeam;

        public bool Attempted { get; set; }

        public TaskCompletionSource Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
