using WebConsole.Domain.RateLimiting;

namespace WebConsole.Infrastructure.RateLimiting;

/// <summary>What one window holds now (the last 60 seconds) against its limits; a null limit is unlimited.</summary>
/// <param name="Requests">Requests counted.</param>
/// <param name="IngestTokens">Ingest tokens counted.</param>
/// <param name="SearchTokens">Search tokens counted.</param>
/// <param name="Limit">The limits in force.</param>
public sealed record RateLimitWindowUsage(long Requests, long IngestTokens, long SearchTokens, RateLimit Limit)
{
    /// <summary>An empty window without limits.</summary>
    public static RateLimitWindowUsage Unlimited { get; } = new(0, 0, 0, RateLimit.Unlimited);
}

/// <summary>Reading a window without counting anything.</summary>
public static class SlidingWindowLimiterExtensions
{
    // Larger than any real count, small enough that the limiter's sums cannot overflow.
    private const long ProbeTokens = long.MaxValue / 4;

    /// <summary>
    /// What the window of <paramref name="key"/> holds now. The limiter has no read-only query; a probe that needs more
    /// tokens than its (huge) limit can never fit, so it is refused, and a refusal counts nothing while it still reports
    /// the remaining requests and tokens, from which the counts follow.
    /// </summary>
    public static RateLimitWindowUsage Peek(this SlidingWindowLimiter limiter, string key, RateLimit limit)
    {
        ArgumentNullException.ThrowIfNull(limiter);
        ArgumentNullException.ThrowIfNull(key);
        var probe = RateLimit.Create(int.MaxValue, ProbeTokens, ProbeTokens);
        var ingest = limiter.TryAcquire(key, probe, ProbeTokens + 1, TokenBudget.Ingest);
        var search = limiter.TryAcquire(key, probe, ProbeTokens + 1, TokenBudget.Search);
        return new RateLimitWindowUsage(
            int.MaxValue - (ingest.RequestsRemaining ?? int.MaxValue),
            ProbeTokens - (ingest.TokensRemaining ?? ProbeTokens),
            ProbeTokens - (search.TokensRemaining ?? ProbeTokens),
            limit);
    }
}
