using System.Data.Common;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebConsole.Domain.RateLimiting;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.RateLimiting;

/// <summary>
/// Shares this node's rate-limit counts with the other nodes of one PostgreSQL database, so a limit holds across them while
/// each node still decides in memory. Every <see cref="RateLimitSharingOptions.Interval"/> (100 ms by default) one round
/// trip adds what the <see cref="SlidingWindowLimiter"/> counted since the last tick to this node's rows of
/// <c>RateLimitCounters</c> (one per key and second), reads the other nodes' rows of the last window and hands them to
/// <see cref="SlidingWindowLimiter.SetRemote"/>; about every <see cref="CleanupEvery"/> it also deletes rows older than
/// <see cref="KeepFor"/>.
/// </summary>
/// <remarks>
/// A failed round trip (database away) is logged and retried on the next tick: the counts not written stay with this
/// service (those whose second has left the window are dropped, as they no longer limit anything), the other nodes' last
/// counts keep ageing out, and the limiter keeps deciding on what it knows. Each round trip is one implicit transaction,
/// so a failure writes nothing twice; only a failure after the commit but before the answer (a connection lost at that
/// instant) can count a delta twice, which errs on the side of refusing. Node ids are fresh per process, so a restarted
/// node never adds to its previous life's rows.
/// </remarks>
public sealed partial class RateLimitSharing : BackgroundService
{
    /// <summary>How often old rows are deleted.</summary>
    public static readonly TimeSpan CleanupEvery = TimeSpan.FromSeconds(10);

    /// <summary>How long rows are kept: a window, a second of rounding, and margin for clocks that disagree.</summary>
    public static readonly TimeSpan KeepFor = TimeSpan.FromMinutes(2);

    // A remote second counts while it is inside the window (s + 1 > now - 60 s); one more is read for clock skew.
    private const long ReadSeconds = 61;
    private const int CommandTimeoutSeconds = 5;
    private static readonly TimeSpan FailureLogEvery = TimeSpan.FromSeconds(30);

    private const string Upsert = """
        INSERT INTO "RateLimitCounters" ("NodeId", "Key", "Slot", "Requests", "IngestTokens", "SearchTokens")
        SELECT @node, d."Key", d."Slot", d."Requests", d."IngestTokens", d."SearchTokens"
        FROM unnest(@keys, @slots, @requests, @ingest, @search) AS d("Key", "Slot", "Requests", "IngestTokens", "SearchTokens")
        ON CONFLICT ("NodeId", "Key", "Slot") DO UPDATE SET
            "Requests" = "RateLimitCounters"."Requests" + excluded."Requests",
            "IngestTokens" = "RateLimitCounters"."IngestTokens" + excluded."IngestTokens",
            "SearchTokens" = "RateLimitCounters"."SearchTokens" + excluded."SearchTokens";

        """;

    private const string Cleanup = """
        DELETE FROM "RateLimitCounters" WHERE "Slot" < @expired;

        """;

    private const string ReadOthers = """
        SELECT "Key", "Slot", sum("Requests")::bigint, sum("IngestTokens")::bigint, sum("SearchTokens")::bigint
        FROM "RateLimitCounters"
        WHERE "Slot" >= @from AND "NodeId" <> @node
        GROUP BY "Key", "Slot";
        """;

    private readonly SlidingWindowLimiter _limiter;
    private readonly ISystemDbContextFactory _contexts;
    private readonly TimeProvider _time;
    private readonly ILogger<RateLimitSharing> _log;
    private readonly Dictionary<(string Key, long Slot), Counts> _pending = [];
    private long _nextCleanup;
    private long _failingSince = -1;
    private long _lastFailureLog;
    private long _roundTripTicks;
    private int _exchanges;
    private int _failures;
    private int _pendingRows;

    /// <summary>Creates the service; it shares only when <see cref="Enabled"/>.</summary>
    public RateLimitSharing(
        SlidingWindowLimiter limiter,
        ISystemDbContextFactory contexts,
        DatabaseSelection database,
        IOptions<RateLimitSharingOptions> options,
        TimeProvider time,
        ILogger<RateLimitSharing> log)
    {
        ArgumentNullException.ThrowIfNull(options);
        _limiter = limiter;
        _contexts = contexts;
        _time = time;
        _log = log;
        Interval = options.Value.Interval;
        Enabled = options.Value.Enabled ?? Supports(database);
    }

    /// <summary>This process's node id, under which its counts are written.</summary>
    public Guid NodeId { get; } = Guid.NewGuid();

    /// <summary>Whether counts are shared: <c>RateLimiting:Sharing:Enabled</c>, else whether the database is PostgreSQL.</summary>
    public bool Enabled { get; }

    /// <summary>The time between two round trips.</summary>
    public TimeSpan Interval { get; }

    /// <summary>Round trips that succeeded (for tests and metrics).</summary>
    internal int Exchanges => Volatile.Read(ref _exchanges);

    /// <summary>Round trips that failed and will be retried (for tests and metrics).</summary>
    internal int Failures => Volatile.Read(ref _failures);

    /// <summary>Rows (key and second) counted here and not yet written, after the last tick.</summary>
    internal int PendingRows => Volatile.Read(ref _pendingRows);

    /// <summary>How long the last successful round trip took.</summary>
    internal TimeSpan LastRoundTrip => TimeSpan.FromTicks(Interlocked.Read(ref _roundTripTicks));

