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
/// <para>
/// Thread-safe: decisions on one key are serialized by a lock of that key; different keys do not contend. Keys are opaque
/// (e.g. <c>org/model/key</c>). Time comes from <see cref="TimeProvider.GetTimestamp"/> (monotonic), so a fake clock must
/// override <c>GetTimestamp</c> and <c>TimestampFrequency</c>. Keys with nothing in their window are dropped by a sweep that
/// runs at most once per window, on the thread of a request.
/// </para>
/// <para>
/// Several nodes share one limit through counts per wall-clock second (<see cref="RateLimitSlotCount"/>, slots from
/// <see cref="TimeProvider.GetUtcNow"/>): with <see cref="RecordsLocalDeltas"/> on, what this node counts is also recorded
/// per second until <see cref="DrainLocalDeltas"/> takes it, and <see cref="SetRemote"/> hands in the other nodes' counts,
/// which every decision adds to its own. A remote second counts until one window after its end, so up to a second longer
/// than a local entry would: the conservative side.
/// </para>
/// </remarks>
public sealed class SlidingWindowLimiter
{
    /// <summary>The length of the window.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(60);

    private const long WindowSeconds = 60;

    private readonly TimeProvider _time;
    private readonly long _window;
    private readonly ConcurrentDictionary<string, KeyWindow> _keys = new(StringComparer.Ordinal);

    // Keys with deltas not yet drained, each at most once (KeyWindow.Dirty), so a drain visits only what changed.
    private readonly ConcurrentQueue<KeyWindow> _dirty = new();
    private volatile RemoteCounts _remote = RemoteCounts.Empty;
    private volatile bool _recordsLocalDeltas;
    private long _nextSweep;

    /// <summary>Creates a limiter on a clock.</summary>
    public SlidingWindowLimiter(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _window = checked(WindowSeconds * time.TimestampFrequency);
        _nextSweep = time.GetTimestamp() + _window;
    }

    /// <summary>The number of keys currently held (keys idle for more than a window are dropped).</summary>
    public int KeyCount => _keys.Count;

    /// <summary>
    /// Whether counted requests and tokens are also recorded per key and second for <see cref="DrainLocalDeltas"/>; off by
    /// default (a single node has no one to share with, and nothing would drain the record). Turned on by the service that
    /// shares counts between nodes.
    /// </summary>
    public bool RecordsLocalDeltas
    {
        get => _recordsLocalDeltas;
        set => _recordsLocalDeltas = value;
    }

    /// <summary>
    /// Admits a request when, over the last 60 seconds, one more request stays within <see cref="RateLimit.RequestsPerMinute"/>
    /// and <paramref name="tokens"/> more tokens stay within the token limit of <paramref name="budget"/>; an admitted request
    /// is counted, a refused one consumes nothing. The other nodes' counts (<see cref="SetRemote"/>) count as used.
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
        var wall = WallTicks();
        var remote = _remote.For(key, wall / TimeSpan.TicksPerSecond - WindowSeconds);
        SweepIfDue(now);

