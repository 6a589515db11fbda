using WebConsole.Domain.RateLimiting;

namespace WebConsole.Unit.Domain.RateLimiting;

public sealed class SlidingWindowLimiterTests
{
    private const string Key = "org-1/model-1/key-1";

    private readonly ManualClock _clock = new();
    private readonly SlidingWindowLimiter _limiter;

    public SlidingWindowLimiterTests()
    {
        _limiter = new SlidingWindowLimiter(_clock);
    }

    [Fact]
    public void A_burst_is_admitted_up_to_the_request_limit_then_refused_until_the_window_moves()
    {
        var limit = RateLimit.Create(100, null, null);
        for (var i = 1; i <= 100; i++)
        {
            var admitted = _limiter.TryAcquire(Key, limit, 0, TokenBudget.Search);
            Assert.True(admitted.Allowed);
            Assert.Equal(100 - i, admitted.RequestsRemaining);
            Assert.Equal(100, admitted.RequestsLimit);
        }

        var refused = _limiter.TryAcquire(Key, limit, 0, TokenBudget.Search);
        Assert.False(refused.Allowed);
        Assert.Equal(RateLimitKind.RequestsPerMinute, refused.RefusedBy);
        Assert.Equal("requests per minute", refused.RefusedLimit);
        Assert.Equal(0, refused.RequestsRemaining);
        Assert.Equal(TimeSpan.FromSeconds(60), refused.RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(60), refused.RequestsReset);
        Assert.Contains("100 requests per minute", refused.Reason, StringComparison.Ordinal);
        Assert.Contains("retry after 60 s", refused.Reason, StringComparison.Ordinal);

        _clock.Advance(TimeSpan.FromMilliseconds(59_999));
        Assert.False(_limiter.TryAcquire(Key, limit, 0, TokenBudget.Search).Allowed);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(_limiter.TryAcquire(Key, limit, 0, TokenBudget.Search).Allowed);
    }

    [Fact]
    public void Capacity_comes_back_as_entries_age_out_not_at_a_bucket_boundary()
    {
        var limit = RateLimit.Create(100, null, null);
        Assert.Equal(60, Acquire(limit, 60));
        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(40, Acquire(limit, 40));

        _clock.Advance(TimeSpan.FromSeconds(29));
        var refused = _limiter.TryAcquire(Key, limit, 0, TokenBudget.Search);
        Assert.False(refused.Allowed);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.RetryAfter);

        // The 60 of t=0 have aged out; the 40 of t=30 s still count, so exactly 60 fit.
        _clock.Advance(TimeSpan.FromMilliseconds(1_001));
        Assert.Equal(60, Acquire(limit, 100));
        var stillFull = _limiter.TryAcquire(Key, limit, 0, TokenBudget.Search);
        Assert.False(stillFull.Allowed);
        Assert.Equal(TimeSpan.FromMilliseconds(29_999), stillFull.RetryAfter);

