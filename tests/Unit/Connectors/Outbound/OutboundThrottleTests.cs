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

        // Measured from the start, so a call the busy machine resumes late can come close to the next, but none passes
        // before its slot; the first does not wait for one at all.
        passed.Sort();
        Assert.True(passed[0] < TimeSpan.FromMilliseconds(400), $"first call waited {passed[0]}");
        for (var i = 1; i < passed.Count; i++)
        {
            Assert.True(passed[i] >= TimeSpan.FromMilliseconds((i * 100) - 10), $"call {i + 1} passed after {passed[i]}, before its slot");
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
        // The busy key's next slot is a minute away: anything near that would mean the keys shared a lane.
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_cancelled_wait_gives_its_slot_back()
    {
        // 30 a minute: one call every 2 s, on a fake clock so a busy machine cannot move the slots. With its slot given back
        // the third call goes at 2 s; without it, it would wait until 4 s.
        var clock = new WebConsole.Unit.Inference.Deployments.FakeTimeProvider();
        var throttle = new OutboundThrottle(clock);
        await throttle.WaitAsync("key", 30, CancellationToken.None);

        using var cancel = new CancellationTokenSource();
        var second = throttle.WaitAsync("key", 30, cancel.Token).AsTask();
        Assert.False(second.IsCompleted);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);

        var third = throttle.WaitAsync("key", 30, CancellationToken.None).AsTask();
        clock.Advance(TimeSpan.FromSeconds(1.9));
        await Task.Delay(50);
        Assert.False(third.IsCompleted, "the third call passed before its slot");
        clock.Advance(TimeSpan.FromSeconds(0.1));
        await third.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
