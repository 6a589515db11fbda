using System.Collections.Concurrent;

namespace WebConsole.Infrastructure.Connectors.Outbound;

/// <summary>
/// Spaces outbound calls per throttle key evenly at the endpoint's <c>rate_limit.requests_per_minute</c>, as
/// Elasticsearch's request executor does (a token bucket holding one token): a call over the rate waits for its slot
/// instead of failing. Thread-safe.
/// </summary>
public sealed class OutboundThrottle(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Lane> _lanes = new(StringComparer.Ordinal);

    /// <summary>
    /// Takes the next slot of <paramref name="key"/> at <paramref name="requestsPerMinute"/> and waits until it comes.
    /// A cancelled wait gives its slot back when no later slot was handed out meanwhile.
    /// </summary>
    public async ValueTask WaitAsync(string key, int? requestsPerMinute, CancellationToken cancellationToken)
    {
        if (requestsPerMinute is not > 0)
        {
            return;
        }

        var interval = TimeSpan.FromTicks(TimeSpan.TicksPerMinute / requestsPerMinute.Value);
        var lane = _lanes.GetOrAdd(key, static _ => new Lane());
        var now = time.GetUtcNow();
        var slot = lane.Reserve(now, interval);
        var wait = slot - now;
        if (wait <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            lane.Release(slot, interval);
            throw;
        }
    }

    private sealed class Lane
    {
        private readonly Lock _lock = new();
        private DateTimeOffset _next = DateTimeOffset.MinValue;

        public DateTimeOffset Reserve(DateTimeOffset now, TimeSpan interval)
        {
            lock (_lock)
            {
                var slot = _next > now ? _next : now;
                _next = slot + interval;
                return slot;
            }
        }

        public void Release(DateTimeOffset slot, TimeSpan interval)
        {
            lock (_lock)
            {
                if (_next == slot + interval)
                {
                    _next = slot;
                }
            }
        }
    }
}
