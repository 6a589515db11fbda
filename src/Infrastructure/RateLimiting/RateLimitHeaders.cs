using System.Globalization;
using System.Text;
using WebConsole.Domain.RateLimiting;

namespace WebConsole.Infrastructure.RateLimiting;

/// <summary>
/// The rate-limit headers of a decision, in OpenAI's format: <c>x-ratelimit-{limit,remaining,reset}-{requests,tokens}</c>
/// (the tokens of the request's budget, ingest or search), resets as durations such as <c>1s</c>, <c>6m0s</c> or
/// <c>20ms</c>, and <c>Retry-After</c> in whole seconds on a refusal.
/// </summary>
public static class RateLimitHeaders
{
    /// <summary><c>x-ratelimit-limit-requests</c>.</summary>
    public const string LimitRequests = "x-ratelimit-limit-requests";

    /// <summary><c>x-ratelimit-remaining-requests</c>.</summary>
    public const string RemainingRequests = "x-ratelimit-remaining-requests";

    /// <summary><c>x-ratelimit-reset-requests</c>.</summary>
    public const string ResetRequests = "x-ratelimit-reset-requests";

    /// <summary><c>x-ratelimit-limit-tokens</c>.</summary>
    public const string LimitTokens = "x-ratelimit-limit-tokens";

    /// <summary><c>x-ratelimit-remaining-tokens</c>.</summary>
    public const string RemainingTokens = "x-ratelimit-remaining-tokens";

    /// <summary><c>x-ratelimit-reset-tokens</c>.</summary>
    public const string ResetTokens = "x-ratelimit-reset-tokens";

    /// <summary><c>Retry-After</c>.</summary>
    public const string RetryAfter = "Retry-After";

    /// <summary>
    /// The <c>x-ratelimit-*</c> headers of a decision; the three headers of an unlimited dimension (requests, or the
    /// tokens of the request's budget) are left out, since there is nothing to count down.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Of(RateLimitDecision decision)
    {
        var headers = new List<KeyValuePair<string, string>>(6);
        if (decision.RequestsLimit is { } requests)
        {
            headers.Add(new(LimitRequests, Number(requests)));
            headers.Add(new(RemainingRequests, Number(decision.RequestsRemaining ?? 0)));
            headers.Add(new(ResetRequests, FormatDuration(decision.RequestsReset)));
        }

        if (decision.TokensLimit is { } tokens)
        {
            headers.Add(new(LimitTokens, Number(tokens)));
            headers.Add(new(RemainingTokens, Number(decision.TokensRemaining ?? 0)));
            headers.Add(new(ResetTokens, FormatDuration(decision.TokensReset)));
        }

        return headers;
    }

    /// <summary>
    /// The <c>Retry-After</c> value of a refusal: whole seconds, rounded up (at least 1); null when the request was
    /// admitted or can never fit (no wait helps).
    /// </summary>
    public static string? RetryAfterSeconds(RateLimitDecision decision) =>
        decision is { Allowed: false, NeverFits: false, RetryAfter: { } wait }
            ? Number(Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds)))
            : null;

    /// <summary>
    /// A duration as OpenAI writes resets (Go's duration format) at millisecond precision, rounded up so a client that
    /// waits that long finds room: <c>0s</c>, <c>20ms</c>, <c>1.5s</c>, <c>6m0s</c>, <c>1h2m3s</c>.
    /// </summary>
    public static string FormatDuration(TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero)
        {
            return "0s";
        }

        var milliseconds = (duration.Ticks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond;
        if (milliseconds < 1000)
        {
            return Number(milliseconds) + "ms";
        }

        var seconds = milliseconds / 1000;
        var fraction = milliseconds % 1000;
        var text = new StringBuilder();
        var hours = seconds / 3600;
        var minutes = seconds % 3600 / 60;
        if (hours > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{hours}h");
        }

        if (hours > 0 || minutes > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{minutes}m");
        }

        text.Append(CultureInfo.InvariantCulture, $"{seconds % 60}");
        if (fraction > 0)
        {
            text.Append('.').Append(fraction.ToString("000", CultureInfo.InvariantCulture).TrimEnd('0'));
        }

        return text.Append('s').ToString();
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
