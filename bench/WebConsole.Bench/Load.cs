using System.Diagnostics;

namespace WebConsole.Bench;

/// <summary>What a closed-loop load run measured.</summary>
internal sealed record LoadResult(double RequestsPerSecond, double UnitsPerSecond, double P50Ms, double P99Ms, int Requests);

/// <summary>
/// A closed-loop load generator: <c>concurrency</c> workers each send a request, wait for its answer and send the next,
/// for a fixed time after a warm-up. Latency is measured per request from just before it is sent.
/// </summary>
internal static class Load
{
    /// <param name="concurrency">Requests in flight at once.</param>
    /// <param name="duration">How long to measure (requests still running at the end are awaited and not counted).</param>
    /// <param name="request">Sends request number <c>i</c> and answers how many units (tokens, pairs) it carried.</param>
    public static async Task<LoadResult> RunAsync(int concurrency, TimeSpan duration, Func<int, Task<long>> request)
    {
        var next = -1;
        var latencies = new List<double>[concurrency];
        var units = new long[concurrency];
        var clock = Stopwatch.StartNew();
        var stopAt = duration;
        async Task Worker(int worker)
        {
            var mine = latencies[worker] = [];
            while (clock.Elapsed < stopAt)
            {
                var i = Interlocked.Increment(ref next);
                var started = clock.Elapsed;
                var carried = await request(i);
                var ended = clock.Elapsed;
                if (ended <= stopAt)
                {
                    mine.Add((ended - started).TotalMilliseconds);
                    units[worker] += carried;
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(w => Task.Run(() => Worker(w))));
        var all = latencies.SelectMany(l => l).ToArray();
        var seconds = duration.TotalSeconds;
        return new LoadResult(all.Length / seconds, units.Sum() / seconds, Stats.Percentile(all, 50), Stats.Percentile(all, 99), all.Length);
    }

    /// <summary>Runs <paramref name="measure"/> <paramref name="repeats"/> times and answers every run's results.</summary>
    public static async Task<List<T>> RepeatAsync<T>(int repeats, Func<Task<T>> measure)
    {
        var runs = new List<T>(repeats);
        for (var i = 0; i < repeats; i++)
        {
            runs.Add(await measure());
        }

        return runs;
    }
}
