using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebConsole.Domain.Billing;
using WebConsole.Domain.Usage;
using WebConsole.Infrastructure.Billing;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Usage;

/// <summary>
/// The usage ledger: one <see cref="UsageRecord"/> per inference request, priced by the <see cref="PriceBook"/> (the price
/// in force is stored on the record), committed before the caller answers. Concurrent requests share one write (group
/// commit): a single background writer takes everything queued while the previous write ran and saves it in one
/// <c>SaveChanges</c>; each caller's task completes once its record is committed. While the database is unavailable,
/// records wait (up to <see cref="BillingOptions.LedgerBufferCapacity"/>) and the writer retries with backoff; past that,
/// new requests are refused with <see cref="UsageLedgerUnavailableException"/>. A retried write never doubles a record:
/// records are keyed by request id, and after a failed write the ids already in the database count as written. Stopping
/// the host writes what is still held. Thread-safe; a singleton.
/// </summary>
/// <remarks>
/// <para>
/// Streams: <see cref="BeginAsync"/> commits an <see cref="UsageOutcome.InProgress"/> record before the stream's first
/// byte, priced at the price in force then; <see cref="CheckpointAsync"/> (every <see cref="CheckpointInterval"/> of a
/// running stream) and the final <see cref="RecordAsync"/> revise that record through the same group commit, at the same
/// price. Revisions only raise tokens and cost, so their order within a batch, a retried batch or a late checkpoint never
/// lowers a record; a revision whose record is not written yet (same batch) is applied to it before the write. A server
/// killed mid-stream thus leaves one record, billed up to its last checkpoint: at most the last second of output tokens
/// is lost, none is counted twice.
/// </para>
/// <para>
/// Records left <see cref="UsageOutcome.InProgress"/> by a stopped process stay so: with several nodes on one database a
/// starting node cannot tell them from another node's running streams, and they are billed as checkpointed (the usage API
/// and the CSV count them like any record). Their <see cref="UsageRecord.OccurredAt"/> is the time of their last checkpoint.
/// </para>
/// </remarks>
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
    private readonly ConcurrentDictionary<string, OpenStream> _open = new(StringComparer.Ordinal);
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

    /// <summary>
    /// How often a running stream checkpoints its tokens: half the guaranteed second, so a checkpoint that waits for a
    /// group commit still lands within it.
    /// </summary>
    public static TimeSpan CheckpointInterval { get; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Streams begun and not yet recorded as ended.</summary>
    public int OpenStreams => _open.Count;

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
        var outcome = usage.Completed ? UsageOutcome.Succeeded : usage.Failed ? UsageOutcome.Failed : UsageOutcome.Cancelled;

        // The end of a begun stream revises its record at the price it began with; it is never refused for a full buffer
        // (the answer was served already: refusing would only lose its tokens).
        if (usage.RequestId is { } requestId && _open.TryRemove(requestId, out var stream))
        {
            var revision = Create(usage, requestId, stream.Price, outcome, at);
            return await EnqueueAsync(new Pending(revision, usage.Caller.TeamId is null, Revises: true), mayRefuse: false).ConfigureAwait(false);
        }

        var price = await QuoteAsync(usage, at, cancellationToken).ConfigureAwait(false);
        var record = Create(usage, usage.RequestId ?? Guid.CreateVersion7(at).ToString("N"), price, outcome, at);

        // Not cancellable: once queued the record will be written, and the answer must wait for it.
        return await EnqueueAsync(new Pending(record, usage.Caller.TeamId is null, Revises: false), mayRefuse: true).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <exception cref="UsageLedgerUnavailableException">The buffer is full, the server is stopping or no price list could be read.</exception>
    /// <exception cref="ArgumentException">The usage has no request id, or a stream with that id is already open.</exception>
    public async ValueTask BeginAsync(InferenceUsage usage, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(usage);
        var requestId = usage.RequestId ?? throw new ArgumentException("A stream's usage needs its request id", nameof(usage));
        var at = _time.GetUtcNow();
        var price = await QuoteAsync(usage, at, cancellationToken).ConfigureAwait(false);
        if (!_open.TryAdd(requestId, new OpenStream(price)))
        {
            throw new ArgumentException($"The stream [{requestId}] has begun already", nameof(usage));
        }

        try
        {
            var record = Create(usage, requestId, price, UsageOutcome.InProgress, at);
            await EnqueueAsync(new Pending(record, usage.Caller.TeamId is null, Revises: false), mayRefuse: true).ConfigureAwait(false);
        }
        catch
        {
            // Refused (or abandoned at shutdown): the stream is not served, so nothing of it is billed.
            _open.TryRemove(requestId, out _);
            throw;
        }
    }

    /// <inheritdoc />
    public async Task CheckpointAsync(InferenceUsage usage)
    {
        ArgumentNullException.ThrowIfNull(usage);
        if (usage.RequestId is not { } requestId || !_open.TryGetValue(requestId, out var stream))
        {
            return;
        }

        var revision = Create(usage, requestId, stream.Price, UsageOutcome.InProgress, _time.GetUtcNow());
        try
        {
            await EnqueueAsync(new Pending(revision, usage.Caller.TeamId is null, Revises: true), mayRefuse: false).ConfigureAwait(false);
        }
        catch (UsageLedgerUnavailableException ex)
        {
            // Only when the server stops: the stream's end (or its last stored checkpoint) bills it.
            LogCheckpointDropped(_log, requestId, ex);
        }
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

    private async ValueTask<Price?> QuoteAsync(InferenceUsage usage, DateTimeOffset at, CancellationToken cancellationToken)
    {
        try
        {
            return await _prices.FindAsync(ModelOf(usage), at, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Only before the first price list was ever read: without it the cost is unknown, and serving unbilled is not an option.
            throw new UsageLedgerUnavailableException("Usage cannot be recorded: the price list could not be read", ex);
        }
    }

    private static string ModelOf(InferenceUsage usage) => string.IsNullOrWhiteSpace(usage.ModelId) ? usage.InferenceId : usage.ModelId;

    // Users without a team are billed to their organization's default team, resolved by the writer (it may need the database).
    private UsageRecord Create(InferenceUsage usage, string requestId, Price? price, UsageOutcome outcome, DateTimeOffset at)
    {
        var caller = usage.Caller;
        return UsageRecord.Create(
            Guid.CreateVersion7(at),
            requestId,
            caller.OrganizationId,
            caller.TeamId ?? caller.OrganizationId,
            caller.ApiKeyId,
            caller.UserId,
            usage.InferenceId,
            ModelOf(usage),
            usage.TaskType,
            usage.Surface,
            usage.InputTokens,
            usage.OutputTokens,
            PriceBook.CostAt(price, usage.TaskType, usage.InputTokens, usage.OutputTokens),
            price?.Currency ?? _prices.Currency,
            outcome,
            at,
            price?.InputPerMillion ?? 0m,
            price?.OutputPerMillion ?? 0m);
    }

    private Task<decimal> EnqueueAsync(Pending pending, bool mayRefuse)
    {
        if (Interlocked.Increment(ref _held) > _options.LedgerBufferCapacity && mayRefuse)
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

        return pending.Committed.Task;
    }

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

        // Revisions need their record, and a failed write may still have committed (the connection broke after COMMIT):
        // what is there counts as written. Plain first writes skip the lookup, so a non-streamed request costs one write.
        var lookup = batch.Where(p => p.Revises || p.Attempted).Select(p => p.Record.RequestId).Distinct(StringComparer.Ordinal).ToList();
        var records = lookup.Count == 0
            ? new Dictionary<string, UsageRecord>(StringComparer.Ordinal)
            : await context.UsageRecords.Where(u => lookup.Contains(u.RequestId))
                .ToDictionaryAsync(u => u.RequestId, StringComparer.Ordinal).ConfigureAwait(false);

        await ResolveTeamsAsync(context, batch).ConfigureAwait(false);
        foreach (var pending in batch)
        {
            pending.Attempted = true;
            var r = pending.Record;
            if (records.TryGetValue(r.RequestId, out var existing))
            {
                // A stream's checkpoint or end raises its record; a plain record written already (a retried call) stands.
                if (pending.Revises)
                {
                    existing.Revise(r.InputTokens, r.OutputTokens, r.Cost, r.Outcome, r.OccurredAt);
                }

                pending.Cost = existing.Cost;
                continue;
            }

            // A revision whose record is not in the database (its beginning was lost) is written as the record itself.
            var row = pending.NeedsTeam ? WithTeam(r, _teamOfOrganization[r.OrganizationId]) : r;
            context.UsageRecords.Add(row);
            records[r.RequestId] = row;
            pending.Cost = row.Cost;
        }

        // Not cancellable: a write cut halfway would leave the caller guessing; shutdown waits for it instead.
        if (context.ChangeTracker.HasChanges())
        {
            await context.SaveChangesAsync(CancellationToken.None).ConfigureAwait(false);
            Interlocked.Increment(ref _commits);
        }
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
        r.InputTokens, r.OutputTokens, r.Cost, r.Currency, r.Outcome, r.OccurredAt, r.InputPricePerMillion, r.OutputPricePerMillion);

    private void Release(List<Pending> done, Exception? failure)
    {
        Interlocked.Add(ref _held, -done.Count);
        foreach (var pending in done)
        {
            if (failure is null)
            {
                pending.Committed.TrySetResult(pending.Cost);
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

    [LoggerMessage(4, LogLevel.Warning, "A checkpoint of stream {RequestId} was dropped")]
    private static partial void LogCheckpointDropped(ILogger logger, string requestId, Exception exception);

    /// <summary>A record to write; <paramref name="Revises"/>: a stream's checkpoint or end, which raises its record if it exists.</summary>
    private sealed record Pending(UsageRecord Record, bool NeedsTeam, bool Revises)
    {
        public bool Attempted { get; set; }

        /// <summary>The record's cost as written (set by the writer).</summary>
        public decimal Cost { get; set; }

        public TaskCompletionSource<decimal> Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>A begun stream: its checkpoints and end are priced as it began.</summary>
    private sealed record OpenStream(Price? Price);
}
