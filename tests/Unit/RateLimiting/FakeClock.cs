namespace WebConsole.Unit.RateLimiting;

/// <summary>A clock the test moves, monotonic timestamps included (the limiter and the policy cache read those).</summary>
internal sealed class FakeClock : TimeProvider
{
    private long _ticks = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
