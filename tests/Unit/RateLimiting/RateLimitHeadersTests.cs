using WebConsole.Domain.RateLimiting;
using WebConsole.Infrastructure.RateLimiting;

namespace WebConsole.Unit.RateLimiting;

public sealed class RateLimitHeadersTests
{
    [Theory]
    [InlineData(0, "0s")]
    [InlineData(0.0001, "1ms")]
    [InlineData(20, "20ms")]
    [InlineData(999, "999ms")]
    [InlineData(999.2, "1s")]
    [InlineData(1000, "1s")]
    [InlineData(1500, "1.5s")]
    [InlineData(8640, "8.64s")]
    [InlineData(59_999, "59.999s")]
    [InlineData(60_000, "1m0s")]
    [InlineData(360_000, "6m0s")]
    [InlineData(90_500, "1m30.5s")]
    [InlineData(3_723_000, "1h2m3s")]
    [InlineData(3_600_000, "1h0m0s")]
    public void Resets_are_written_as_OpenAI_writes_them_rounded_up_to_the_millisecond(double milliseconds, string expected) =>
        Assert.Equal(expected, RateLimitHeaders.FormatDuration(TimeSpan.FromTicks((long)Math.Round(milliseconds * TimeSpan.TicksPerMillisecond))));

    [Fact]
    public void An_admitted_request_carries_six_headers_and_an_unlimited_dimension_none()
    {
        var limiter = new SlidingWindowLimiter(new FakeClock());
        var both = limiter.TryAcquire("k", RateLimit.Create(100, 1000, 500), 40, TokenBudget.Search);
        Assert.Equal(
            [
                new("x-ratelimit-limit-requests", "100"),
                new("x-ratelimit-remaining-requests", "99"),
                new("x-ratelimit-reset-requests", "0s"),
                new("x-ratelimit-limit-tokens", "500"),
                new("x-ratelimit-remaining-tokens", "460"),
                new("x-ratelimit-reset-tokens", "0s"),
            ],
            RateLimitHeaders.Of(both));
        Assert.Null(RateLimitHeaders.RetryAfterSeconds(both));

        var requestsOnly = limiter.TryAcquire("k2", RateLimit.Create(2000, null, null), 40, TokenBudget.Search);
        Assert.Equal(["x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"],
            RateLimitHeaders.Of(requestsOnly).Select(h => h.Key));

        // The ingest budget's limit is what an ingest request sees.
        var ingest = limiter.TryAcquire("k3", RateLimit.Create(null, 1000, 5), 40, TokenBudget.Ingest);
        Assert.Equal(["x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"], RateLimitHeaders.Of(ingest).Select(h => h.Key));
        Assert.Equal("960", RateLimitHeaders.Of(ingest).Single(h => h.Key == "x-ratelimit-remaining-tokens").Value);
    }

    [Fact]
    public void Retry_after_is_whole_seconds_rounded_up_and_absent_when_no_wait_helps()
    {
        var clock = new FakeClock();
        var limiter = new SlidingWindowLimiter(clock);
        var limit = RateLimit.Create(1, null, 100);
        Assert.True(limiter.TryAcquire("k", limit, 10, TokenBudget.Search).Allowed);
        clock.Advance(TimeSpan.FromMilliseconds(1500));

        var refused = limiter.TryAcquire("k", limit, 10, TokenBudget.Search);
        Assert.False(refused.Allowed);
        Assert.Equal("59", RateLimitHeaders.RetryAfterSeconds(refused));
        Assert.Equal("58.5s", RateLimitHeaders.Of(refused).Single(h => h.Key == "x-ratelimit-reset-requests").Value);

        var neverFits = limiter.TryAcquire("other", limit, 101, TokenBudget.Search);
        Assert.True(neverFits.NeverFits);
        Assert.Null(RateLimitHeaders.RetryAfterSeconds(neverFits));
    }
}
