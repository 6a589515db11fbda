using System.Collections.Concurrent;
using System.Globalization;

namespace WebConsole.Domain.RateLimiting;

/// <summary>The token budget a request counts against; ingest and search tokens are limited apart.</summary>
public enum TokenBudget
{
    /// <summary>Search requests, and every request that is not an ingest (the default).</summary>
    Search,

    /// <summary>Ingest requests (<c>input_type</c> <c>INGEST</c>).</summary>
    Ingest,
}

/// <summary>Helpers for <see cref="TokenBudget"/>.</summary>
public static class TokenBudgets
{
    /// <summary>
    /// The budget of a request's <c>input_type</c>: <c>ingest</c> (any case) is <see cref="TokenBudget.Ingest"/>, anything
    /// else, absent included, counts as <see cref="TokenBudget.Search"/>.
    /// </summary>
    public static TokenBudget FromInputType(string? inputType) =>
        string.Equals(inputType?.Trim(), "ingest", StringComparison.OrdinalIgnoreCase) ? TokenBudget.Ingest : TokenBudget.Search;
}

/// <summary>The limit that refused a request.</summary>
public enum RateLimitKind
{
    /// <summary>Requests per minute.</summary>
    RequestsPerMinute,

    /// <summary>Ingest tokens per minute.</summary>
    IngestTokensPerMinute,

    /// <summary>Search tokens per minute.</summary>
    SearchTokensPerMinute,
}

/// <summary>
/// The outcome of <see cref="SlidingWindowLimiter.TryAcquire"/>, with the values of the
/// <c>x-ratelimit-{limit,remaining,reset}-{requests,tokens}</c> headers and, for a refusal, <c>Retry-After</c>.
/// Limits that are not set (unlimited) have null limit and remaining values and a zero reset.
/// </summary>
public readonly record struct RateLimitDecision
{
    /// <summary>Whether the request was admitted (and counted).</summary>
    public required bool Allowed { get; init; }

    /// <summary>The limit that refused the request; null when admitted.</summary>
    public RateLimitKind? RefusedBy { get; init; }

    /// <summary>
    /// The refusing limit in words for the 429 reason: <c>requests per minute</c>, <c>ingest tokens per minute</c> or
    /// <c>search tokens per minute</c>; null when admitted.
    /// </summary>
    public string? RefusedLimit => RefusedBy is { } kind ? SlidingWindowLimiter.Describe(kind) : null;

    /// <summary>A sentence for the client that names the limit and when to retry; null when admitted.</summary>
    public string? Reason { get; init; }

    /// <summary>
    /// True when the request needs more tokens than the whole per-minute token limit, so no wait can admit it;
    /// <see cref="RetryAfter"/> is then null.
    /// </summary>
    public bool NeverFits { get; init; }

    /// <summary>Requests per minute (<c>x-ratelimit-limit-requests</c>); null when unlimited.</summary>
    public long? RequestsLimit { get; init; }

    /// <summary>Requests left in the window after this decision (<c>x-ratelimit-remaining-requests</c>); null when unlimited.</summary>
    public long? RequestsRemaining { get; init; }

    /// <summary>
    /// Time until the window has room for one more request (<c>x-ratelimit-reset-requests</c>); zero while there is room.
    /// </summary>
    public TimeSpan RequestsReset { get; init; }

    /// <summary>Tokens per minute of the request's budget (<c>x-ratelimit-limit-tokens</c>); null when unlimited.</summary>
    public long? TokensLimit { get; init; }

    /// <summary>Tokens of the request's budget left in the window after this decision (<c>x-ratelimit-remaining-tokens</c>); null when unlimited.</summary>
    public long? TokensRemaining { get; init; }

    /// <summary>
    /// Time until the window has room for as many tokens as this request asked for (<c>x-ratelimit-reset-tokens</c>);
    /// zero while there is room; zero as well when the request can never fit.
    /// </summary>
    public TimeSpan TokensReset { get; init; }

    /// <summary>
    /// For a refusal, the time until this same request would be admitted if nothing else arrived (<c>Retry-After</c>, to be
    /// rounded up to whole seconds); null when admitted or when the request can never fit.
    /// </summary>
    public TimeSpan? RetryAfter { get; init; }
}

