using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using WebConsole.Domain;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.Usage;
using WebConsole.Infrastructure.Billing;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Usage;

/// <summary>How usage totals are split.</summary>
public enum UsageGrouping
{
    /// <summary>No groups, totals only.</summary>
    None,

    /// <summary>By UTC calendar day (<c>yyyy-MM-dd</c>), oldest first.</summary>
    Day,

    /// <summary>By UTC hour (<c>yyyy-MM-ddTHH:00Z</c>), oldest first.</summary>
    Hour,

    /// <summary>By model id.</summary>
    Model,

    /// <summary>By endpoint (inference id).</summary>
    Endpoint,

    /// <summary>By team id.</summary>
    Team,

    /// <summary>By API key id (requests without a key share the key <c>null</c>).</summary>
    Key,

    /// <summary>By task type wire name.</summary>
    TaskType,
}

/// <summary>Filters of a usage query; every filter is optional and they combine with AND. Times are [From, To).</summary>
public sealed record UsageQuery(
    DateTimeOffset? From = null,
    DateTimeOffset? To = null,
    string? ModelId = null,
    string? InferenceId = null,
    Guid? TeamId = null,
    string? ApiKeyId = null,
    TaskType? TaskType = null,
    string? Currency = null);

/// <summary>Requests, tokens and cost of a set of usage records.</summary>
public sealed record UsageTotals(long Requests, long InputTokens, long OutputTokens, decimal Cost);

/// <summary>The totals of one group; <see cref="Key"/> is null only for requests made without an API key.</summary>
public sealed record UsageGroup(string? Key, UsageTotals Totals);

/// <summary>Usage of a time range: the range actually used, its currency, the totals and the groups.</summary>
public sealed record UsageSummary(DateTimeOffset From, DateTimeOffset To, string Currency, UsageTotals Totals, IReadOnlyList<UsageGroup> Groups);

/// <summary>
/// Reads the usage ledger for a caller's organization: totals and groups for the usage API, and the records themselves
/// for the CSV export. Always scoped to the caller's organization, also for platform operators (keys are org-scoped).
/// </summary>
/// <remarks>
/// Aggregation runs in memory over a filtered, streamed projection: SQLite keeps times as binary integers that SQL cannot
/// split into days, and summing converted decimals is not portable across providers. Memory grows with the number of
/// groups, not of records; a range of millions of records costs one scan of them. Pre-aggregated daily rows would be the
/// next step if that becomes slow.
/// </remarks>
public sealed class UsageQueryService(WebConsoleDbContext db, IOptions<BillingOptions> billing, TimeProvider time)
{
    /// <summary>The range used when none is asked for: the last 30 days.</summary>
    public static readonly TimeSpan DefaultRange = TimeSpan.FromDays(30);

    private readonly WebConsoleDbContext _db = db;
    private readonly string _defaultCurrency = billing.Value.Currency;
    private readonly TimeProvider _time = time;

    /// <summary>Parses a <c>group_by</c> value; throws <see cref="DomainValidationException"/> for an unknown one.</summary>
    public static UsageGrouping ParseGrouping(string? value) => value?.Trim().ToUpperInvariant() switch
    {
        null or "" => UsageGrouping.None,
        "DAY" => UsageGrouping.Day,
        "HOUR" => UsageGrouping.Hour,
        "MODEL" => UsageGrouping.Model,
        "ENDPOINT" => UsageGrouping.Endpoint,
        "TEAM" => UsageGrouping.Team,
        "KEY" => UsageGrouping.Key,
        "TASK_TYPE" => UsageGrouping.TaskType,
        _ => throw new DomainValidationException(
            $"[group_by] must be one of [day, hour, model, endpoint, team, key, task_type], got [{value}]"),
    };

    /// <summary>The range a query covers once defaults apply; throws <see cref="DomainValidationException"/> for a reversed one.</summary>
    public (DateTimeOffset From, DateTimeOffset To) ResolveRange(UsageQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var to = (query.To ?? _time.GetUtcNow()).ToUniversalTime();
        var from = (query.From ?? to - DefaultRange).ToUniversalTime();
        if (to <= from)
        {
            throw new DomainValidationException("[to] must be after [from]");
        }

        return (from, to);
    }