        while (true)
        {
            var window = _keys.GetOrAdd(key, static k => new KeyWindow(k));
            lock (window.Gate)
            {
                if (window.Removed)
                {
                    // The sweep dropped this instance between the lookup and the lock; take the fresh one.
                    continue;
                }

                return Decide(window, remote, now, wall, limit.RequestsPerMinute, tokenLimit, tokens, budget);
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
        var track = _recordsLocalDeltas;
        var slot = track ? WallTicks() / TimeSpan.TicksPerSecond : Entry.Untracked;
        while (true)
        {
            KeyWindow? window;
            if (tokenDelta > 0)
            {
                window = _keys.GetOrAdd(key, static k => new KeyWindow(k));
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
                bool becameDirty;
                if (tokenDelta > 0)
                {
                    window.Add(new Entry(now, 0, budget, tokenDelta, slot));
                    becameDirty = track && window.Track(slot, 0, budget, tokenDelta);
                }
                else
                {
                    // The refund is recorded against the seconds of the entries it reduces, so a remote node sees those
                    // seconds shrink rather than a negative count that would outlive them.
                    becameDirty = window.Refund(budget, -tokenDelta, track);
                }

                if (becameDirty)
                {
                    _dirty.Enqueue(window);
                }

                return;
            }
        }
    }

    /// <summary>
    /// Takes what this node counted since the previous drain, per key and second (requests and tokens admitted, token
    /// corrections of <see cref="Reconcile"/>); empty unless <see cref="RecordsLocalDeltas"/> is on. Each count is handed out
    /// once: the caller owns it from then on (and must keep it to retry a failed write).
    /// </summary>
    public IReadOnlyList<RateLimitSlotCount> DrainLocalDeltas()
    {
        var drained = new List<RateLimitSlotCount>();

        // Bounded by the queue's length at the start: a key counting again meanwhile waits for the next drain.
        for (var pending = _dirty.Count; pending > 0 && _dirty.TryDequeue(out var window); pending--)
        {
            lock (window.Gate)
            {
                window.TakeDeltas(drained);
            }
        }

        return drained;
    }

    /// <summary>
    /// Replaces the other nodes' counts with <paramref name="counts"/> (several rows of one key and second are added up;
    /// a sum below zero counts as zero). From then on every decision adds, per key, the counts of the seconds still inside
    /// the window: a second <c>s</c> counts while <c>s + 1 &gt; now - 60 s</c>. Thread-safe; the swap is atomic.
    /// </summary>
    public void SetRemote(IEnumerable<RateLimitSlotCount> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        _remote = RemoteCounts.Build(counts);
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

    /// <summary>Wall-clock ticks since the Unix epoch: the seconds nodes share counts in.</summary>
    private long WallTicks() => _time.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;

    private RateLimitDecision Decide(
        KeyWindow window, RemoteUsage remote, long now, long wall, int? requestLimit, long? tokenLimit, long tokens, TokenBudget budget)
    {
        window.Prune(now - _window);
        var tokensUsed = window.TokensOf(budget) + remote.TokensOf(budget);
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
                RequestsRemaining = requestLimit is { } r ? Math.Max(0, r - window.Requests - remote.Requests) : null,
                RequestsReset = requestLimit is { } rl ? ResetFor(window, remote, now, wall, rl, 1, null) : TimeSpan.Zero,
                TokensLimit = maxTokens,
                TokensRemaining = Math.Max(0, maxTokens - tokensUsed),
                TokensReset = TimeSpan.Zero,
            };
        }

        var requestsFit = requestLimit is not { } maxRequests || window.Requests + remote.Requests + 1 <= maxRequests;
        var tokensFit = tokenLimit is not { } maxBudget || tokensUsed + tokens <= maxBudget;
        if (requestsFit && tokensFit)
        {
            var track = _recordsLocalDeltas;
            var slot = track ? wall / TimeSpan.TicksPerSecond : Entry.Untracked;
            window.Add(new Entry(now, 1, budget, tokens, slot));
            tokensUsed += tokens;
            if (track && window.Track(slot, 1, budget, tokens))
            {
                _dirty.Enqueue(window);
            }
        }

        var requestsReset = requestLimit is { } rq ? ResetFor(window, remote, now, wall, rq, 1, null) : TimeSpan.Zero;
        var tokensReset = tokenLimit is { } tl ? ResetFor(window, remote, now, wall, tl, tokens, budget) : TimeSpan.Zero;
        var decision = new RateLimitDecision
        {
            Allowed = requestsFit && tokensFit,
            RequestsLimit = requestLimit,
            RequestsRemaining = requestLimit is { } r2 ? Math.Max(0, r2 - window.Requests - remote.Requests) : null,
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
    /// The time until the count (requests when <paramref name="budget"/> is null, else that budget's tokens), local and
    /// remote, drops to at most <paramref name="limit"/> minus <paramref name="demand"/>, as the oldest local entries and
    /// remote seconds age out, whichever goes first.
    /// </summary>
    private TimeSpan ResetFor(KeyWindow window, RemoteUsage remote, long now, long wall, long limit, long demand, TokenBudget? budget)
    {
        var used = budget is { } b ? window.TokensOf(b) + remote.TokensOf(b) : window.Requests + remote.Requests;
        var excess = used + demand - limit;
        if (excess <= 0)
        {
            return TimeSpan.Zero;
        }

        long freed = 0;
        var last = TimeSpan.Zero;
        var local = 0;
        var far = remote.From;
        while (local < window.Count || far < remote.End)
        {
            var localFree = local < window.Count ? ToTimeSpan(Math.Max(0, window[local].Timestamp + _window - now)) : TimeSpan.MaxValue;
            var remoteFree = far < remote.End ? remote.FreedAfter(far, wall) : TimeSpan.MaxValue;
            if (localFree <= remoteFree)
            {
                var entry = window[local++];
                freed += budget is { } eb ? (entry.Budget == eb ? entry.Tokens : 0) : entry.Requests;
                last = localFree;
            }
            else
            {
                freed += remote.AmountAt(far++, budget);
                last = remoteFree;
            }

            if (freed >= excess)
            {
                return last;
            }
        }

        // Unreachable while the sums match the entries; the newest entry is the latest anything can free.
        return last;
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
                if (window.Count > 0 || window.Dirty)
                {
                    // A key whose deltas are not drained yet stays, or its counts would never reach the other nodes.
                    continue;
                }

                // Mark first: a caller that already holds this instance retries on a fresh one instead of counting into it.
                window.Removed = true;
                _keys.TryRemove(new KeyValuePair<string, KeyWindow>(key, window));
            }
        }
    }