/// <summary>
/// An in-memory limiter over a true sliding window of the last 60 seconds: each key keeps its admitted requests as
/// timestamped entries (with their tokens) and running sums, pruned lazily, so capacity comes back entry by entry as
/// entries age out rather than all at once at a bucket boundary.
/// </summary>
/// <remarks>
/// Thread-safe: decisions on one key are serialized by a lock of that key; different keys do not contend. Keys are opaque
/// (e.g. <c>org/model/key</c>). Time comes from <see cref="TimeProvider.GetTimestamp"/> (monotonic), so a fake clock must
/// override <c>GetTimestamp</c> and <c>TimestampFrequency</c>. Keys with nothing in their window are dropped by a sweep that
/// runs at most once per window, on the thread of a request.
/// </remarks>
public sealed class SlidingWindowLimiter
{
    /// <summary>The length of the window.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(60);

    private readonly TimeProvider _time;
    private readonly long _window;
    private readonly ConcurrentDictionary<string, KeyWindow> _keys = new(StringComparer.Ordinal);
    private long _nextSweep;

    /// <summary>Creates a limiter on a clock.</summary>
    public SlidingWindowLimiter(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _window = checked(60 * time.TimestampFrequency);
        _nextSweep = time.GetTimestamp() + _window;
    }

    /// <summary>The number of keys currently held (keys idle for more than a window are dropped).</summary>
    public int KeyCount => _keys.Count;

    /// <summary>
    /// Admits a request when, over the last 60 seconds, one more request stays within <see cref="RateLimit.RequestsPerMinute"/>
    /// and <paramref name="tokens"/> more tokens stay within the token limit of <paramref name="budget"/>; an admitted request
    /// is counted, a refused one consumes nothing.
    /// </summary>
    /// <param name="key">The opaque key the limit applies to.</param>
    /// <param name="limit">The limits in force (read on every call, so a changed limit applies at once).</param>
    /// <param name="tokens">The request's tokens (input tokens plus estimated output tokens); not negative.</param>
    /// <param name="budget">The token budget the tokens count against.</param>
    public RateLimitDecision TryAcquire(string key, RateLimit limit, long tokens, TokenBudget budget)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        var tokenLimit = TokenLimitOf(limit, budget);
        var now = _time.GetTimestamp();
        SweepIfDue(now);