    /// <summary>Totals and groups of <paramref name="caller"/>'s organization's usage matching <paramref name="query"/>.</summary>
    /// <exception cref="DomainValidationException">Bad filters, or records in several currencies without a currency filter.</exception>
    public async Task<UsageSummary> SummarizeAsync(CallerIdentity caller, UsageQuery query, UsageGrouping grouping, CancellationToken ct = default)
    {
        var (from, to) = ResolveRange(query);
        var rows = Filter(caller, query, from, to).Select(u => new Row(
            u.OccurredAt, u.ModelId, u.InferenceId, u.TeamId, u.ApiKeyId, u.TaskType, u.InputTokens, u.OutputTokens, u.Cost, u.Currency));

        var totals = new Accumulator();
        var groups = new Dictionary<string, Accumulator>(StringComparer.Ordinal);
        var noKey = new Accumulator();
        string? currency = null;
        await foreach (var row in rows.AsAsyncEnumerable().WithCancellation(ct))
        {
            if (currency is null)
            {
                currency = row.Currency;
            }
            else if (!string.Equals(currency, row.Currency, StringComparison.Ordinal))
            {
                throw new DomainValidationException(
                    $"The usage in this range is billed in several currencies ([{currency}], [{row.Currency}]); filter with [currency]");
            }

            totals.Add(row);
            if (grouping == UsageGrouping.None)
            {
                continue;
            }

            var key = KeyOf(row, grouping);
            if (key is null)
            {
                noKey.Add(row);
            }
            else if (groups.TryGetValue(key, out var group))
            {
                group.Add(row);
            }
            else
            {
                groups[key] = group = new Accumulator();
                group.Add(row);
            }
        }

        IEnumerable<UsageGroup> result = groups.Select(g => new UsageGroup(g.Key, g.Value.ToTotals()));
        if (noKey.Requests > 0)
        {
            result = result.Append(new UsageGroup(null, noKey.ToTotals()));
        }

        // Days and hours form a time series (oldest first); other groups rank by spend, then requests, then key for a stable order.
        result = grouping is UsageGrouping.Day or UsageGrouping.Hour
            ? result.OrderBy(g => g.Key, StringComparer.Ordinal)
            : result.OrderByDescending(g => g.Totals.Cost).ThenByDescending(g => g.Totals.Requests).ThenBy(g => g.Key, StringComparer.Ordinal);
        return new UsageSummary(from, to, currency ?? query.Currency?.ToUpperInvariant() ?? _defaultCurrency, totals.ToTotals(), result.ToArray());
    }

    /// <summary>The matching records, oldest first, streamed from the database.</summary>
    public async IAsyncEnumerable<UsageRecord> RecordsAsync(
        CallerIdentity caller, UsageQuery query, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var (from, to) = ResolveRange(query);
        await foreach (var record in Filter(caller, query, from, to)
                           .OrderBy(u => u.OccurredAt).ThenBy(u => u.RequestId)
                           .AsAsyncEnumerable().WithCancellation(ct))
        {
            yield return record;
        }
    }

    private IQueryable<UsageRecord> Filter(CallerIdentity caller, UsageQuery query, DateTimeOffset from, DateTimeOffset to)
    {
        ArgumentNullException.ThrowIfNull(caller);

        // The tenant filter already limits the rows, but a platform operator's context sees every organization: the
        // explicit condition keeps usage per organization whatever context this service was given.
        var organization = caller.OrganizationId;
        var records = _db.UsageRecords.AsNoTracking()
            .Where(u => u.OrganizationId == organization && u.OccurredAt >= from && u.OccurredAt < to);
        if (!string.IsNullOrWhiteSpace(query.ModelId))
        {
            var model = query.ModelId.Trim();
            records = records.Where(u => u.ModelId == model);
        }

        if (!string.IsNullOrWhiteSpace(query.InferenceId))
        {
            var inferenceId = query.InferenceId.Trim();
            records = records.Where(u => u.InferenceId == inferenceId);
        }

        if (query.TeamId is { } team)
        {
            records = records.Where(u => u.TeamId == team);
        }

        if (!string.IsNullOrWhiteSpace(query.ApiKeyId))
        {
            var key = query.ApiKeyId.Trim();
            records = records.Where(u => u.ApiKeyId == key);
        }

        if (query.TaskType is { } taskType)
        {
            records = records.Where(u => u.TaskType == taskType);
        }

        if (!string.IsNullOrWhiteSpace(query.Currency))
        {
            var currency = query.Currency.Trim().ToUpperInvariant();
            records = records.Where(u => u.Currency == currency);
        }

        return records;
    }

    private static string? KeyOf(Row row, UsageGrouping grouping) => grouping switch
    {
        UsageGrouping.Day => row.OccurredAt.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        UsageGrouping.Hour => row.OccurredAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH':00Z'", CultureInfo.InvariantCulture),
        UsageGrouping.Model => row.ModelId,
        UsageGrouping.Endpoint => row.InferenceId,
        UsageGrouping.Team => row.TeamId.ToString(),
        UsageGrouping.Key => row.ApiKeyId,
        UsageGrouping.TaskType => row.TaskType.ToWireName(),
        _ => throw new ArgumentOutOfRangeException(nameof(grouping), grouping, null),
    };

    private sealed record Row(
        DateTimeOffset OccurredAt, string ModelId, string InferenceId, Guid TeamId, string? ApiKeyId, TaskType TaskType,
        long InputTokens, long OutputTokens, decimal Cost, string Currency);

    private sealed class Accumulator
    {
        public long Requests { get; private set; }

        private long _input;
        private long _output;
        private decimal _cost;

        public void Add(Row row)
        {
            Requests++;
            _input += row.InputTokens;
            _output += row.OutputTokens;
            _cost += row.Cost;
        }

        public UsageTotals ToTotals() => new(Requests, _input, _output, _cost);
    }
}