    /// <summary>Whether counts can be shared on <paramref name="database"/> (PostgreSQL only: the SQL is its dialect).</summary>
    public static bool Supports(DatabaseSelection database)
    {
        ArgumentNullException.ThrowIfNull(database);
        return string.Equals(database.Provider.Name, "PostgreSql", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Starts recording this node's counts at once (before the server serves a request), then the exchange loop.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Here rather than in ExecuteAsync, which runs on the thread pool: counts admitted before it ran would be lost.
        if (Enabled)
        {
            _limiter.RecordsLocalDeltas = true;
        }

        return base.StartAsync(cancellationToken);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            return;
        }

        var intervalMs = Interval.TotalMilliseconds;
        LogSharing(_log, NodeId, intervalMs);
        using var timer = new PeriodicTimer(Interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await ExchangeAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: write what is left once more, briefly, so the other nodes still count it.
            using var last = new CancellationTokenSource(TimeSpan.FromSeconds(2), _time);
            try
            {
                await ExchangeAsync(last.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Out of time; the other nodes miss at most this last interval's counts.
            }
        }
    }

    /// <summary>One tick: write the counts of this node, read the others'. Never throws but for cancellation by the host.</summary>
    internal async Task ExchangeAsync(CancellationToken cancellationToken)
    {
        foreach (var delta in _limiter.DrainLocalDeltas())
        {
            var key = (delta.Key, delta.Slot);
            _pending[key] = (_pending.TryGetValue(key, out var counts) ? counts : default).Add(delta);
        }

        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        DropExpired(now - ReadSeconds);
        var cleanup = now >= _nextCleanup;
        var started = _time.GetTimestamp();
        try
        {
            var others = await RoundTripAsync(now, cleanup, cancellationToken).ConfigureAwait(false);
            _limiter.SetRemote(others);
            _pending.Clear();
            if (cleanup)
            {
                _nextCleanup = now + (long)CleanupEvery.TotalSeconds;
            }

            Interlocked.Exchange(ref _roundTripTicks, _time.GetElapsedTime(started).Ticks);
            Interlocked.Increment(ref _exchanges);
            if (_failingSince >= 0)
            {
                var seconds = _time.GetElapsedTime(_failingSince).TotalSeconds;
                LogRecovered(_log, seconds);
                _failingSince = -1;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _failures);
            var at = _time.GetTimestamp();
            if (_failingSince < 0)
            {
                _failingSince = at;
                _lastFailureLog = at;
                LogFailed(_log, _pending.Count, ex);
            }
            else if (_time.GetElapsedTime(_lastFailureLog) >= FailureLogEvery)
            {
                _lastFailureLog = at;
                var seconds = _time.GetElapsedTime(_failingSince).TotalSeconds;
                LogStillFailing(_log, seconds, _pending.Count, ex.Message);
            }
        }

        Volatile.Write(ref _pendingRows, _pending.Count);
    }

    private void DropExpired(long firstSlot)
    {
        List<(string, long)>? expired = null;
        foreach (var key in _pending.Keys)
        {
            if (key.Slot < firstSlot)
            {
                (expired ??= []).Add(key);
            }
        }

        foreach (var key in expired ?? [])
        {
            _pending.Remove(key);
        }
    }

    private async Task<List<RateLimitSlotCount>> RoundTripAsync(long now, bool cleanup, CancellationToken cancellationToken)
    {
        await using var context = _contexts.CreateDbContext();
        var connection = context.Database.GetDbConnection();
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandTimeout = CommandTimeoutSeconds;
        var sql = new StringBuilder();
        Add(command, "node", NodeId);
        if (_pending.Count > 0)
        {
            // One statement for any number of rows: the rows travel as five parallel arrays.
            var n = _pending.Count;
            var keys = new string[n];
            var slots = new long[n];
            var requests = new long[n];
            var ingest = new long[n];
            var search = new long[n];
            var i = 0;
            foreach (var ((key, slot), counts) in _pending)
            {
                (keys[i], slots[i], requests[i], ingest[i], search[i]) = (key, slot, counts.Requests, counts.Ingest, counts.Search);
                i++;
            }

            Add(command, "keys", keys);
            Add(command, "slots", slots);
            Add(command, "requests", requests);
            Add(command, "ingest", ingest);
            Add(command, "search", search);
            sql.Append(Upsert);
        }

        if (cleanup)
        {
            Add(command, "expired", now - (long)KeepFor.TotalSeconds);
            sql.Append(Cleanup);
        }

        Add(command, "from", now - ReadSeconds);
        sql.Append(ReadOthers);
        command.CommandText = sql.ToString();

        var others = new List<RateLimitSlotCount>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        do
        {
            // The upsert and the delete return no rows; only the read has columns.
            if (reader.FieldCount == 0)
            {
                continue;
            }

            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                others.Add(new RateLimitSlotCount(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)));
            }
        }
        while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));

        return others;
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sharing rate-limit counts through the database as node {NodeId} every {IntervalMs} ms")]
    private static partial void LogSharing(ILogger logger, Guid nodeId, double intervalMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rate-limit counts could not be shared ({Pending} rows waiting); this node limits on what it knows and retries every tick")]
    private static partial void LogFailed(ILogger logger, int pending, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rate-limit counts still cannot be shared after {Seconds:0} s ({Pending} rows waiting): {Reason}")]
    private static partial void LogStillFailing(ILogger logger, double seconds, int pending, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rate-limit counts are shared again after {Seconds:0.0} s")]
    private static partial void LogRecovered(ILogger logger, double seconds);

    private readonly record struct Counts(long Requests, long Ingest, long Search)
    {
        public Counts Add(RateLimitSlotCount delta) =>
            new(Requests + delta.Requests, Ingest + delta.IngestTokens, Search + delta.SearchTokens);
    }
}