        while (true)
        {
            var window = _keys.GetOrAdd(key, static _ => new KeyWindow());
            lock (window.Gate)
            {
                if (window.Removed)
                {
                    // The sweep dropped this instance between the lookup and the lock; take the fresh one.
                    continue;
                }

                return Decide(window, now, limit.RequestsPerMinute, tokenLimit, tokens, budget);
            }
        }
    }

    /// <summary>
    /// Corrects the tokens counted for a key once the real count is known (e.g. output tokens estimated at admission, then
    /// counted). A positive delta counts as used now; a negative delta gives back tokens of the newest entries of the budget
    /// (never below zero), so a refund cannot make room beyond what was counted.
    /// </summary>
    public void Reconcile(string key, TokenBudget budget, long tokenDelta)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (tokenDelta == 0)
        {
            return;
        }

        var now = _time.GetTimestamp();
        while (true)
        {
            KeyWindow? window;
            if (tokenDelta > 0)
            {
                window = _keys.GetOrAdd(key, static _ => new KeyWindow());
            }
            else if (!_keys.TryGetValue(key, out window))
            {
                return;
            }

            lock (window.Gate)
            {
                if (window.Removed)
                {
                    continue;
                }

                window.Prune(now - _window);
                if (tokenDelta > 0)
                {
                    window.Add(now, 0, budget, tokenDelta);
                }
                else
                {
                    window.Refund(budget, -tokenDelta);
                }

                return;
            }
        }
    }

    /// <summary>Drops every key with nothing left in its window; runs on its own at most once per window.</summary>
    public void Sweep() => Sweep(_time.GetTimestamp());

    internal static string Describe(RateLimitKind kind) => kind switch
    {
        RateLimitKind.RequestsPerMinute => "requests per minute",
        RateLimitKind.IngestTokensPerMinute => "ingest tokens per minute",
        _ => "search tokens per minute",
    };

    private static long? TokenLimitOf(RateLimit limit, TokenBudget budget) =>
        budget == TokenBudget.Ingest ? limit.IngestTokensPerMinute : limit.SearchTokensPerMinute;

    private RateLimitDecision Decide(KeyWindow window, long now, int? requestLimit, long? tokenLimit, long tokens, TokenBudget budget)
    {
        window.Prune(now - _window);
        var tokensUsed = window.TokensOf(budget);
        var tokenKind = budget == TokenBudget.Ingest ? RateLimitKind.IngestTokensPerMinute : RateLimitKind.SearchTokensPerMinute;

        if (tokenLimit is { } maxTokens && tokens > maxTokens)
        {
            return new RateLimitDecision
            {
                Allowed = false,
                RefusedBy = tokenKind,
                NeverFits = true,
                Reason = string.Create(
                    CultureInfo.InvariantCulture,
                    $"The request needs {tokens} tokens, more than the whole limit of {maxTokens} {Describe(tokenKind)}; it can never be admitted"),
                RequestsLimit = requestLimit,
                RequestsRemaining = requestLimit is { } r ? Math.Max(0, r - window.Requests) : null,
                RequestsReset = requestLimit is { } rl ? ResetFor(window, now, rl, 1, null) : TimeSpan.Zero,
                TokensLimit = maxTokens,
                TokensRemaining = Math.Max(0, maxTokens - tokensUsed),
                TokensReset = TimeSpan.Zero,
            };
        }

        var requestsFit = requestLimit is not { } maxRequests || window.Requests + 1 <= maxRequests;
        var tokensFit = tokenLimit is not { } maxBudget || tokensUsed + tokens <= maxBudget;
        if (requestsFit && tokensFit)
        {
            window.Add(now, 1, budget, tokens);
            tokensUsed += tokens;
        }

        var requestsReset = requestLimit is { } rq ? ResetFor(window, now, rq, 1, null) : TimeSpan.Zero;
        var tokensReset = tokenLimit is { } tl ? ResetFor(window, now, tl, tokens, budget) : TimeSpan.Zero;
        var decision = new RateLimitDecision
        {
            Allowed = requestsFit && tokensFit,
            RequestsLimit = requestLimit,
            RequestsRemaining = requestLimit is { } r2 ? Math.Max(0, r2 - window.Requests) : null,
            RequestsReset = requestsReset,
            TokensLimit = tokenLimit,
            TokensRemaining = tokenLimit is { } t2 ? Math.Max(0, t2 - tokensUsed) : null,
            TokensReset = tokensReset,
        };

        if (decision.Allowed)
        {
            return decision;
        }

        // Both limits only loosen while nothing is admitted, so the request fits once the slower of the two has room.
        var retryAfter = requestsReset >= tokensReset ? requestsReset : tokensReset;
        var refusedBy = !requestsFit && (tokensFit || requestsReset >= tokensReset) ? RateLimitKind.RequestsPerMinute : tokenKind;
        var refusedLimit = refusedBy == RateLimitKind.RequestsPerMinute ? requestLimit!.Value : tokenLimit!.Value;
        return decision with
        {
            RefusedBy = refusedBy,
            RetryAfter = retryAfter,
            Reason = string.Create(
                CultureInfo.InvariantCulture,
                $"Rate limit of {refusedLimit} {Describe(refusedBy)} reached; retry after {Math.Ceiling(retryAfter.TotalSeconds):0} s"),
        };
    }

    /// <summary>
    /// The time until the window's count (requests when <paramref name="budget"/> is null, else that budget's tokens) drops
    /// to at most <paramref name="limit"/> minus <paramref name="demand"/>, as the oldest entries age out.
    /// </summary>
    private TimeSpan ResetFor(KeyWindow window, long now, long limit, long demand, TokenBudget? budget)
    {
        var used = budget is { } b ? window.TokensOf(b) : window.Requests;
        var excess = used + demand - limit;
        if (excess <= 0)
        {
            return TimeSpan.Zero;
        }

        var expiresAt = window.TimeWhenFreed(excess, budget) + _window;
        return ToTimeSpan(Math.Max(0, expiresAt - now));
    }

    private TimeSpan ToTimeSpan(long timestampDelta)
    {
        var frequency = _time.TimestampFrequency;
        return frequency == TimeSpan.TicksPerSecond
            ? TimeSpan.FromTicks(timestampDelta)
            : TimeSpan.FromTicks((long)Math.Ceiling(timestampDelta * ((double)TimeSpan.TicksPerSecond / frequency)));
    }

    private void SweepIfDue(long now)
    {
        var due = Interlocked.Read(ref _nextSweep);
        if (now >= due && Interlocked.CompareExchange(ref _nextSweep, now + _window, due) == due)
        {
            Sweep(now);
        }
    }

    private void Sweep(long now)
    {
        foreach (var (key, window) in _keys)
        {
            lock (window.Gate)
            {
                window.Prune(now - _window);
                if (window.Count > 0)
                {
                    continue;
                }

                // Mark first: a caller that already holds this instance retries on a fresh one instead of counting into it.
                window.Removed = true;
                _keys.TryRemove(new KeyValuePair<string, KeyWindow>(key, window));
            }
        }
    }

    /// <summary>One key's entries, oldest first, in a growable ring, with running sums; guarded by <see cref="Gate"/>.</summary>
    private sealed class KeyWindow
    {
        private Entry[] _entries = new Entry[8];
        private int _head;

        public Lock Gate { get; } = new();

        public bool Removed { get; set; }

        public int Count { get; private set; }

        public long Requests { get; private set; }

        public long IngestTokens { get; private set; }

        public long SearchTokens { get; private set; }

        public long TokensOf(TokenBudget budget) => budget == TokenBudget.Ingest ? IngestTokens : SearchTokens;

        public void Add(long timestamp, int requests, TokenBudget budget, long tokens)
        {
            if (Count == _entries.Length)
            {
                var grown = new Entry[_entries.Length * 2];
                for (var i = 0; i < Count; i++)
                {
                    grown[i] = _entries[(_head + i) % _entries.Length];
                }

                _entries = grown;
                _head = 0;
            }

            _entries[(_head + Count) % _entries.Length] = new Entry(timestamp, requests, budget, tokens);
            Count++;
            Apply(requests, budget, tokens);
        }

        /// <summary>Drops entries at or before <paramref name="cutoff"/>: an entry counts for exactly one window after it.</summary>
        public void Prune(long cutoff)
        {
            while (Count > 0 && _entries[_head].Timestamp <= cutoff)
            {
                var entry = _entries[_head];
                Apply(-entry.Requests, entry.Budget, -entry.Tokens);
                _entries[_head] = default;
                _head = (_head + 1) % _entries.Length;
                Count--;
            }
        }

        public void Refund(TokenBudget budget, long tokens)
        {
            for (var i = Count - 1; i >= 0 && tokens > 0; i--)
            {
                ref var entry = ref _entries[(_head + i) % _entries.Length];
                if (entry.Budget != budget || entry.Tokens == 0)
                {
                    continue;
                }

                var taken = Math.Min(entry.Tokens, tokens);
                entry = entry with { Tokens = entry.Tokens - taken };
                Apply(0, budget, -taken);
                tokens -= taken;
            }
        }

        /// <summary>The timestamp of the entry whose ageing out frees at least <paramref name="amount"/> (requests, or tokens of a budget).</summary>
        public long TimeWhenFreed(long amount, TokenBudget? budget)
        {
            long freed = 0;
            for (var i = 0; i < Count; i++)
            {
                var entry = _entries[(_head + i) % _entries.Length];
                freed += budget is { } b ? (entry.Budget == b ? entry.Tokens : 0) : entry.Requests;
                if (freed >= amount)
                {
                    return entry.Timestamp;
                }
            }

            // Unreachable while the sums match the entries; the newest entry is the latest anything can free.
            return Count > 0 ? _entries[(_head + Count - 1) % _entries.Length].Timestamp : 0;
        }

        private void Apply(long requests, TokenBudget budget, long tokens)
        {
            Requests += requests;
            if (budget == TokenBudget.Ingest)
            {
                IngestTokens += tokens;
            }
            else
            {
                SearchTokens += tokens;
            }
        }
    }

    private readonly record struct Entry(long Timestamp, int Requests, TokenBudget Budget, long Tokens);
}
