using System.Diagnostics;

namespace WebConsole.Bench;

/// <summary>What a closed-loop load run measured; <see cref="Errors"/> counts answers that were not a success.</summary>
internal sealed record LoadResult(double RequestsPerSecond, double UnitsPerSecond, double P50Ms, double P99Ms, int Requests, int Errors);

/// <summary>
/// A closed-loop load generator: <c>concurrency</c> workers each send a request, wait for its answer and send the next,
/// until a fixed number of requests has been sent; throughput is that work over the wall time until the last answer.
/// Fixed work rather than a fixed time, so slow requests at high concurrency are never cut off and dropped from the count.
/// </summary>
internal static class Load
{
    /// <param name="concurrency">Requests in flight at once.</param>
    /// <param name="requests">Requests to send in all (at least <paramref name="concurrency"/>).</param>
    /// <param name="request">Sends request number <c>i</c> and answers how many units (tokens, pairs) it carried, or -1 when it failed.</param>
    public static async Task<LoadResult> RunAsync(int concurrency, int requests, Func<int, Task<long>> request)
    {
        requests = Math.Max(requests, concurrency);
        var next = -1;
        var latencies = new List<double>[concurrency];
        var units = new long[concurrency];
        var errors = 0;
        var clock = Stopwatch.StartNew();
        async Task Worker(int worker)
        {
            var mine = latencies[worker] = [];
            int i;
            while ((i = Interlocked.Increment(ref next)) < requests)
            {
                var started = clock.Elapsed;
                var carried = await request(i);
                if (carried < 0)
                {
                    Interlocked.Increment(ref errors);
                    continue;
                }

                mine.Add((clock.Elapsed - started).TotalMilliseconds);
                units[worker] += carried;
            }
        }

        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(w => Task.Run(() => Worker(w))));
        var seconds = clock.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).ToArray();
        return new LoadResult(all.Length / seconds, units.Sum() / seconds, Stats.Percentile(all, 50), Stats.Percentile(all, 99), all.Length, errors);
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
