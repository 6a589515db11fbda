namespace WebConsole.Domain.Endpoints;

/// <summary>
/// What an embedding or rerank request is for (the wire's <c>input_type</c>). Models that distinguish queries from
/// documents (E5's <c>query: </c>/<c>passage: </c> prefixes) use it; rate limits count ingest and search separately.
/// </summary>
public enum InputType
{
    /// <summary>Not stated; counted as search.</summary>
    Unspecified = 0,

    /// <summary>A query (<c>SEARCH</c>).</summary>
    Search,

    /// <summary>Documents being indexed (<c>INGEST</c>).</summary>
    Ingest,

    /// <summary>Input to a classifier (<c>CLASSIFICATION</c>).</summary>
    Classification,

    /// <summary>Input to clustering (<c>CLUSTERING</c>).</summary>
    Clustering,
}
