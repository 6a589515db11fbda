using WebConsole.Infrastructure.Usage;
using WebConsole.Web.Components.Pages;

namespace WebConsole.Unit.Portal;

/// <summary>How the usage page shapes ledger summaries into its charts.</summary>
public sealed class UsageChartDataTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 10, 37, 12, TimeSpan.Zero);

    [Fact]
    public void The_last_24_hours_are_24_hourly_buckets_with_the_quiet_hours_at_zero()
    {
        var (from, to) = UsageRange.Last24Hours.Window(Now);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 11, 0, 0, TimeSpan.Zero), from);

        var buckets = UsageChartData.TimeSeries(
            [
                new UsageGroup("2026-11-22T10:00Z", new UsageTotals(3, 30, 6, 0.5m)),
                new UsageGroup("2026-11-21T11:00Z", new UsageTotals(1, 7, 0, 0.01m)),
                new UsageGroup("2026-11-20T09:00Z", new UsageTotals(9, 900, 0, 9m)),
            ],
            from, to, UsageGrouping.Hour);

        Assert.Equal(24, buckets.Count);
        Assert.Equal(Enumerable.Range(0, 24).Select(h => from.AddHours(h)), buckets.Select(b => b.Start));
        Assert.Equal((1L, 7L, 0.01m), (buckets[0].Requests, buckets[0].Tokens, buckets[0].Cost));
        Assert.Equal((3L, 36L, 0.5m), (buckets[^1].Requests, buckets[^1].Tokens, buckets[^1].Cost));
        Assert.All(buckets.Skip(1).Take(22), b => Assert.Equal((0L, 0L, 0m), (b.Requests, b.Tokens, b.Cost)));

        // The group outside the range is not drawn; labels name the hour.
        Assert.Equal(43L, buckets.Sum(b => b.Tokens));
        Assert.Equal("11-22 10:00", buckets[^1].Label);
    }

    [Fact]
    public void Daily_ranges_have_one_bucket_per_day_up_to_today_and_keys_match_the_ledger_grouping()
    {
        var (from, to) = UsageRange.Last7Days.Window(Now);
        Assert.Equal(new DateTimeOffset(2026, 11, 16, 0, 0, 0, TimeSpan.Zero), from);

        var buckets = UsageChartData.TimeSeries([new UsageGroup("2026-11-18", new UsageTotals(2, 10, 5, 1.25m))], from, to, UsageGrouping.Day);

        Assert.Equal(7, buckets.Count);
        Assert.Equal("11-22", buckets[^1].Label);
        Assert.Equal(15L, buckets.Single(b => b.Label == "11-18").Tokens);
        Assert.Equal(1.25, buckets.Sum(b => b.CostValue));
        Assert.Equal("2026-11-18", UsageChartData.Key(new DateTimeOffset(2026, 11, 18, 0, 0, 0, TimeSpan.Zero), UsageGrouping.Day));
        Assert.Equal("2026-11-18T07:00Z", UsageChartData.Key(new DateTimeOffset(2026, 11, 18, 7, 0, 0, TimeSpan.Zero), UsageGrouping.Hour));
    }

    [Fact]
    public void An_empty_ledger_still_draws_every_bucket_at_zero()
    {
        foreach (var range in UsageRange.All)
        {
            var (from, to) = range.Window(Now);
            var buckets = UsageChartData.TimeSeries([], from, to, range.Bucket);

            var expected = range.Bucket == UsageGrouping.Hour ? 24 : (int)range.Length.TotalDays;
            Assert.Equal(expected, buckets.Count);
            Assert.All(buckets, b => Assert.Equal(0L, b.Tokens + b.Requests));
        }
    }

    [Fact]
    public void The_breakdown_keeps_the_ledger_order_and_names_ids_and_the_group_without_a_key()
    {
        var names = new Dictionary<string, string> { ["k1"] = "ingest (k1)" };
        var rows = UsageChartData.Breakdown(
            [
                new UsageGroup("k1", new UsageTotals(4, 40, 4, 2m)),
                new UsageGroup("k-gone", new UsageTotals(1, 1, 0, 0m)),
                new UsageGroup(null, new UsageTotals(2, 5, 5, 0m)),
            ],
            key => names.GetValueOrDefault(key, key),
            "(signed-in users)");

        Assert.Equal(["ingest (k1)", "k-gone", "(signed-in users)"], rows.Select(r => r.Label));
        Assert.Equal([44L, 1L, 10L], rows.Select(r => r.Tokens));
        Assert.Equal(["k1", "k-gone", null], rows.Select(r => r.Key));
    }
}