    /// <summary>
    /// One key's entries, oldest first, in a growable ring, with running sums, and its deltas per second not yet drained;
    /// guarded by <see cref="Gate"/>.
    /// </summary>
    private sealed class KeyWindow(string key)
    {
        private Entry[] _entries = new Entry[8];
        private int _head;
        private List<RateLimitSlotCount>? _deltas;

        public string Key { get; } = key;

        public Lock Gate { get; } = new();

        public bool Removed { get; set; }

        /// <summary>Whether deltas wait to be drained (the key is then in the limiter's dirty queue, once).</summary>
        public bool Dirty { get; private set; }

        public int Count { get; private set; }

        public long Requests { get; private set; }

        public long IngestTokens { get; private set; }

        public long SearchTokens { get; private set; }

        public Entry this[int index] => _entries[(_head + index) % _entries.Length];

        public long TokensOf(TokenBudget budget) => budget == TokenBudget.Ingest ? IngestTokens : SearchTokens;

        public void Add(Entry entry)
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

            _entries[(_head + Count) % _entries.Length] = entry;
            Count++;
            Apply(entry.Requests, entry.Budget, entry.Tokens);
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

        /// <summary>Gives back tokens of the newest entries; answers whether the key just became dirty (when tracking).</summary>
        public bool Refund(TokenBudget budget, long tokens, bool track)
        {
            var becameDirty = false;
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
                if (track && entry.Slot != Entry.Untracked)
                {
                    becameDirty |= Track(entry.Slot, 0, budget, -taken);
                }
            }

            return becameDirty;
        }

        /// <summary>Records a delta of one second; answers true when the key was clean before, so the caller queues it.</summary>
        public bool Track(long slot, long requests, TokenBudget budget, long tokens)
        {
            var ingest = budget == TokenBudget.Ingest ? tokens : 0;
            var search = budget == TokenBudget.Ingest ? 0 : tokens;
            _deltas ??= new List<RateLimitSlotCount>(2);

            // Between two drains a key sees one or two seconds (a refund may reach back further): search from the newest.
            var i = _deltas.Count - 1;
            while (i >= 0 && _deltas[i].Slot != slot)
            {
                i--;
            }

            if (i >= 0)
            {
                var d = _deltas[i];
                _deltas[i] = d with { Requests = d.Requests + requests, IngestTokens = d.IngestTokens + ingest, SearchTokens = d.SearchTokens + search };
            }
            else
            {
                _deltas.Add(new RateLimitSlotCount(Key, slot, requests, ingest, search));
            }

            var becameDirty = !Dirty;
            Dirty = true;
            return becameDirty;
        }

