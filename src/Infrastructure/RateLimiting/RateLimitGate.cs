using WebConsole.Domain.RateLimiting;
using WebConsole.Infrastructure.Admission;
using WebConsole.Infrastructure.Endpoints;

namespace WebConsole.Infrastructure.RateLimiting;

/// <summary>
/// The inbound rate limits as an admission gate (first of the gates): the request's policy (<see cref="RateLimitPolicies"/>)
/// and its window in the <see cref="SlidingWindowLimiter"/> decide, in memory, with the request's input tokens plus its
/// estimated output tokens against the token budget of its input type. An admitted request carries the
/// <c>x-ratelimit-*</c> headers and settles its real tokens when it ends; a refused one is a 429 with <c>Retry-After</c>.
/// Singleton; thread-safe.
/// </summary>
public sealed class RateLimitGate(RateLimitPolicies policies, SlidingWindowLimiter limiter) : IAdmissionGate
{
    /// <summary>Rate limits run before budgets (a request refused here reserves no money).</summary>
    public int Order => 100;

    /// <inheritdoc />
    public async ValueTask<AdmissionPass> AdmitAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var caller = request.Caller;
        var effective = await policies.ResolveAsync(
            caller.OrganizationId, caller.TeamId, caller.ApiKeyId, request.ModelId, request.Endpoint.TaskType, cancellationToken);
        if (effective is null || effective.Limit.IsUnlimited)
        {
            return AdmissionPass.None;
        }

        var tokens = Math.Max(0, request.InputTokens) + Math.Max(0, request.EstimatedOutputTokens);
        var decision = limiter.TryAcquire(effective.Key, effective.Limit, tokens, request.TokenBudget);
        var headers = RateLimitHeaders.Of(decision);
        if (!decision.Allowed)
        {
            throw Refusal(decision, headers);
        }

        return new RateLimitPass(limiter, effective.Key, request.TokenBudget, tokens, headers);
    }

    /// <summary>The 429 of a refused decision, with <c>Retry-After</c> (unless no wait helps) and the <c>x-ratelimit-*</c> headers.</summary>
    public static InferenceApiException Refusal(RateLimitDecision decision, IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var retryAfter = RateLimitHeaders.RetryAfterSeconds(decision);
        return new InferenceApiException(429, InferenceApiException.StatusExceptionType, decision.Reason ?? "Rate limit reached")
            .WithHeaders(retryAfter is null ? headers : [new(RateLimitHeaders.RetryAfter, retryAfter), .. headers]);
    }

    /// <summary>
    /// An admitted request: settling replaces the tokens counted at admission by the real input plus output tokens; releasing
    /// (the request did no work) gives the tokens back. The request itself stays counted either way: it was made.
    /// </summary>
    private sealed class RateLimitPass(
        SlidingWindowLimiter limiter, string key, TokenBudget budget, long admittedTokens, IReadOnlyList<KeyValuePair<string, string>> headers)
        : AdmissionPass
    {
        public override IReadOnlyList<KeyValuePair<string, string>> Headers => headers;

        public override void Settle(long inputTokens, long outputTokens, decimal cost) =>
            limiter.Reconcile(key, budget, Math.Max(0, inputTokens) + Math.Max(0, outputTokens) - admittedTokens);

        public override void Release() => limiter.Reconcile(key, budget, -admittedTokens);
    }
}