        // A fixed window would have reset everything at t=60 s; here the 40 free up only at t=90 s.
        _clock.Advance(TimeSpan.FromMilliseconds(29_998));
        Assert.False(_limiter.TryAcquire(Key, limit, 0, TokenBudget.Search).Allowed);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(40, Acquire(limit, 100));
    }

    [Fact]
    public async Task Two_hundred_concurrent_requests_against_100_per_minute_admit_exactly_100()
    {
        var limit = RateLimit.Create(100, null, null);
        for (var round = 0; round < 10; round++)
        {
            var key = $"org/model/round-{round}";
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var admitted = 0;
            var tasks = Enumerable.Range(0, 200).Select(_ => Task.Run(async () =>
            {
                await start.Task;
                if (_limiter.TryAcquire(key, limit, 1, TokenBudget.Search).Allowed)
                {
                    Interlocked.Increment(ref admitted);
                }
            })).ToArray();
            start.SetResult();
            await Task.WhenAll(tasks);

            Assert.Equal(100, admitted);
            Assert.Equal(0, _limiter.TryAcquire(key, limit, 1, TokenBudget.Search).RequestsRemaining);
        }
    }

    [Fact]
    public async Task A_sweep_racing_with_requests_loses_no_count()
    {
        var limit = RateLimit.Create(100, null, null);
        for (var round = 0; round < 200; round++)
        {
            // The key's window is empty, so every sweep among the requests may drop it while others count into it.
            _clock.Advance(TimeSpan.FromSeconds(61));
            var admitted = 0;
            await Parallel.ForAsync(0, 300, (i, _) =>
            {
                if (i % 3 == 0)
                {
                    _limiter.Sweep();
                }
                else if (_limiter.TryAcquire(Key, limit, 1, TokenBudget.Search).Allowed)
                {
                    Interlocked.Increment(ref admitted);
                }

                return ValueTask.CompletedTask;
            });

            Assert.Equal(100, admitted);
            Assert.False(_limiter.TryAcquire(Key, limit, 1, TokenBudget.Search).Allowed);
        }
    }

    [Fact]
    public void The_token_limit_trips_before_the_request_limit_for_long_inputs()
    {
        var limit = RateLimit.Create(6_000, 6_000_000, 600_000);
        Assert.True(_limiter.TryAcquire(Key, limit, 250_000, TokenBudget.Search).Allowed);
        Assert.True(_limiter.TryAcquire(Key, limit, 250_000, TokenBudget.Search).Allowed);

        var refused = _limiter.TryAcquire(Key, limit, 250_000, TokenBudget.Search);
        Assert.False(refused.Allowed);
        Assert.Equal(RateLimitKind.SearchTokensPerMinute, refused.RefusedBy);
        Assert.Equal("search tokens per minute", refused.RefusedLimit);
        Assert.Equal(5_998, refused.RequestsRemaining);
        Assert.Equal(100_000, refused.TokensRemaining);
        Assert.Equal(600_000, refused.TokensLimit);

        // A refused request consumed nothing: what is left still fits.
        Assert.True(_limiter.TryAcquire(Key, limit, 100_000, TokenBudget.Search).Allowed);
        Assert.Equal(5_997, _limiter.TryAcquire(Key, limit, 1, TokenBudget.Search).RequestsRemaining);
    }

    [Fact]
    public void Ingest_and_search_tokens_are_counted_against_separate_budgets()
    {
        var limit = RateLimit.Create(null, 1_000, 100);
        Assert.True(_limiter.TryAcquire(Key, limit, 100, TokenBudget.Search).Allowed);
        var searchFull = _limiter.TryAcquire(Key, limit, 1, TokenBudget.Search);
        Assert.False(searchFull.Allowed);
        Assert.Equal(RateLimitKind.SearchTokensPerMinute, searchFull.RefusedBy);

        var ingest = _limiter.TryAcquire(Key, limit, 1_000, TokenBudget.Ingest);
        Assert.True(ingest.Allowed);
        Assert.Equal(1_000, ingest.TokensLimit);
        Assert.Equal(0, ingest.TokensRemaining);
        Assert.Null(ingest.RequestsLimit);
        Assert.Null(ingest.RequestsRemaining);

        var ingestFull = _limiter.TryAcquire(Key, limit, 1, TokenBudget.Ingest);
        Assert.False(ingestFull.Allowed);
        Assert.Equal("ingest tokens per minute", ingestFull.RefusedLimit);
    }

    [Fact]
    public void Remaining_reset_and_retry_after_follow_the_window()
    {
        var limit = RateLimit.Create(10, null, 1_000);
        Assert.True(_limiter.TryAcquire(Key, limit, 600, TokenBudget.Search).Allowed);
        _clock.Advance(TimeSpan.FromSeconds(20));
        Assert.True(_limiter.TryAcquire(Key, limit, 300, TokenBudget.Search).Allowed);
        _clock.Advance(TimeSpan.FromSeconds(10));

        // 200 tokens need the 600 of t=0 to age out, at t=60 s: 30 s from now.
        var refused = _limiter.TryAcquire(Key, limit, 200, TokenBudget.Search);
        Assert.False(refused.Allowed);
        Assert.Equal(RateLimitKind.SearchTokensPerMinute, refused.RefusedBy);
        Assert.Equal(100, refused.TokensRemaining);
        Assert.Equal(TimeSpan.FromSeconds(30), refused.TokensReset);
        Assert.Equal(TimeSpan.FromSeconds(30), refused.RetryAfter);
        Assert.Equal(8, refused.RequestsRemaining);
        Assert.Equal(TimeSpan.Zero, refused.RequestsReset);
        Assert.Contains("1000 search tokens per minute", refused.Reason, StringComparison.Ordinal);

        // An admitted request reports what is left after it, and when a request of its size fits again.
        var admitted = _limiter.TryAcquire(Key, limit, 100, TokenBudget.Search);
        Assert.True(admitted.Allowed);
        Assert.Null(admitted.RetryAfter);
        Assert.Null(admitted.RefusedBy);
        Assert.Null(admitted.Reason);
        Assert.Equal(0, admitted.TokensRemaining);
        Assert.Equal(TimeSpan.FromSeconds(30), admitted.TokensReset);
        Assert.Equal(7, admitted.RequestsRemaining);
        Assert.Equal(TimeSpan.Zero, admitted.RequestsReset);
    }

    [Fact]
    public void When_both_limits_refuse_the_reason_names_the_one_that_frees_last()
    {
        var limit = RateLimit.Create(2, null, 1_000);
        Assert.True(_limiter.TryAcquire(Key, limit, 0, TokenBudget.Search).Allowed);
        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.True(_limiter.TryAcquire(Key, limit, 1_000, TokenBudget.Search).Allowed);
        _clock.Advance(TimeSpan.FromSeconds(10));

        // A request slot frees at t=60 s, the tokens only at t=70 s: the client must wait for the tokens.
        var refused = _limiter.TryAcquire(Key, limit, 10, TokenBudget.Search);
        Assert.False(refused.Allowed);
        Assert.Equal(RateLimitKind.SearchTokensPerMinute, refused.RefusedBy);
        Assert.Equal(TimeSpan.FromSeconds(40), refused.RequestsReset);
        Assert.Equal(TimeSpan.FromSeconds(50), refused.TokensReset);
        Assert.Equal(TimeSpan.FromSeconds(50), refused.RetryAfter);

        // At t=60 s a slot is free but the tokens are not; at t=70 s both are.
        _clock.Advance(TimeSpan.FromSeconds(40));
        var tokensOnly = _limiter.TryAcquire(Key, limit, 10, TokenBudget.Search);
        Assert.Equal(RateLimitKind.SearchTokensPerMinute, tokensOnly.RefusedBy);
        Assert.Equal(TimeSpan.FromSeconds(10), tokensOnly.RetryAfter);
        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.True(_limiter.TryAcquire(Key, limit, 10, TokenBudget.Search).Allowed);
        Assert.True(_limiter.TryAcquire(Key, limit, 10, TokenBudget.Search).Allowed);

        // Now the requests are what is full; the tokens would fit.
        var requestsBound = _limiter.TryAcquire(Key, limit, 10, TokenBudget.Search);
        Assert.Equal(RateLimitKind.RequestsPerMinute, requestsBound.RefusedBy);
        Assert.Equal(TimeSpan.FromSeconds(60), requestsBound.RetryAfter);
    }

    [Fact]
    public void A_request_larger_than_the_whole_token_limit_is_refused_as_never_fitting_and_consumes_nothing()
    {
        var limit = RateLimit.Create(100, null, 1_000);
        var refused = _limiter.TryAcquire(Key, limit, 1_001, TokenBudget.Search);
        Assert.False(refused.Allowed);
        Assert.True(refused.NeverFits);
        Assert.Null(refused.RetryAfter);
        Assert.Equal(RateLimitKind.SearchTokensPerMinute, refused.RefusedBy);
        Assert.Contains("can never be admitted", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(100, refused.RequestsRemaining);

        var whole = _limiter.TryAcquire(Key, limit, 1_000, TokenBudget.Search);
        Assert.True(whole.Allowed);
        Assert.False(whole.NeverFits);
        Assert.Equal(99, whole.RequestsRemaining);
    }

    [Fact]
    public void Reconcile_moves_the_counted_tokens()
    {
        var limit = RateLimit.Create(null, null, 1_000);

        // Estimated 500, really 200: the refund makes room for 800.
        Assert.True(_limiter.TryAcquire(Key, limit, 500, TokenBudget.Search).Allowed);
        _limiter.Reconcile(Key, TokenBudget.Search, -300);
        Assert.True(_limiter.TryAcquire(Key, limit, 800, TokenBudget.Search).Allowed);
        Assert.False(_limiter.TryAcquire(Key, limit, 1, TokenBudget.Search).Allowed);

        // Estimated 100, really 200 produced at t=10 s: the extra counts from then on, for a whole window.
        var other = "org/model/other";
        Assert.True(_limiter.TryAcquire(other, limit, 100, TokenBudget.Search).Allowed);
        _clock.Advance(TimeSpan.FromSeconds(10));
        _limiter.Reconcile(other, TokenBudget.Search, 800);
        var full = _limiter.TryAcquire(other, limit, 101, TokenBudget.Search);
        Assert.False(full.Allowed);
        Assert.Equal(100, full.TokensRemaining);
        Assert.Equal(TimeSpan.FromSeconds(50), full.RetryAfter);

        _clock.Advance(TimeSpan.FromSeconds(50));
        var afterFirst = _limiter.TryAcquire(other, limit, 201, TokenBudget.Search);
        Assert.False(afterFirst.Allowed);
        Assert.Equal(200, afterFirst.TokensRemaining);
        Assert.Equal(TimeSpan.FromSeconds(10), afterFirst.RetryAfter);

        // A refund never goes below zero, and one for a key with nothing counted creates nothing.
        _limiter.Reconcile(other, TokenBudget.Ingest, -5_000);
        Assert.Equal(200, _limiter.TryAcquire(other, limit, 0, TokenBudget.Search).TokensRemaining);
        var keys = _limiter.KeyCount;
        _limiter.Reconcile("org/model/unknown", TokenBudget.Search, -10);
        Assert.Equal(keys, _limiter.KeyCount);
    }

    [Fact]
    public void Keys_idle_for_more_than_a_window_are_swept()
    {
        var limit = RateLimit.Create(10, null, null);
        _limiter.TryAcquire("a", limit, 0, TokenBudget.Search);
        _limiter.TryAcquire("b", limit, 0, TokenBudget.Search);
        _clock.Advance(TimeSpan.FromSeconds(50));
        _limiter.TryAcquire("b", limit, 0, TokenBudget.Search);
        Assert.Equal(2, _limiter.KeyCount);

        // The sweep rides on a request once a window has passed: "a" is idle, "b" still has an entry from t=50 s.
        _clock.Advance(TimeSpan.FromSeconds(11));
        _limiter.TryAcquire("c", limit, 0, TokenBudget.Search);
        Assert.Equal(2, _limiter.KeyCount);

        _clock.Advance(TimeSpan.FromSeconds(61));
        _limiter.TryAcquire("c", limit, 0, TokenBudget.Search);
        Assert.Equal(1, _limiter.KeyCount);

        // A swept key starts afresh.
        var fresh = _limiter.TryAcquire("a", limit, 0, TokenBudget.Search);
        Assert.Equal(9, fresh.RequestsRemaining);
    }

    [Fact]
    public void Unlimited_admits_everything_and_reports_no_limits()
    {
        for (var i = 0; i < 1_000; i++)
        {
            var decision = _limiter.TryAcquire(Key, RateLimit.Unlimited, 1_000_000, TokenBudget.Ingest);
            Assert.True(decision.Allowed);
            Assert.Null(decision.RequestsLimit);
            Assert.Null(decision.TokensRemaining);
        }
    }

    [Fact]
    public void A_changed_limit_applies_on_the_next_request()
    {
        Assert.Equal(5, Acquire(RateLimit.Create(5, null, null), 10));
        Assert.Equal(3, Acquire(RateLimit.Create(8, null, null), 10));
        Assert.False(_limiter.TryAcquire(Key, RateLimit.Create(2, null, null), 0, TokenBudget.Search).Allowed);
    }

    [Theory]
    [InlineData("ingest", TokenBudget.Ingest)]
    [InlineData("INGEST", TokenBudget.Ingest)]
    [InlineData("search", TokenBudget.Search)]
    [InlineData("classification", TokenBudget.Search)]
    [InlineData(null, TokenBudget.Search)]
    public void The_input_type_picks_the_budget(string? inputType, TokenBudget expected) =>
        Assert.Equal(expected, TokenBudgets.FromInputType(inputType));

    [Fact]
    public void Negative_tokens_are_rejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => _limiter.TryAcquire(Key, RateLimit.Unlimited, -1, TokenBudget.Search));

    [Fact]
    public void Remote_counts_reduce_what_is_left_and_free_up_one_window_after_their_second()
    {
        // Another node admitted 40 requests ten seconds ago.
        var now = UnixSeconds();
        _limiter.SetRemote([new RateLimitSlotCount(Key, now - 10, 40, 0, 0)]);
        var limit = RateLimit.Create(100, null, null);

        var first = _limiter.TryAcquire(Key, limit, 0, TokenBudget.Search);
        Assert.Equal(59, first.RequestsRemaining);
        Assert.Equal(59, Acquire(limit, 100));

        // The remote second ends 9 s ago and counts until a window after its end (51 s from now), before the local entries (60 s).
        var refused = _limiter.TryAcquire(Key, limit, 0, TokenBudget.Search);
        Assert.False(refused.Allowed);
        Assert.Equal(0, refused.RequestsRemaining);
        Assert.Equal(TimeSpan.FromSeconds(51), refused.RetryAfter);

        _clock.Advance(TimeSpan.FromMilliseconds(50_999));
        Assert.False(_limiter.TryAcquire(Key, limit, 0, TokenBudget.Search).Allowed);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(40, Acquire(limit, 100));

        // Other keys are untouched by this key's remote counts.
        Assert.Equal(99, _limiter.TryAcquire("org/model/other", limit, 0, TokenBudget.Search).RequestsRemaining);
    }

    [Fact]
    public void Remote_tokens_count_against_their_own_budget_and_set_the_reset()
    {
        var now = UnixSeconds();
        _limiter.SetRemote([new RateLimitSlotCount(Key, now, 1, 0, 700), new RateLimitSlotCount(Key, now - 30, 1, 900, 0)]);
        var limit = RateLimit.Create(null, 1_000, 1_000);

        var search = _limiter.TryAcquire(Key, limit, 400, TokenBudget.Search);
        Assert.False(search.Allowed);
        Assert.Equal(RateLimitKind.SearchTokensPerMinute, search.RefusedBy);
        Assert.Equal(300, search.TokensRemaining);
        Assert.Equal(TimeSpan.FromSeconds(61), search.RetryAfter);
        Assert.True(_limiter.TryAcquire(Key, limit, 300, TokenBudget.Search).Allowed);

        var ingest = _limiter.TryAcquire(Key, limit, 101, TokenBudget.Ingest);
        Assert.False(ingest.Allowed);
        Assert.Equal(100, ingest.TokensRemaining);
        Assert.Equal(TimeSpan.FromSeconds(31), ingest.RetryAfter);

        // 31 s on, the ingest second has left the window; the search second and the local 300 have not.
        _clock.Advance(TimeSpan.FromSeconds(31));
        Assert.True(_limiter.TryAcquire(Key, limit, 1_000, TokenBudget.Ingest).Allowed);
        Assert.False(_limiter.TryAcquire(Key, limit, 1, TokenBudget.Search).Allowed);

        // The local 300 free at 60 s, the remote 700 at 61 s.
        _clock.Advance(TimeSpan.FromSeconds(29));
        var partly = _limiter.TryAcquire(Key, limit, 301, TokenBudget.Search);
        Assert.Equal(300, partly.TokensRemaining);
        Assert.Equal(TimeSpan.FromSeconds(1), partly.RetryAfter);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(_limiter.TryAcquire(Key, limit, 1_000, TokenBudget.Search).Allowed);
    }

    [Fact]
    public void Set_remote_replaces_the_previous_counts_and_adds_up_the_rows_of_one_second()
    {
        var now = UnixSeconds();
        var limit = RateLimit.Create(100, null, null);
        _limiter.SetRemote([new RateLimitSlotCount(Key, now, 30, 0, 0), new RateLimitSlotCount(Key, now, 20, 0, 0), new RateLimitSlotCount(Key, now - 1, 5, 0, 0)]);
        Assert.Equal(44, _limiter.TryAcquire(Key, limit, 0, TokenBudget.Search).RequestsRemaining);

        // A newer read replaces the old one; a second whose rows sum below zero counts as nothing; seconds out of the window are ignored.
        _limiter.SetRemote([new RateLimitSlotCount(Key, now, 10, 0, -50), new RateLimitSlotCount(Key, now - 61, 500, 0, 0)]);
        var decision = _limiter.TryAcquire(Key, RateLimit.Create(100, null, 1_000), 0, TokenBudget.Search);
        Assert.Equal(88, decision.RequestsRemaining);
        Assert.Equal(1_000, decision.TokensRemaining);

        _limiter.SetRemote([]);
        Assert.Equal(97, _limiter.TryAcquire(Key, limit, 0, TokenBudget.Search).RequestsRemaining);
    }

    [Fact]
    public void Deltas_are_recorded_per_second_only_when_sharing_and_drained_once()
    {
        var limit = RateLimit.Create(3, null, 1_000);
        Assert.True(_limiter.TryAcquire(Key, limit, 10, TokenBudget.Search).Allowed);
        Assert.Empty(_limiter.DrainLocalDeltas());

        _limiter.RecordsLocalDeltas = true;
        var start = UnixSeconds();
        Assert.True(_limiter.TryAcquire(Key, limit, 100, TokenBudget.Search).Allowed);
        _clock.Advance(TimeSpan.FromMilliseconds(1_500));
        Assert.True(_limiter.TryAcquire(Key, limit, 50, TokenBudget.Ingest).Allowed);
        Assert.False(_limiter.TryAcquire(Key, limit, 1, TokenBudget.Search).Allowed); // refused: not counted
        _limiter.Reconcile(Key, TokenBudget.Search, 7);
        _limiter.Reconcile("org/model/other", TokenBudget.Ingest, 3);

        // A refund of 120 search tokens takes 7 from the reconcile's entry and 100 from the request of the first second, each
        // recorded against its own second, and 10 from the request counted before sharing, which no other node ever saw.
        _limiter.Reconcile(Key, TokenBudget.Search, -120);

        var deltas = _limiter.DrainLocalDeltas().OrderBy(d => d.Key == Key ? 0 : 1).ThenBy(d => d.Slot);
        Assert.Equal(
            [
                new RateLimitSlotCount(Key, start, 1, 0, 100 - 100),
                new RateLimitSlotCount(Key, start + 1, 1, 50, 7 - 7),
                new RateLimitSlotCount("org/model/other", start + 1, 0, 3, 0),
            ],
            deltas);
        Assert.Empty(_limiter.DrainLocalDeltas());

        _limiter.TryAcquire(Key, RateLimit.Unlimited, 0, TokenBudget.Search);
        Assert.Equal([new RateLimitSlotCount(Key, start + 1, 1, 0, 0)], _limiter.DrainLocalDeltas());
    }

    [Fact]
    public void Two_limiters_exchanging_their_deltas_share_one_limit()
    {
        // Two nodes on one clock; the "database" is the sum of what each drained, read back by the other.
        var nodeB = new SlidingWindowLimiter(_clock) { RecordsLocalDeltas = true };
        _limiter.RecordsLocalDeltas = true;
        var limit = RateLimit.Create(100, null, null);
        var written = new List<RateLimitSlotCount>();

        Assert.Equal(30, Acquire(limit, 30));
        written.AddRange(_limiter.DrainLocalDeltas());
        nodeB.SetRemote(written);
        var admittedByB = 0;
        for (var i = 0; i < 100; i++)
        {
            admittedByB += nodeB.TryAcquire(Key, limit, 0, TokenBudget.Search).Allowed ? 1 : 0;
        }

        Assert.Equal(70, admittedByB);
        _limiter.SetRemote(nodeB.DrainLocalDeltas());
        Assert.False(_limiter.TryAcquire(Key, limit, 0, TokenBudget.Search).Allowed);

        // A window on, each node's own entries have aged out but the other's second still counts, for one more second.
        _clock.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(100 - 70 - 1, _limiter.TryAcquire(Key, limit, 0, TokenBudget.Search).RequestsRemaining);
        Assert.Equal(100 - 30 - 1, nodeB.TryAcquire(Key, limit, 0, TokenBudget.Search).RequestsRemaining);
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(100 - 1 - 1, _limiter.TryAcquire(Key, limit, 0, TokenBudget.Search).RequestsRemaining);
    }

    [Fact]
    public void A_key_with_undrained_deltas_survives_the_sweep()
    {
        _limiter.RecordsLocalDeltas = true;
        var start = UnixSeconds();
        _limiter.TryAcquire(Key, RateLimit.Create(10, null, null), 0, TokenBudget.Search);
        _clock.Advance(TimeSpan.FromSeconds(120));
        _limiter.Sweep();
        Assert.Equal(1, _limiter.KeyCount);

        Assert.Equal([new RateLimitSlotCount(Key, start, 1, 0, 0)], _limiter.DrainLocalDeltas());
        _limiter.Sweep();
        Assert.Equal(0, _limiter.KeyCount);
    }

    [Fact]
    public async Task Drains_racing_with_requests_lose_and_double_no_count()
    {
        _limiter.RecordsLocalDeltas = true;
        var drained = new List<RateLimitSlotCount>();
        using var stop = new CancellationTokenSource();
        var drainer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                drained.AddRange(_limiter.DrainLocalDeltas());
                await Task.Yield();
            }
        });

        await Parallel.ForAsync(0, 20_000, (i, _) =>
        {
            _limiter.TryAcquire($"org/model/{i % 7}", RateLimit.Unlimited, 3, TokenBudget.Search);
            return ValueTask.CompletedTask;
        });
        await stop.CancelAsync();
        await drainer;
        drained.AddRange(_limiter.DrainLocalDeltas());

        Assert.Equal(20_000, drained.Sum(d => d.Requests));
        Assert.Equal(60_000, drained.Sum(d => d.SearchTokens));
    }

    private int Acquire(RateLimit limit, int attempts)
    {
        var admitted = 0;
        for (var i = 0; i < attempts; i++)
        {
            if (_limiter.TryAcquire(Key, limit, 0, TokenBudget.Search).Allowed)
            {
                admitted++;
            }
        }

        return admitted;
    }

    private long UnixSeconds() => _clock.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>A clock the test moves (Microsoft.Extensions.TimeProvider.Testing is not available here).</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}
