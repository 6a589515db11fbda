namespace WebConsole.Infrastructure.Persistence;

/// <summary>
/// Data read from the database and kept in memory for the request path: the first reader loads it (others wait for that
/// read); a copy older than the refresh interval is read again by one caller while the others go on with it; a failed
/// refresh keeps the old copy and is tried again an interval later (the database being away must not stop requests);
/// <see cref="ReloadAsync"/> reads it now, after a change on this node. Thread-safe.
/// </summary>
/// <typeparam name="T">The immutable value kept.</typeparam>
internal sealed class RefreshingSnapshot<T>(Func<CancellationToken, Task<T>> load, TimeProvider time, Func<TimeSpan> refreshInterval) : IDisposable
    where T : class
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile Entry? _current;

    /// <summary>The value, loading it first when there is none, refreshing it in the caller when stale.</summary>
    public async ValueTask<T> GetAsync(CancellationToken cancellationToken)
    {
        var current = _current;
        if (current is null)
        {
            await _gate.WaitAsync(cancellationToken);
            try
            {
                return (_current ??= new Entry(await load(cancellationToken), time.GetUtcNow())).Value;
            }
            finally
            {
                _gate.Release();
            }
        }

        if (time.GetUtcNow() - current.LoadedAt >= refreshInterval() && _gate.Wait(0, CancellationToken.None))
        {
            try
            {
                _current = new Entry(await load(cancellationToken), time.GetUtcNow());
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _current = current with { LoadedAt = time.GetUtcNow() };
            }
            finally
            {
                _gate.Release();
            }
        }

        return (_current ?? current).Value;
    }

    /// <summary>
    /// The value as it is, without refreshing; the first call of a process loads it synchronously with
    /// <paramref name="loadSynchronously"/> (for callers that cannot await).
    /// </summary>
    public T Get(Func<T> loadSynchronously)
    {
        ArgumentNullException.ThrowIfNull(loadSynchronously);
        if (_current is { } current)
        {
            return current.Value;
        }

        _gate.Wait();
        try
        {
            return (_current ??= new Entry(loadSynchronously(), time.GetUtcNow())).Value;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Reads the value again now and answers it.</summary>
    public async Task<T> ReloadAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var entry = new Entry(await load(cancellationToken), time.GetUtcNow());
            _current = entry;
            return entry.Value;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _gate.Dispose();

    private sealed record Entry(T Value, DateTimeOffset LoadedAt);
}
