namespace WebConsole.Domain.RateLimiting;

/// <summary>
/// What was counted for one limiter key in one wall-clock second: the unit in which nodes of one database share their
/// counts (<see cref="SlidingWindowLimiter.DrainLocalDeltas"/> on the writing node, <see cref="SlidingWindowLimiter.SetRemote"/>
/// on the reading ones).
/// </summary>
/// <param name="Key">The limiter key.</param>
/// <param name="Slot">The second, in Unix time (whole seconds since 1970-01-01 UTC).</param>
/// <param name="Requests">Requests admitted in that second.</param>
/// <param name="IngestTokens">Ingest tokens counted in that second (negative for a refund in a delta).</param>
/// <param name="SearchTokens">Search tokens counted in that second (negative for a refund in a delta).</param>
public readonly record struct RateLimitSlotCount(string Key, long Slot, long Requests, long IngestTokens, long SearchTokens);
