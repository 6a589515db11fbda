namespace WebConsole.Domain.RateLimiting;

/// <summary>
/// Per-minute limits; null means unlimited. Ingest and search tokens are counted apart, as the managed service does.
/// </summary>
public readonly record struct RateLimit
{
    private RateLimit(int? requestsPerMinute, long? ingestTokensPerMinute, long? searchTokensPerMinute)
    {
        RequestsPerMinute = requestsPerMinute;
        IngestTokensPerMinute = ingestTokensPerMinute;
        SearchTokensPerMinute = searchTokensPerMinute;
    }

    /// <summary>No limit at all.</summary>
    public static RateLimit Unlimited => default;

    /// <summary>Requests per minute; null = unlimited.</summary>
    public int? RequestsPerMinute { get; }

    /// <summary>Input tokens per minute of ingest requests; null = unlimited.</summary>
    public long? IngestTokensPerMinute { get; }

    /// <summary>Input tokens per minute of search requests; null = unlimited.</summary>
    public long? SearchTokensPerMinute { get; }

    /// <summary>Creates limits; every given limit must be positive.</summary>
    public static RateLimit Create(int? requestsPerMinute, long? ingestTokensPerMinute, long? searchTokensPerMinute)
    {
        Positive(requestsPerMinute, "requests_per_minute");
        Positive(ingestTokensPerMinute, "tokens_per_minute_ingest");
        Positive(searchTokensPerMinute, "tokens_per_minute_search");
        return new RateLimit(requestsPerMinute, ingestTokensPerMinute, searchTokensPerMinute);
    }

    /// <summary>Whether no limit is set.</summary>
    public bool IsUnlimited => RequestsPerMinute is null && IngestTokensPerMinute is null && SearchTokensPerMinute is null;

    private static void Positive(long? value, string name)
    {
        if (value is <= 0)
        {
            throw new DomainValidationException($"[{name}] must be a positive number or absent (unlimited), got [{value}]");
        }
    }
}
