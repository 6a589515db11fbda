using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using WebConsole.Domain.Endpoints;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.RateLimiting;

/// <summary>
/// The rate-limit policies of the installation (every organization's and the global ones), read from the database and held
/// in memory so that admitting a request reads no table. Changes take effect without a restart: the management API calls
/// <see cref="Invalidate"/> after a change, so the next request on this node waits for a fresh read; and the set is read
/// again at least every <see cref="RefreshInterval"/> (in the background, while requests go on with the previous set), so
/// a change made through another node applies here within that interval. Singleton; thread-safe.
/// </summary>
/// <remarks>
/// If the database cannot be read, the previous set stays in force and the read is retried after the interval; before
/// any set was read, requests are admitted without a limit (and the read is retried after a second) rather than refused.
/// </remarks>
public sealed partial class RateLimitPolicies : IDisposable
{
    /// <summary>How often the set is read again by default.</summary>
    public static readonly TimeSpan DefaultRefreshInterval = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan FirstLoadRetry = TimeSpan.FromSeconds(1);

    private readonly ISystemDbContextFactory _contexts;
    private readonly TimeProvider _time;
    private readonly ILogger<RateLimitPolicies> _log;
    private readonly SemaphoreSlim _loading = new(1, 1);
    private Snapshot? _current;
    private long _generation;
    private int _refreshing;

    /// <summary>Creates the cache; <paramref name="refreshInterval"/> defaults to <see cref="DefaultRefreshInterval"/>.</summary>
    public RateLimitPolicies(ISystemDbContextFactory contexts, TimeProvider time, ILogger<RateLimitPolicies> log, TimeSpan? refreshInterval = null)
    {
        ArgumentNullException.ThrowIfNull(contexts);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(log);
        _contexts = contexts;
        _time = time;
        _log = log;
        RefreshInterval = refreshInterval ?? DefaultRefreshInterval;
    }

    /// <summary>The longest a change made elsewhere (another node, the database directly) takes to apply here.</summary>
    public TimeSpan RefreshInterval { get; }

    /// <summary>Marks the set as changed: the next <see cref="GetAsync"/> reads it again before answering.</summary>
    public void Invalidate() => Interlocked.Increment(ref _generation);

    /// <summary>The policy and limiter key of a request (see <see cref="RateLimitPolicySet.Resolve"/>); null when unlimited.</summary>
    public async ValueTask<EffectiveRateLimit?> ResolveAsync(
        Guid organizationId, Guid? teamId, string? apiKeyId, string modelId, TaskType taskType, CancellationToken cancellationToken)
    {
        var set = await GetAsync(cancellationToken);
        return set.Resolve(organizationId, teamId, apiKeyId, modelId, taskType);
    }

    /// <summary>
    /// The current set: at once while it is fresh; after <see cref="RefreshInterval"/> at once too, with a read started in
    /// the background; after <see cref="Invalidate"/> (or before the first read) once read.
    /// </summary>
    public ValueTask<RateLimitPolicySet> GetAsync(CancellationToken cancellationToken = default)
    {
        var current = Volatile.Read(ref _current);
        if (current is not null && current.Generation == Interlocked.Read(ref _generation))
        {
            if (_time.GetElapsedTime(current.ReadAt) >= current.FreshFor)
            {
                RefreshInBackground();
            }

            return ValueTask.FromResult(current.Set);
        }

        return ReadAsync(cancellationToken);
    }

    private async ValueTask<RateLimitPolicySet> ReadAsync(CancellationToken cancellationToken)
    {
        await _loading.WaitAsync(cancellationToken);
        try
        {
            // Another caller may have read while this one waited.
            var generation = Interlocked.Read(ref _generation);
            var current = Volatile.Read(ref _current);
            if (current is not null && current.Generation == generation && _time.GetElapsedTime(current.ReadAt) < current.FreshFor)
            {
                return current.Set;
            }

            return (await LoadAsync(generation, current, cancellationToken)).Set;
        }
        finally
        {
            _loading.Release();
        }
    }

    private void RefreshInBackground()
    {
        if (Interlocked.CompareExchange(ref _refreshing, 1, 0) != 0)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await ReadAsync(CancellationToken.None);
            }
            catch (ObjectDisposedException)
            {
                // The host is stopping.
            }
            finally
            {
                Volatile.Write(ref _refreshing, 0);
            }
        });
    }

    private async Task<Snapshot> LoadAsync(long generation, Snapshot? previous, CancellationToken cancellationToken)
    {
        Snapshot snapshot;
        try
        {
            await using var db = _contexts.CreateDbContext();
            var rows = await db.RateLimitPolicies.AsNoTracking().ToListAsync(cancellationToken);
            snapshot = new Snapshot(new RateLimitPolicySet(rows.Select(RateLimitRule.From)), generation, _time.GetTimestamp(), RefreshInterval);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogReadFailed(_log, ex);
            snapshot = previous is not null
                ? previous with { Generation = generation, ReadAt = _time.GetTimestamp(), FreshFor = RefreshInterval }
                : new Snapshot(RateLimitPolicySet.Empty, generation, _time.GetTimestamp(), FirstLoadRetry);
        }

        Volatile.Write(ref _current, snapshot);
        return snapshot;
    }

    /// <inheritdoc />
    public void Dispose() => _loading.Dispose();

    [LoggerMessage(1, LogLevel.Warning, "The rate-limit policies could not be read; the previous ones stay in force (none before the first read) until the next try")]
    private static partial void LogReadFailed(ILogger logger, Exception exception);

    private sealed record Snapshot(RateLimitPolicySet Set, long Generation, long ReadAt, TimeSpan FreshFor);
}
