using Microsoft.Extensions.Logging.Abstractions;
using WebConsole.Domain.ApiKeys;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.RateLimiting;
using WebConsole.Infrastructure.Admission;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.RateLimiting;
using WebConsole.Unit.Usage;

namespace WebConsole.Unit.RateLimiting;

/// <summary>The gate over a real (SQLite) policy table, the real limiter and a clock the test moves.</summary>
public sealed class RateLimitGateTests : IAsyncLifetime
{
    private static readonly Guid Organization = Guid.Parse("5f0c2a1e-8b9d-4c3e-a7f6-1d2e3f4a5b06");
    private readonly FakeClock _clock = new();
    private LedgerTestDatabase _database = default!;
    private RateLimitPolicies _policies = default!;
    private SlidingWindowLimiter _limiter = default!;
    private RateLimitGate _gate = default!;

    public async Task InitializeAsync()
    {
        _database = await LedgerTestDatabase.CreateAsync();
        await using (var db = _database.CreateDbContext())
        {
            db.RateLimitPolicies.Add(RateLimitPolicy.Create(Guid.NewGuid(), RateLimitScope.Global, null,
                ModelSelector.ForFamily(TaskType.TextEmbedding), RateLimit.Create(2, 1000, 100)));
            await db.SaveChangesAsync();
        }

        _policies = new RateLimitPolicies(_database, _clock, NullLogger<RateLimitPolicies>.Instance);
        _limiter = new SlidingWindowLimiter(_clock);
        _gate = new RateLimitGate(_policies, _limiter);
    }

    public async Task DisposeAsync()
    {
        _policies.Dispose();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Admission_counts_estimated_tokens_and_settling_reconciles_them_with_the_real_count()
    {
        var first = await _gate.AdmitAsync(Request(30), default);
        Assert.Equal("1", Header(first.Headers, "x-ratelimit-remaining-requests"));
        Assert.Equal("70", Header(first.Headers, "x-ratelimit-remaining-tokens"));
        Assert.Equal("100", Header(first.Headers, "x-ratelimit-limit-tokens"));

        // 30 estimated, 10 real: 20 come back, so 80 more fit where 70 would have been the most.
        first.Settle(10, 0, 0m);
        Assert.Equal(10, _limiter.Peek(Key, RateLimit.Unlimited).SearchTokens);
        var second = await _gate.AdmitAsync(Request(80), default);
        Assert.Equal("0", Header(second.Headers, "x-ratelimit-remaining-requests"));
        Assert.Equal("10", Header(second.Headers, "x-ratelimit-remaining-tokens"));

        // A generation that produced more than estimated counts the difference.
        second.Settle(80, 15, 0m);
        Assert.Equal(105, _limiter.Peek(Key, RateLimit.Unlimited).SearchTokens);
    }

    [Fact]
    public async Task A_refusal_is_a_429_naming_the_limit_with_Retry_After_and_the_rate_limit_headers()
    {
        await _gate.AdmitAsync(Request(1), default);
        _clock.Advance(TimeSpan.FromMilliseconds(400));
        await _gate.AdmitAsync(Request(1), default);
        _clock.Advance(TimeSpan.FromMilliseconds(400));

        var refused = await Assert.ThrowsAsync<InferenceApiException>(() => _gate.AdmitAsync(Request(1), default).AsTask());
        Assert.Equal(429, refused.Status);
        Assert.Equal("status_exception", refused.Type);
        Assert.Contains("2 requests per minute", refused.Reason, StringComparison.Ordinal);
        Assert.Equal("60", Header(refused.Headers, "Retry-After"));
        Assert.Equal("59.2s", Header(refused.Headers, "x-ratelimit-reset-requests"));
        Assert.Equal("0", Header(refused.Headers, "x-ratelimit-remaining-requests"));
        Assert.Equal("2", Header(refused.Headers, "x-ratelimit-limit-requests"));

        // Tokens beyond the whole limit can never fit: no Retry-After, the reason says so.
        var never = await Assert.ThrowsAsync<InferenceApiException>(() => _gate.AdmitAsync(Request(101, apiKey: "other"), default).AsTask());
        Assert.Equal(429, never.Status);
        Assert.DoesNotContain(never.Headers, h => h.Key == "Retry-After");
        Assert.Contains("never", never.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_refused_by_a_later_gate_gives_its_tokens_back()
    {
        var admission = new InferenceAdmission([_gate, new RefusingGate()]);
        var refused = await Assert.ThrowsAsync<InferenceApiException>(() => admission.AdmitAsync(Request(60), default).AsTask());
        Assert.Equal(402, refused.Status);

        // The rate-limit headers still go with the later gate's refusal.
        Assert.Equal("1", Header(refused.Headers, "x-ratelimit-remaining-requests"));
        var usage = _limiter.Peek(Key, RateLimit.Unlimited);
        Assert.Equal(0, usage.SearchTokens);
        Assert.Equal(1, usage.Requests);
    }

    [Fact]
    public async Task Ingest_tokens_count_against_the_ingest_budget_only()
    {
        await _gate.AdmitAsync(Request(900, budget: TokenBudget.Ingest), default);
        var usage = _limiter.Peek(Key, RateLimit.Unlimited);
        Assert.Equal(900, usage.IngestTokens);
        Assert.Equal(0, usage.SearchTokens);

        // The search budget is untouched: a 100-token search still fits.
        var search = await _gate.AdmitAsync(Request(100), default);
        Assert.Equal("0", Header(search.Headers, "x-ratelimit-remaining-tokens"));
    }

    [Fact]
    public async Task A_model_without_a_policy_is_admitted_without_headers()
    {
        var pass = await _gate.AdmitAsync(Request(10) with { Endpoint = Endpoint(TaskType.Rerank) }, default);
        Assert.Same(AdmissionPass.None, pass);
    }

    private static string Key => RateLimitPolicySet.KeyOf(RateLimitScope.Global, Organization, null, "model-a");

    private static AdmissionRequest Request(long tokens, TokenBudget budget = TokenBudget.Search, string apiKey = "key-a") =>
        new(new CallerIdentity(Organization, Guid.NewGuid(), null, apiKey, PrivilegeNames.Of(ApiKeyRole.InferenceUser), false, false, []),
            Endpoint(TaskType.TextEmbedding), "model-a", tokens, 0, budget, Guid.NewGuid().ToString("N"));

    private static InferenceEndpoint Endpoint(TaskType taskType) =>
        InferenceEndpoint.Create(Guid.NewGuid(), Organization, InferenceId.Parse("my-endpoint"), taskType, "elasticsearch",
            """{"model_id":"model-a"}""", null, null, null, DateTimeOffset.UnixEpoch);

    private static string? Header(IReadOnlyList<KeyValuePair<string, string>> headers, string name) =>
        headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).SingleOrDefault();

    /// <summary>A budget-like gate that refuses everything.</summary>
    private sealed class RefusingGate : IAdmissionGate
    {
        public int Order => 200;

        public ValueTask<AdmissionPass> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken) =>
            throw new InferenceApiException(402, "status_exception", "Budget exhausted");
    }
}
