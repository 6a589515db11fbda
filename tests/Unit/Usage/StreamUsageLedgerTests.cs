using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using WebConsole.Domain.ApiKeys;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.Tenancy;
using WebConsole.Domain.Usage;
using WebConsole.Infrastructure.Billing;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Usage;

namespace WebConsole.Unit.Usage;

/// <summary>
/// The ledger's stream records on a real SQLite file: begun in progress before the first byte, checkpointed and ended as
/// one record whatever the order of the writes within a group commit, priced as the stream began, with the price on it.
/// </summary>
public sealed class StreamUsageLedgerTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid OrganizationId = Guid.Parse("0196f000-0000-7000-8000-000000000011");
    private static readonly Guid TeamId = Guid.Parse("0196f000-0000-7000-8000-000000000012");

    private static CallerIdentity Caller(Guid? team = null) =>
        new(OrganizationId, team ?? TeamId, null, "key-1", new HashSet<Privilege> { Privilege.MonitorInference }, false, false, []);

    private static InferenceUsage Stream(string requestId, int input, int output, bool completed = false, bool failed = false, CallerIdentity? caller = null) =>
        new(caller ?? Caller(), "chat-endpoint", "elasticsearch", TaskType.ChatCompletion, "chat-model", input, output,
            Streamed: true, completed, Surface.OpenAI, requestId, failed);

    private static async Task<List<UsageRecord>> RecordsAsync(LedgerTestDatabase database)
    {
        await using var context = database.CreateDbContext();
        return await context.UsageRecords.AsNoTracking().ToListAsync();
    }

    private static decimal Cost(long input, long output, decimal inputPrice, decimal outputPrice) =>
        Math.Round((input * inputPrice / 1_000_000m) + (output * outputPrice / 1_000_000m), UsageRecord.CostDecimals, MidpointRounding.ToEven);

    [Fact]
    public async Task Every_record_stores_the_price_in_force_and_an_unpriced_model_stores_zero()
    {
        await using var database = await LedgerTestDatabase.CreateAsync();
        var clock = new TestClock(Start);
        var (prices, ledger) = database.CreateLedger(clock);
        await using (ledger)
        {
            await prices.SetAsync("chat-model", 0.5m, 1.5m, null, null, default);
            await prices.SetAsync("chat-model", 2m, 6m, null, Start.AddHours(1), default);
            var usage = new InferenceUsage(Caller(), "e", "elasticsearch", TaskType.ChatCompletion, "chat-model", 100, 10, false, true, Surface.Inference, "before");
            await ledger.RecordAsync(usage, default);
            clock.Advance(TimeSpan.FromHours(1));
            await ledger.RecordAsync(usage with { RequestId = "after" }, default);
            await ledger.RecordAsync(usage with { ModelId = "unpriced", RequestId = "free" }, default);
        }

        var records = (await RecordsAsync(database)).ToDictionary(r => r.RequestId);
        Assert.Equal((0.5m, 1.5m, Cost(100, 10, 0.5m, 1.5m)), (records["before"].InputPricePerMillion, records["before"].OutputPricePerMillion, records["before"].Cost));
        Assert.Equal((2m, 6m, Cost(100, 10, 2m, 6m)), (records["after"].InputPricePerMillion, records["after"].OutputPricePerMillion, records["after"].Cost));
        Assert.Equal((0m, 0m, 0m), (records["free"].InputPricePerMillion, records["free"].OutputPricePerMillion, records["free"].Cost));
    }

    [Fact]
    public async Task A_stream_is_committed_in_progress_checkpointed_and_ended_as_one_record_at_the_price_it_began_with()
    {
        await using var database = await LedgerTestDatabase.CreateAsync();
        var clock = new TestClock(Start);
        var (prices, ledger) = database.CreateLedger(clock);
        await using (ledger)
        {
            await prices.SetAsync("chat-model", 1m, 3m, null, null, default);
            await prices.SetAsync("chat-model", 100m, 300m, null, Start.AddMinutes(1), default);

            // Begun: committed before the caller goes on, with the input tokens.
            await ledger.BeginAsync(Stream("s-1", 40, 1), default);
            var begun = Assert.Single(await RecordsAsync(database));
            Assert.Equal((UsageOutcome.InProgress, 40L, 1L, Cost(40, 1, 1m, 3m), 1m, 3m, Start),
                (begun.Outcome, begun.InputTokens, begun.OutputTokens, begun.Cost, begun.InputPricePerMillion, begun.OutputPricePerMillion, begun.OccurredAt));
            Assert.Equal(1, ledger.OpenStreams);

            // A checkpoint after the new price started is still billed at the stream's price; the record tells when it was last seen.
            clock.Advance(TimeSpan.FromMinutes(2));
            await ledger.CheckpointAsync(Stream("s-1", 40, 25));
            var checkpointed = Assert.Single(await RecordsAsync(database));
            Assert.Equal((UsageOutcome.InProgress, 25L, Cost(40, 25, 1m, 3m), Start.AddMinutes(2)),
                (checkpointed.Outcome, checkpointed.OutputTokens, checkpointed.Cost, checkpointed.OccurredAt));

            clock.Advance(TimeSpan.FromSeconds(1));
            var cost = await ledger.RecordAsync(Stream("s-1", 40, 31, completed: true), default);
            Assert.Equal(Cost(40, 31, 1m, 3m), cost);
            Assert.Equal(0, ledger.OpenStreams);

            // Once ended, a stray checkpoint of the same request changes nothing.
            await ledger.CheckpointAsync(Stream("s-1", 40, 99));
        }

        var ended = Assert.Single(await RecordsAsync(database));
        Assert.Equal(("s-1", UsageOutcome.Succeeded, 40L, 31L, Cost(40, 31, 1m, 3m), 1m, 3m, Start.AddMinutes(2).AddSeconds(1), Surface.OpenAI),
            (ended.RequestId, ended.Outcome, ended.InputTokens, ended.OutputTokens, ended.Cost, ended.InputPricePerMillion, ended.OutputPricePerMillion,
                ended.OccurredAt, ended.Surface));
    }

    [Fact]
    public async Task Writes_of_one_stream_queued_together_end_as_one_record_with_the_final_tokens_whatever_their_order()
    {
        await using var database = await LedgerTestDatabase.CreateAsync();
        var (prices, ledger) = database.CreateLedger(new TestClock(Start));
        await using (ledger)
        {
            await prices.SetAsync("chat-model", 1m, 2m, null, null, default);

            // The database is away: the beginning, three checkpoints (the last one stale) and the end wait in one batch.
            database.Down = true;
            var begin = ledger.BeginAsync(Stream("s-2", 12, 1), default).AsTask();
            var checkpoints = new[] { 10, 30, 20 }.Select(output => ledger.CheckpointAsync(Stream("s-2", 12, output))).ToArray();
            var end = ledger.RecordAsync(Stream("s-2", 12, 35), default).AsTask();

            // Another stream is cut after a checkpoint that reports more than its end (its end may not lower the record).
            var other = ledger.BeginAsync(Stream("s-3", 5, 1), default).AsTask();
            var otherCheckpoint = ledger.CheckpointAsync(Stream("s-3", 5, 9));
            var otherEnd = ledger.RecordAsync(Stream("s-3", 5, 7, failed: true), default).AsTask();
            await WebConsole.Unit.Inference.Deployments.Wait.UntilAsync(() => ledger.Held == 8, "the eight writes are held");
            Assert.False(begin.IsCompleted);

            database.Down = false;
            await Task.WhenAll([begin, end, other, otherCheckpoint, otherEnd, .. checkpoints]).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(Cost(12, 35, 1m, 2m), await end);
            Assert.Equal(Cost(5, 9, 1m, 2m), await otherEnd);
            Assert.Equal(0, ledger.Held);
        }

        var records = (await RecordsAsync(database)).ToDictionary(r => r.RequestId);
        Assert.Equal(2, records.Count);
        Assert.Equal((UsageOutcome.Cancelled, 12L, 35L, Cost(12, 35, 1m, 2m)),
            (records["s-2"].Outcome, records["s-2"].InputTokens, records["s-2"].OutputTokens, records["s-2"].Cost));
        Assert.Equal((UsageOutcome.Failed, 5L, 9L), (records["s-3"].Outcome, records["s-3"].InputTokens, records["s-3"].OutputTokens));
    }

    [Fact]
    public async Task A_checkpoint_whose_commit_acknowledgement_is_lost_is_applied_once_and_the_stream_stays_one_record()
    {
        await using var database = await LedgerTestDatabase.CreateAsync();
        var (prices, ledger) = database.CreateLedger(new TestClock(Start));
        await using (ledger)
        {
            await prices.SetAsync("chat-model", 1m, 1m, null, null, default);
            database.LoseNextAcknowledgement();
            await ledger.BeginAsync(Stream("s-4", 8, 1), default);
            Assert.True(ledger.FailedWrites >= 1);

            database.LoseNextAcknowledgement();
            await ledger.CheckpointAsync(Stream("s-4", 8, 14));
            Assert.True(ledger.FailedWrites >= 2);
            Assert.Equal((UsageOutcome.InProgress, 14L), Shape(Assert.Single(await RecordsAsync(database))));

            database.LoseNextAcknowledgement();
            Assert.Equal(0.000022m, await ledger.RecordAsync(Stream("s-4", 8, 14, completed: true), default));
        }

        Assert.Equal((UsageOutcome.Succeeded, 14L), Shape(Assert.Single(await RecordsAsync(database))));

        static (UsageOutcome, long) Shape(UsageRecord r) => (r.Outcome, r.OutputTokens);
    }

    [Fact]
    public async Task A_full_buffer_refuses_new_streams_but_never_the_checkpoints_or_end_of_a_stream_already_served()
    {
        await using var database = await LedgerTestDatabase.CreateAsync();
        var (prices, ledger) = database.CreateLedger(new TestClock(Start), o => o.LedgerBufferCapacity = 2);
        await using (ledger)
        {
            await prices.SetAsync("chat-model", 1m, 1m, null, null, default);
            await ledger.BeginAsync(Stream("served", 3, 1), default);

            database.Down = true;
            var held = Enumerable.Range(0, 2).Select(i => ledger.BeginAsync(Stream($"held-{i}", 3, 1), default).AsTask()).ToArray();
            var refused = await Assert.ThrowsAsync<UsageLedgerUnavailableException>(() => ledger.BeginAsync(Stream("refused", 3, 1), default).AsTask());
            Assert.Equal(503, InferenceApiException.From(refused)!.Status);

            var checkpoint = ledger.CheckpointAsync(Stream("served", 3, 4));
            var end = ledger.RecordAsync(Stream("served", 3, 6, completed: true), default).AsTask();
            Assert.Equal(4, ledger.Held);

            database.Down = false;
            await Task.WhenAll([checkpoint, end, .. held]).WaitAsync(TimeSpan.FromSeconds(10));

            // The refused stream was never begun: ending it (its error path) records it as a plain request, once.
            await ledger.RecordAsync(Stream("refused", 3, 1), default);
        }

        var records = (await RecordsAsync(database)).ToDictionary(r => r.RequestId);
        Assert.Equal(["held-0", "held-1", "refused", "served"], records.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((UsageOutcome.Succeeded, 6L), (records["served"].Outcome, records["served"].OutputTokens));
        Assert.Equal(UsageOutcome.InProgress, records["held-0"].Outcome);
    }

    [Fact]
    public async Task A_stream_of_a_caller_without_a_team_is_billed_to_the_default_team_and_checkpoints_after_stopping_are_dropped_quietly()
    {
        await using var database = await LedgerTestDatabase.CreateAsync();
        var defaultTeam = Guid.CreateVersion7();
        await using (var context = database.CreateDbContext())
        {
            context.Organizations.Add(Organization.Create(OrganizationId, "Acme", "acme", Start));
            context.Teams.Add(Team.Create(defaultTeam, OrganizationId, IdentitySeeder.DefaultTeamName, Start));
            await context.SaveChangesAsync();
        }

        var (_, ledger) = database.CreateLedger(new TestClock(Start));
        var teamless = Caller() with { TeamId = null };
        await ledger.BeginAsync(Stream("s-5", 2, 1, caller: teamless), default);
        await ledger.CheckpointAsync(Stream("s-5", 2, 3, caller: teamless));
        await ledger.StopAsync(CancellationToken.None);

        // The server stopped mid-stream: the checkpoint is dropped without an error and the record keeps its last state.
        await ledger.CheckpointAsync(Stream("s-5", 2, 8, caller: teamless));
        await ledger.DisposeAsync();

        var record = Assert.Single(await RecordsAsync(database));
        Assert.Equal((defaultTeam, UsageOutcome.InProgress, 3L), (record.TeamId, record.Outcome, record.OutputTokens));
    }

    [Fact]
    public async Task The_usage_summary_and_the_csv_count_a_stream_left_in_progress_as_checkpointed()
    {
        await using var database = await LedgerTestDatabase.CreateAsync();
        var clock = new TestClock(Start);
        var (prices, ledger) = database.CreateLedger(clock);
        await using (ledger)
        {
            await prices.SetAsync("chat-model", 1m, 3m, null, null, default);
            await ledger.RecordAsync(Stream("done", 10, 5, completed: true), default);

            // A stream whose server died after a checkpoint: its record stays in progress.
            await ledger.BeginAsync(Stream("cut", 20, 1), default);
            await ledger.CheckpointAsync(Stream("cut", 20, 7));
        }

        clock.Advance(TimeSpan.FromMinutes(1));
        await using var db = database.CreateDbContext(FixedTenantContext.For(OrganizationId));
        var service = new UsageQueryService(db, Options.Create(new BillingOptions()), clock);
        var caller = new CallerIdentity(OrganizationId, TeamId, Guid.NewGuid(), null, new HashSet<Privilege> { Privilege.MonitorInference }, false, false, []);
        var summary = await service.SummarizeAsync(caller, new UsageQuery(), UsageGrouping.None);
        Assert.Equal(new UsageTotals(2, 30, 12, Cost(10, 5, 1m, 3m) + Cost(20, 7, 1m, 3m)), summary.Totals);

        using var text = new StringWriter();
        await UsageCsv.WriteAsync(text, service.RecordsAsync(caller, new UsageQuery()));
        var lines = text.ToString().Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(',')).ToList();
        var column = lines[0].Select((name, i) => (name, i)).ToDictionary(c => c.name, c => c.i);
        var cut = Assert.Single(lines, l => l[column["request_id"]] == "cut");
        Assert.Equal(["in_progress", "20", "7", "1", "3"],
            new[] { cut[column["outcome"]], cut[column["input_tokens"]], cut[column["output_tokens"]], cut[column["input_price_per_million"]],
                cut[column["output_price_per_million"]] });
    }
}
