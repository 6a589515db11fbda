using System.Text;
using Microsoft.Extensions.Options;
using WebConsole.Domain;
using WebConsole.Domain.ApiKeys;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.Usage;
using WebConsole.Infrastructure.Billing;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.Usage;

namespace WebConsole.Unit.Usage;

/// <summary>
/// The usage API's queries over a migrated SQLite ledger: UTC day series, rankings by spend, filters, the default range,
/// exact decimal totals, tenant isolation, and RFC 4180 CSV that reads back to the stored records.
/// </summary>
public sealed class UsageQueryServiceTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2025, 3, 10, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid OrgA = Guid.NewGuid();
    private static readonly Guid OrgB = Guid.NewGuid();
    private static readonly Guid TeamA1 = Guid.NewGuid();
    private static readonly Guid TeamA2 = Guid.NewGuid();
    private static readonly Guid TeamB = Guid.NewGuid();

    private readonly TestClock _clock = new(Now);
    private LedgerTestDatabase _database = null!;
    private int _sequence;

    public async Task InitializeAsync()
    {
        _database = await LedgerTestDatabase.CreateAsync();
        await using var db = _database.CreateDbContext();
        db.UsageRecords.AddRange(
            // Org A: two days either side of midnight UTC, two models, two teams, a key and a keyless portal request.
            Record(OrgA, TeamA1, "key-1", "e5", "bert", TaskType.TextEmbedding, 10, 0, 0.000000001m, "2025-03-08T23:59:59Z"),
            Record(OrgA, TeamA1, "key-1", "e5", "bert", TaskType.TextEmbedding, 20, 0, 0.000000002m, "2025-03-09T00:00:00Z"),
            Record(OrgA, TeamA2, "key-2", "chat", "llama", TaskType.ChatCompletion, 100, 50, 0.5m, "2025-03-09T10:00:00Z"),
            Record(OrgA, TeamA2, null, "chat", "llama", TaskType.ChatCompletion, 7, 3, 0.25m, "2025-03-10T11:00:00Z"),
            // Older than the default 30 days.
            Record(OrgA, TeamA1, "key-1", "e5", "bert", TaskType.TextEmbedding, 1000, 0, 9m, "2025-02-01T00:00:00Z"),
            // Another organization, with the same model and endpoint names.
            Record(OrgB, TeamB, "key-b", "chat", "llama", TaskType.ChatCompletion, 5000, 5000, 100m, "2025-03-09T10:00:00Z"));
        await db.SaveChangesAsync();
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();

    [Fact]
    public async Task Day_series_uses_utc_days_oldest_first_and_totals_are_exact()
    {
        var summary = await Service().SummarizeAsync(Caller(OrgA), new UsageQuery(), UsageGrouping.Day);

        Assert.Equal((Now - TimeSpan.FromDays(30), Now), (summary.From, summary.To));
        Assert.Equal("USD", summary.Currency);
        Assert.Equal(new UsageTotals(4, 137, 53, 0.750000003m), summary.Totals);
        Assert.Equal(
            [
                new UsageGroup("2025-03-08", new UsageTotals(1, 10, 0, 0.000000001m)),
                new UsageGroup("2025-03-09", new UsageTotals(2, 120, 50, 0.500000002m)),
                new UsageGroup("2025-03-10", new UsageTotals(1, 7, 3, 0.25m)),
            ],
            summary.Groups);
    }

    [Fact]
    public async Task Model_endpoint_team_key_and_task_type_groups_rank_by_cost()
    {
        var service = Service();
        async Task<string> Keys(UsageGrouping grouping) => string.Join(' ',
            (await service.SummarizeAsync(Caller(OrgA), new UsageQuery(), grouping)).Groups.Select(g => g.Key ?? "(none)"));

        Assert.Equal("llama bert", await Keys(UsageGrouping.Model));
        Assert.Equal("chat e5", await Keys(UsageGrouping.Endpoint));
        Assert.Equal($"{TeamA2} {TeamA1}", await Keys(UsageGrouping.Team));
        Assert.Equal("key-2 (none) key-1", await Keys(UsageGrouping.Key));
        Assert.Equal("chat_completion text_embedding", await Keys(UsageGrouping.TaskType));
        Assert.Empty(await Keys(UsageGrouping.None));

        var byModel = await service.SummarizeAsync(Caller(OrgA), new UsageQuery(), UsageGrouping.Model);
        Assert.Equal(new UsageTotals(2, 107, 53, 0.75m), byModel.Groups[0].Totals);
        Assert.Equal(new UsageTotals(2, 30, 0, 0.000000003m), byModel.Groups[1].Totals);
    }

    [Fact]
    public async Task Filters_combine_and_the_range_is_half_open()
    {
        var service = Service();
        async Task<UsageTotals> Totals(UsageQuery query) => (await service.SummarizeAsync(Caller(OrgA), query, UsageGrouping.None)).Totals;

        Assert.Equal(2, (await Totals(new UsageQuery(ModelId: "llama"))).Requests);
        Assert.Equal(2, (await Totals(new UsageQuery(InferenceId: "e5"))).Requests);
        Assert.Equal(137 - 30, (await Totals(new UsageQuery(TeamId: TeamA2))).InputTokens);
        Assert.Equal(1, (await Totals(new UsageQuery(ApiKeyId: "key-2"))).Requests);
        Assert.Equal(2, (await Totals(new UsageQuery(TaskType: TaskType.TextEmbedding))).Requests);
        Assert.Equal(0, (await Totals(new UsageQuery(ModelId: "llama", TaskType: TaskType.TextEmbedding))).Requests);

        // [from, to): the record at exactly 2025-03-09T00:00Z belongs to the next range, not this one.
        var day = await Totals(new UsageQuery(From: At("2025-03-08T00:00:00Z"), To: At("2025-03-09T00:00:00Z")));
        Assert.Equal(new UsageTotals(1, 10, 0, 0.000000001m), day);

        // An explicit range reaches the record older than the default 30 days.
        Assert.Equal(9.000000001m, (await Totals(new UsageQuery(From: At("2025-01-01T00:00:00Z"), To: At("2025-03-09T00:00:00Z")))).Cost);
    }

    [Fact]
    public async Task A_caller_never_sees_another_organizations_usage_even_through_an_unfiltered_context()
    {
        // The tenant-filtered context a request gets, and the all-organizations context of the system scope.
        await using var tenantDb = _database.CreateDbContext(FixedTenantContext.For(OrgA));
        await using var systemDb = _database.CreateDbContext();
        foreach (var db in new[] { tenantDb, systemDb })
        {
            var service = Service(db);
            var all = await service.SummarizeAsync(Caller(OrgA, platformOperator: true), new UsageQuery(), UsageGrouping.Team);
            Assert.Equal(4, all.Totals.Requests);
            Assert.DoesNotContain(all.Groups, g => g.Key == TeamB.ToString());

            var otherTeam = await service.SummarizeAsync(Caller(OrgA), new UsageQuery(TeamId: TeamB), UsageGrouping.None);
            Assert.Equal(new UsageTotals(0, 0, 0, 0m), otherTeam.Totals);

            var records = await ToListAsync(service.RecordsAsync(Caller(OrgA), new UsageQuery(ApiKeyId: "key-b")));
            Assert.Empty(records);
        }

        await using var orgBDb = _database.CreateDbContext(FixedTenantContext.For(OrgB));
        var orgB = await Service(orgBDb).SummarizeAsync(Caller(OrgB), new UsageQuery(), UsageGrouping.None);
        Assert.Equal(new UsageTotals(1, 5000, 5000, 100m), orgB.Totals);
    }

    [Fact]
    public async Task Bad_filters_and_mixed_currencies_are_validation_errors()
    {
        var service = Service();
        Assert.Throws<DomainValidationException>(() => UsageQueryService.ParseGrouping("week"));
        Assert.Equal(UsageGrouping.TaskType, UsageQueryService.ParseGrouping("task_type"));
        await Assert.ThrowsAsync<DomainValidationException>(() =>
            service.SummarizeAsync(Caller(OrgA), new UsageQuery(From: Now, To: Now - TimeSpan.FromDays(1)), UsageGrouping.None));

        await using (var db = _database.CreateDbContext())
        {
            db.UsageRecords.Add(Record(OrgA, TeamA1, "key-1", "e5", "bert", TaskType.TextEmbedding, 1, 0, 1m, "2025-03-10T00:00:00Z", "EUR"));
            await db.SaveChangesAsync();
        }

        var error = await Assert.ThrowsAsync<DomainValidationException>(() =>
            service.SummarizeAsync(Caller(OrgA), new UsageQuery(), UsageGrouping.None));
        Assert.Contains("[currency]", error.Message, StringComparison.Ordinal);
        var euros = await service.SummarizeAsync(Caller(OrgA), new UsageQuery(Currency: "eur"), UsageGrouping.None);
        Assert.Equal(("EUR", 1L, 1m), (euros.Currency, euros.Totals.Requests, euros.Totals.Cost));
    }

    [Fact]
    public async Task Csv_export_quotes_per_rfc_4180_and_reads_back_to_the_records()
    {
        await using (var db = _database.CreateDbContext())
        {
            db.UsageRecords.Add(Record(OrgA, TeamA1, "key,\"odd\"", "e5", "org/model, \"v2\"\nnext", TaskType.TextEmbedding, 3, 0, 0.123456789m, "2025-03-10T06:00:00Z"));
            await db.SaveChangesAsync();
        }

        var service = Service();
        var records = await ToListAsync(service.RecordsAsync(Caller(OrgA), new UsageQuery()));
        using var text = new StringWriter();
        await UsageCsv.WriteAsync(text, service.RecordsAsync(Caller(OrgA), new UsageQuery()));

        var rows = ParseCsv(text.ToString());
        Assert.Equal(UsageCsv.Columns, rows[0]);
        Assert.Equal(records.Count + 1, rows.Count);
        Assert.Equal(5, records.Count);

        // Oldest first; every field reads back, commas, quotes and line breaks included.
        Assert.Equal(records.Select(r => r.RequestId), rows.Skip(1).Select(r => r[1]));
        var odd = rows.Single(r => r[3] == "key,\"odd\"");
        Assert.Equal("org/model, \"v2\"\nnext", odd[6]);
        Assert.Equal(["2025-03-10T06:00:00.0000000Z", "text_embedding", "inference", "3", "0", "0.123456789", "USD", "succeeded"],
            new[] { odd[0], odd[7], odd[8], odd[9], odd[10], odd[11], odd[12], odd[13] });
        var keyless = rows.Single(r => r[9] == "7");
        Assert.Equal(string.Empty, keyless[3]);
        Assert.Contains("\"org/model, \"\"v2\"\"\nnext\"", text.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("\r\n", text.ToString(), StringComparison.Ordinal);
    }

    private UsageQueryService Service(WebConsoleDbContext? db = null) =>
        new(db ?? _database.CreateDbContext(FixedTenantContext.For(OrgA)), Options.Create(new BillingOptions()), _clock);

    private static CallerIdentity Caller(Guid organization, bool platformOperator = false) =>
        new(organization, null, Guid.NewGuid(), null, new HashSet<Privilege> { Privilege.MonitorInference }, false, platformOperator, []);

    private UsageRecord Record(
        Guid organization, Guid team, string? key, string endpoint, string model, TaskType taskType,
        long input, long output, decimal cost, string at, string currency = "USD") =>
        UsageRecord.Create(Guid.NewGuid(), $"req-{Interlocked.Increment(ref _sequence):D3}", organization, team, key,
            key is null ? Guid.NewGuid() : null, endpoint, model, taskType, Surface.Inference, input, output, cost, currency,
            UsageOutcome.Succeeded, At(at));

    private static DateTimeOffset At(string iso) => DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }

    // A strict RFC 4180 reader: quoted fields may hold commas, doubled quotes and line breaks; records end in CRLF.
    private static List<string[]> ParseCsv(string csv)
    {
        var rows = new List<string[]>();
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < csv.Length; i++)
        {
            var c = csv[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < csv.Length && csv[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                Assert.Equal(0, field.Length);
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else if (c == '\r')
            {
                Assert.Equal('\n', csv[++i]);
                fields.Add(field.ToString());
                field.Clear();
                rows.Add([.. fields]);
                fields.Clear();
            }
            else
            {
                Assert.NotEqual('\n', c);
                field.Append(c);
            }
        }

        Assert.False(quoted);
        Assert.Equal(0, field.Length + fields.Count);
        return rows;
    }
}
