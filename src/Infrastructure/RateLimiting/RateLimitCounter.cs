namespace WebConsole.Infrastructure.RateLimiting;

/// <summary>
/// What one node admitted for one limiter key in one second, as it shares it with the other nodes of a database: each
/// node writes its own rows and reads the others'. Rows older than the window are deleted.
/// </summary>
public sealed class RateLimitCounter
{
    /// <summary>The node that admitted the requests (a fresh id per process).</summary>
    public Guid NodeId { get; set; }

    /// <summary>The limiter key (organization, scope and model).</summary>
    public string Key { get; set; } = string.Empty;

    /// <summary>The second (Unix time) the requests were admitted in.</summary>
    public long Slot { get; set; }

    /// <summary>Requests admitted.</summary>
    public long Requests { get; set; }

    /// <summary>Ingest tokens counted.</summary>
    public long IngestTokens { get; set; }

    /// <summary>Search tokens counted.</summary>
    public long SearchTokens { get; set; }
}
