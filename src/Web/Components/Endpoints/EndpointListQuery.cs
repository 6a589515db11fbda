namespace WebConsole.Web.Components.Endpoints;

/// <summary>The columns the endpoints table sorts by.</summary>
public enum EndpointSortColumn
{
    /// <summary>The inference id.</summary>
    Endpoint,

    /// <summary>Service, then model.</summary>
    Provider,

    /// <summary>The task type.</summary>
    TaskType,
}

/// <summary>Counts of the stats bar, over every endpoint the caller sees (not only the filtered ones).</summary>
public sealed record EndpointStats(int Services, int Models, int Endpoints, int TaskTypes)
{
    /// <summary>The stats of a list of rows.</summary>
    public static EndpointStats Of(IReadOnlyCollection<EndpointRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return new(
            rows.Select(r => r.Service).Distinct(StringComparer.Ordinal).Count(),
            rows.Where(r => r.ModelId is not null).Select(r => r.ModelId).Distinct(StringComparer.Ordinal).Count(),
            rows.Count,
            rows.Select(r => r.TaskType).Distinct(StringComparer.Ordinal).Count());
    }
}

/// <summary>A group of the visible page: all rows when not grouped, else the rows of one model.</summary>
public sealed record EndpointGroup(string? Model, IReadOnlyList<EndpointRow> Rows);

/// <summary>One page of the table: its groups, and how many rows matched in all.</summary>
public sealed record EndpointPage(IReadOnlyList<EndpointGroup> Groups, int Matched, int PageIndex, int PageCount);

/// <summary>
/// The table's view state, as Kibana's inference endpoints page has it: free-text search over id, service and model,
/// multi-select filters by service and task type (options from the values present), sorting, pages of 25/50/100 and
/// grouping by model. Pure, so the component tests and the page share it.
/// </summary>
public sealed class EndpointListQuery
{
    /// <summary>The page sizes offered.</summary>
    public static IReadOnlyList<int> PageSizes { get; } = [25, 50, 100];

    /// <summary>Free text; every word must appear in the id, service or model (case-insensitive).</summary>
    public string Search { get; set; } = string.Empty;

    /// <summary>Services to keep; empty keeps all.</summary>
    public IReadOnlyCollection<string> Services { get; set; } = [];

    /// <summary>Task types to keep; empty keeps all.</summary>
    public IReadOnlyCollection<string> TaskTypes { get; set; } = [];

    /// <summary>The sort column.</summary>
    public EndpointSortColumn SortBy { get; set; } = EndpointSortColumn.Endpoint;

    /// <summary>Descending instead of ascending.</summary>
    public bool Descending { get; set; }

    /// <summary>Rows per page: 25, 50 or 100.</summary>
    public int PageSize { get; set; } = 25;

    /// <summary>The zero-based page shown.</summary>
    public int PageIndex { get; set; }

    /// <summary>Rows grouped under their model.</summary>
    public bool GroupByModel { get; set; }

    /// <summary>The filter options: the distinct services of the rows, sorted.</summary>
    public static IReadOnlyList<string> ServiceOptions(IEnumerable<EndpointRow> rows) =>
        [.. rows.Select(r => r.Service).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    /// <summary>The filter options: the distinct task types of the rows, sorted.</summary>
    public static IReadOnlyList<string> TaskTypeOptions(IEnumerable<EndpointRow> rows) =>
        [.. rows.Select(r => r.TaskType).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    /// <summary>Sorts by <paramref name="column"/>: the same column again flips the direction.</summary>
    public void ToggleSort(EndpointSortColumn column)
    {
        Descending = SortBy == column && !Descending;
        SortBy = column;
        PageIndex = 0;
    }

    /// <summary>The rows that pass the search and filters, sorted.</summary>
    public IReadOnlyList<EndpointRow> Filter(IEnumerable<EndpointRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var words = Search.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var matched = rows.Where(r =>
            (Services.Count == 0 || Services.Contains(r.Service))
            && (TaskTypes.Count == 0 || TaskTypes.Contains(r.TaskType))
            && words.All(w => r.InferenceId.Contains(w, StringComparison.OrdinalIgnoreCase)
                || r.Service.Contains(w, StringComparison.OrdinalIgnoreCase)
                || (r.ModelId?.Contains(w, StringComparison.OrdinalIgnoreCase) ?? false)));
        Func<EndpointRow, string> key = SortBy switch
        {
            EndpointSortColumn.Provider => r => $"{r.Service}\u0001{r.ModelId}\u0001{r.InferenceId}",
            EndpointSortColumn.TaskType => r => $"{r.TaskType}\u0001{r.InferenceId}",
            _ => r => r.InferenceId,
        };
        return Descending ? [.. matched.OrderByDescending(key, StringComparer.Ordinal)] : [.. matched.OrderBy(key, StringComparer.Ordinal)];
    }

    /// <summary>The page to show: filtered, sorted, cut to the page (clamped to the last) and, when asked, grouped by model.</summary>
    public EndpointPage Apply(IEnumerable<EndpointRow> rows)
    {
        var matched = Filter(rows);
        var size = PageSizes.Contains(PageSize) ? PageSize : PageSizes[0];
        var pageCount = Math.Max(1, (matched.Count + size - 1) / size);
        PageIndex = Math.Clamp(PageIndex, 0, pageCount - 1);
        var page = matched.Skip(PageIndex * size).Take(size).ToList();
        IReadOnlyList<EndpointGroup> groups = GroupByModel
            ? [.. page.GroupBy(r => r.ModelText, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new EndpointGroup(g.Key, [.. g]))]
            : [new EndpointGroup(null, page)];
        return new EndpointPage(groups, matched.Count, PageIndex, pageCount);
    }
}
