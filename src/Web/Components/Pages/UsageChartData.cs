using System.Globalization;
using WebConsole.Infrastructure.Usage;

namespace WebConsole.Web.Components.Pages;

/// <summary>A range the usage page offers: how far back it reaches and the bucket size of its time series.</summary>
public sealed record UsageRange(string Id, string Label, TimeSpan Length, UsageGrouping Bucket)
{
    public static readonly UsageRange Last24Hours = new("24h", "Last 24 hours (hourly)", TimeSpan.FromHours(24), UsageGrouping.Hour);
    public static readonly UsageRange Last7Days = new("7d", "Last 7 days (daily)", TimeSpan.FromDays(7), UsageGrouping.Day);
    public static readonly UsageRange Last30Days = new("30d", "Last 30 days (daily)", TimeSpan.FromDays(30), UsageGrouping.Day);
    public static readonly UsageRange Last90Days = new("90d", "Last 90 days (daily)", TimeSpan.FromDays(90), UsageGrouping.Day);

    public static IReadOnlyList<UsageRange> All { get; } = [Last24Hours, Last7Days, Last30Days, Last90Days];

    /// <summary>The query window ending at <paramref name="now"/>: it starts at the first bucket's start, so no bucket is cut.</summary>
    public (DateTimeOffset From, DateTimeOffset To) Window(DateTimeOffset now) => (UsageChartData.BucketStart(now - Length, Bucket) + Step, now);

    /// <summary>One bucket's width.</summary>
    public TimeSpan Step => Bucket == UsageGrouping.Hour ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);
}

/// <summary>One bucket of the time series: its start, its axis label and what it holds (zero when nothing happened).</summary>
public sealed record UsageBucket(DateTimeOffset Start, string Label, long Requests, long InputTokens, long OutputTokens, decimal Cost)
{
    public long Tokens => InputTokens + OutputTokens;

    /// <summary>The cost as a double, for the chart's value axis.</summary>
    public double CostValue => (double)Cost;
}

/// <summary>One value of the breakdown dimension (a model, endpoint, team, key or task type), named for people.</summary>
public sealed record UsageBreakdownRow(string? Key, string Label, long Requests, long InputTokens, long OutputTokens, decimal Cost)
{
    public long Tokens => InputTokens + OutputTokens;

    public double CostValue => (double)Cost;
}

/// <summary>
/// Shapes <see cref="UsageQueryService"/> summaries into what the usage page's charts draw: a time series with one bucket
/// per hour or day of the range, empty buckets included (a chart of only the busy days would hide the quiet ones), and a
/// breakdown whose ids are replaced by names.
/// </summary>
public static class UsageChartData
{
    /// <summary>The UTC start of the hour or day that holds <paramref name="at"/>.</summary>
    public static DateTimeOffset BucketStart(DateTimeOffset at, UsageGrouping bucket)
    {
        var utc = at.ToUniversalTime();
        return bucket switch
        {
            UsageGrouping.Hour => new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero),
            UsageGrouping.Day => new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero),
            _ => throw new ArgumentOutOfRangeException(nameof(bucket), bucket, "Only hours and days form a time series."),
        };
    }

    /// <summary>
    /// One bucket for every hour or day from <paramref name="from"/> to <paramref name="to"/> (both bucket-aligned ends
    /// included), filled from <paramref name="groups"/> grouped by the same bucket; groups outside the range are ignored.
    /// </summary>
    public static IReadOnlyList<UsageBucket> TimeSeries(IEnumerable<UsageGroup> groups, DateTimeOffset from, DateTimeOffset to, UsageGrouping bucket)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var byKey = groups.Where(g => g.Key is not null).ToDictionary(g => g.Key!, g => g.Totals, StringComparer.Ordinal);
        var step = bucket == UsageGrouping.Hour ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);
        var buckets = new List<UsageBucket>();
        for (var start = BucketStart(from, bucket); start <= to; start += step)
        {
            var key = Key(start, bucket);
            var totals = byKey.GetValueOrDefault(key) ?? new UsageTotals(0, 0, 0, 0m);
            buckets.Add(new UsageBucket(start, Label(start, bucket), totals.Requests, totals.InputTokens, totals.OutputTokens, totals.Cost));
        }

        return buckets;
    }

    /// <summary>
    /// The breakdown rows in the summary's order (highest spend first), labelled by <paramref name="name"/>; the group of
    /// requests made without the dimension's value (no API key) reads "<paramref name="noneLabel"/>".
    /// </summary>
    public static IReadOnlyList<UsageBreakdownRow> Breakdown(IEnumerable<UsageGroup> groups, Func<string, string> name, string noneLabel = "(none)")
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(name);
        return groups
            .Select(g => new UsageBreakdownRow(
                g.Key, g.Key is null ? noneLabel : name(g.Key), g.Totals.Requests, g.Totals.InputTokens, g.Totals.OutputTokens, g.Totals.Cost))
            .ToArray();
    }

    /// <summary>The group key <see cref="UsageQueryService"/> gives a bucket.</summary>
    public static string Key(DateTimeOffset start, UsageGrouping bucket) => bucket == UsageGrouping.Hour
        ? start.UtcDateTime.ToString("yyyy-MM-dd'T'HH':00Z'", CultureInfo.InvariantCulture)
        : start.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Label(DateTimeOffset start, UsageGrouping bucket) => bucket == UsageGrouping.Hour
        ? start.UtcDateTime.ToString("MM-dd HH:00", CultureInfo.InvariantCulture)
        : start.UtcDateTime.ToString("MM-dd", CultureInfo.InvariantCulture);
}