        public void TakeDeltas(List<RateLimitSlotCount> into)
        {
            if (_deltas is not null)
            {
                foreach (var delta in _deltas)
                {
                    if (delta.Requests != 0 || delta.IngestTokens != 0 || delta.SearchTokens != 0)
                    {
                        into.Add(delta);
                    }
                }

                _deltas.Clear();
            }

            Dirty = false;
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

    /// <param name="Timestamp">When it was counted (monotonic).</param>
    /// <param name="Requests">1 for an admitted request, 0 for a token correction.</param>
    /// <param name="Budget">The token budget.</param>
    /// <param name="Tokens">The tokens counted.</param>
    /// <param name="Slot">
    /// The wall-clock second it was recorded in as a delta, which a refund of its tokens is recorded against;
    /// <see cref="Untracked"/> when it was not recorded (the refund then has nothing to correct on the other nodes).
    /// </param>
    private readonly record struct Entry(long Timestamp, int Requests, TokenBudget Budget, long Tokens, long Slot)
    {
        public const long Untracked = long.MinValue;
    }

    /// <summary>The other nodes' counts, per key, with the seconds in ascending order; immutable, swapped whole.</summary>
    private sealed class RemoteCounts
    {
        public static readonly RemoteCounts Empty = new([]);

        private readonly Dictionary<string, RemoteKey> _keys;

        private RemoteCounts(Dictionary<string, RemoteKey> keys) => _keys = keys;

        public static RemoteCounts Build(IEnumerable<RateLimitSlotCount> counts)
        {
            var byKey = new Dictionary<string, SortedDictionary<long, (long Requests, long Ingest, long Search)>>(StringComparer.Ordinal);
            foreach (var count in counts)
            {
                ArgumentNullException.ThrowIfNull(count.Key, nameof(counts));
                if (!byKey.TryGetValue(count.Key, out var slots))
                {
                    byKey[count.Key] = slots = [];
                }

                slots[count.Slot] = slots.TryGetValue(count.Slot, out var s)
                    ? (s.Requests + count.Requests, s.Ingest + count.IngestTokens, s.Search + count.SearchTokens)
                    : (count.Requests, count.IngestTokens, count.SearchTokens);
            }

            if (byKey.Count == 0)
            {
                return Empty;
            }

            return new RemoteCounts(byKey.ToDictionary(p => p.Key, p => new RemoteKey(p.Value), StringComparer.Ordinal));
        }

        /// <summary>The key's counts of the seconds from <paramref name="firstSlot"/> on.</summary>
        public RemoteUsage For(string key, long firstSlot) =>
            _keys.Count > 0 && _keys.TryGetValue(key, out var remote) ? remote.From(firstSlot) : default;
    }

    /// <summary>One key's remote seconds, ascending, with suffix sums so a window's total is one binary search.</summary>
    private sealed class RemoteKey
    {
        public RemoteKey(SortedDictionary<long, (long Requests, long Ingest, long Search)> slots)
        {
            var n = slots.Count;
            Slots = new long[n];
            Requests = new long[n];
            Ingest = new long[n];
            Search = new long[n];
            var i = 0;
            foreach (var (slot, counts) in slots)
            {
                Slots[i] = slot;
                Requests[i] = Math.Max(0, counts.Requests);
                Ingest[i] = Math.Max(0, counts.Ingest);
                Search[i] = Math.Max(0, counts.Search);
                i++;
            }

            RequestsFrom = SuffixSums(Requests);
            IngestFrom = SuffixSums(Ingest);
            SearchFrom = SuffixSums(Search);
        }

        public long[] Slots { get; }

        public long[] Requests { get; }

        public long[] Ingest { get; }

        public long[] Search { get; }

        private long[] RequestsFrom { get; }

        private long[] IngestFrom { get; }

        private long[] SearchFrom { get; }

        public RemoteUsage From(long firstSlot)
        {
            var index = Array.BinarySearch(Slots, firstSlot);
            if (index < 0)
            {
                index = ~index;
            }

            return new RemoteUsage(this, index, RequestsFrom[index], IngestFrom[index], SearchFrom[index]);
        }

        private static long[] SuffixSums(long[] values)
        {
            var sums = new long[values.Length + 1];
            for (var i = values.Length - 1; i >= 0; i--)
            {
                sums[i] = sums[i + 1] + values[i];
            }

            return sums;
        }
    }

    /// <summary>A key's remote counts inside the window at one decision: sums, and where its seconds start.</summary>
    private readonly record struct RemoteUsage(RemoteKey? Counts, int From, long Requests, long IngestTokens, long SearchTokens)
    {
        public int End => Counts?.Slots.Length ?? 0;

        public long TokensOf(TokenBudget budget) => budget == TokenBudget.Ingest ? IngestTokens : SearchTokens;

        public long AmountAt(int index, TokenBudget? budget) => budget switch
        {
            null => Counts!.Requests[index],
            TokenBudget.Ingest => Counts!.Ingest[index],
            _ => Counts!.Search[index],
        };

        /// <summary>The time until second <paramref name="index"/> leaves the window: one window after the second's end.</summary>
        public TimeSpan FreedAfter(int index, long wall) =>
            TimeSpan.FromTicks(Math.Max(0, ((Counts!.Slots[index] + 1 + WindowSeconds) * TimeSpan.TicksPerSecond) - wall));
    }
}
