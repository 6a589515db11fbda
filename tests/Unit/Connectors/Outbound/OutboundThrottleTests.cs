using System.Diagnostics;
using WebConsole.Infrastructure.Connectors.Outbound;

namespace WebConsole.Unit.Connectors.Outbound;

public sealed class OutboundThrottleTests
{
    [Fact]
    public async Task Calls_over_the_rate_wait_for_evenly_spaced_slots()
    {
        var throttle = new OutboundThrottle(TimeProvider.System);
        var started = Stopwatch.GetTimestamp();
        var passed = new List<TimeSpan>();

        // 600 a minute: one slot every 100 ms; six calls at once pass at 0, 100, ..., 500 ms.
        await Task.WhenAll(Enumerable.Range(0, 6).Select(async _ =>
        {
            await throttle.WaitAsync("key", 600, CancellationToken.None);
            lock (passed)
            {
                passed.Add(Stopwatch.GetElapsedTime(started));
            }
        }));

        passed.Sort();
        Assert.True(passed[0] < TimeSpan.FromMilliseconds(90), $"first call waited {passed[0]}");
        Assert.True(passed[^1] >= TimeSpan.FromMilliseconds(480), $"sixth call passed after {passed[^1]}");
        for (var i = 1; i < passed.Count; i++)
        {
            Assert.True(passed[i] - passed[i - 1] >= TimeSpan.FromMilliseconds(70), $"calls {i} and {i + 1} were {passed[i] - passed[i - 1]} apart");
        }
    }

    [Fact]
    public async Task Keys_are_throttled_apart_and_no_rate_means_no_wait()
    {
        var throttle = new OutboundThrottle(TimeProvider.System);
        await throttle.WaitAsync("busy", 1, CancellationToken.None);
        var started = Stopwatch.GetTimestamp();
        await throttle.WaitAsync("other", 1, CancellationToken.None);
        await throttle.WaitAsync("unthrottled", null, CancellationToken.None);
        await throttle.WaitAsync("unthrottled", null, CancellationToken.None);
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task A_cancelled_wait_gives_its_slot_back()
    {
        var throttle = new OutboundThrottle(TimeProvider.System);
        await throttle.WaitAsync("key", 60, CancellationToken.None); // the next slot is a second away
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => throttle.WaitAsync("key", 60, cancel.Token).AsTask());

        // The cancelled call's slot (1 s) is free again: the next waits about one interval, not two.
        var started = Stopwatch.GetTimestamp();
        await throttle.WaitAsync("key", 60, CancellationToken.None);
        var waited = Stopwatch.GetElapsedTime(started);
        Assert.InRange(waited, TimeSpan.FromMilliseconds(700), TimeSpan.FromMilliseconds(1500));
    }
}
