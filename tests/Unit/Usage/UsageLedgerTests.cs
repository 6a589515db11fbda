using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using WebConsole.Domain.ApiKeys;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.Tenancy;
using WebConsole.Domain.Usage;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Usage;

namespace WebConsole.Unit.Usage;

public sealed class UsageLedgerTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid OrganizationId = Guid.Parse("0196f000-0000-7000-8000-000000000001");
    private static readonly Guid TeamId = Guid.Parse("0196f000-0000-7000-8000-000000000002");

    private static CallerIdentity Caller(Guid? team = null) =>
        new(OrganizationId, team ?? TeamId, null, "key-1", new HashSet<Privilege> { Privilege.MonitorInference }, false, false, []);

    private static InferenceUsage Usage(TaskType task, string model, int input, int output, CallerIdentity? caller = null, string? requestId = null, bool completed = true) =>
        new(caller ?? Caller(), "endpoint-" + model, "elasticsearch", task, model, input, output, Streamed: false, completed, Surface.Inference, requestId);

    private static async Task<List<UsageRecord>> RecordsAsync(LedgerTestDatabase database)
    {
        await using var context = database.CreateDbContext();
        return await context.UsageRecords.AsNoTracking().ToListAsync();
    }

    [Fact]
    public async Task Chat_bills_input_and_output_embeddings_input_only_and_rerank_query_and_documents_as_input()
    {
        await using var database = await LedgerTestDatabase.CreateAsync();
        var clock = new TestClock(Start);
        var (prices, ledger) = database.CreateLedger(clock);
        await using (ledger)
        {
            await prices.SetAsync("chat-model", 0.5m, 1.5m, null, null, default);
            await prices.SetAsync("embed-model", 0.1m, 9m, "usd", null, default);
            await prices.SetAsync("rerank-model", 2m, 7m, null, null, default);

            // 1000 * 0.5/1e6 + 200 * 1.5/1e6; 2000 * 0.1/1e6 (output ignored); 3000 * 2/1e6 (query and documents counted as input).
            Assert.Equal(0.0008m, await ledger.RecordAsync(Usage(TaskType.ChatCompletion, "chat-model", 1000, 200), default));
            Assert.Equal(0.0002m, await ledger.RecordAsync(Usage(TaskType.TextEmbedding, "embed-model", 2000, 50), default));
            Assert.Equal(0.0002m, await ledger.RecordAsync(Usage(TaskType.SparseEmbedding, "embed-model", 2000, 50), default));
            Assert.Equal(0.006m, await ledger.RecordAsync(Usage(TaskType.Rerank, "rerank-model", 3000, 0), default));
            Assert.Equal(0m, await ledger.RecordAsync(Usage(TaskType.ChatCompletion, "unpriced-model", 1000, 1000), default));
            // Rounded to nine places: 1 token at 0.0000000001... per token rounds to zero; 3 tokens at 1/3 per million.
            await prices.SetAsync("third", 1m / 3m, 0m, null, null, default);
            Assert.Equal(0.000001m, await ledger.RecordAsync(Usage(TaskType.TextEmbedding, "third", 3, 0), default));
        }

        var records = await RecordsAsync(database);
        Assert.Equal(6, records.Count);
        Assert.All(records, r => Assert.Equal("USD", r.Currency));
        Assert.All(records, r => Assert.Equal(UsageRecord.InferenceBillingDimension, r.BillingDimension));
        var chat = Assert.Single(records, r => r.ModelId == "chat-model");
        Assert.Equal((1000L, 200L, 0.0008m, TeamId, "key-1", TaskType.ChatCompletion, UsageOutcome.Succeeded),
            (chat.InputTokens, chat.OutputTokens, chat.Cost, chat.TeamId, chat.ApiKeyId, chat.TaskType, chat.Outcome));
        Assert.Equal(0m, Assert.Single(records, r => r.ModelId == "unpriced-model").Cost);
    }

    [Fact]
    public async Task A_new_price_applies_from_its_start_and_never_reprices_earlier_records()
    {
        await using var database = await LedgerTestDatabase.CreateAsync();
        var clock = new TestClock(Start);
        var (prices, ledger) = database.CreateLedger(clock);
        await using (ledger)
        {
            await prices.SetAsync("chat-model", 1m, 2m, null, null, default);
            await prices.SetAsync("chat-model", 10m, 20m, null, Start.AddHours(1), default);
            Assert.Equal(0.000005m, await ledger.RecordAsync(Usage(TaskType.ChatCompletion, "chat-model", 1, 2, requestId: "before"), default));

            clock.Advance(TimeSpan.FromHours(1));
            Assert.Equal(0.00005m, await ledger.RecordAsync(Usage(TaskType.ChatCompletion, "chat-model", 1, 2, requestId: "after"), default));

            // A price may not start in the past: it would reprice what was billed.
            await Assert.ThrowsAsync<WebConsole.Domain.DomainValidationException>(
                () => prices.SetAsync("chat-model", 0m, 0m, null, Start, default));
            Assert.Equal(2, (await prices.ListAsync("chat-model", default)).Count);
        }

        var records = (await RecordsAsync(database)).ToDictionary(r => r.RequestId);
        Assert.Equal(0.000005m, records["before"].Cost);
        Assert.Equal(0.00005m, records["after"].Cost);
    }

    [Fact]
    public async Task Two_hundred_concurrent_records_are_written_in_far_fewer_commits()
    {
        await using var database = await LedgerTestDatabase.CreateAsync();
        var (prices, ledger) = database.CreateLedger(new TestClock(Start));
        await using (ledger)
        {
            await prices.SetAsync("embed-model", 1m, 0m, null, null, default);
            using var go = new ManualResetEventSlim();
            var calls = Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
            {
                go.Wait();
                return await ledger.RecordAsync(Usage(TaskType.TextEmbedding, "embed-model", 10 + i, 0), default);
            })).ToArray();
            go.Set();
            var costs = await Task.WhenAll(calls);

            Assert.Equal(Enumerable.Range(0, 200).Select(i => (10 + i) / 1_000_000m), costs);
            Assert.InRange(ledger.CommitCount, 1, 50);
            Assert.Equal(0, ledger.Held);
        }

        var records = await RecordsAsync(database);
        Assert.Equal(200, records.Count);
        Assert.Equal(200, records.Select(r => r.RequestId).Distinct().Count());
        Assert.Equal(Enumerable.Range(0, 200).Sum(i => 10L + i), records.Sum(r => r.InputTokens));
    }

    [Fact]
    public async Task Records_wait_while_the_database_is_locked_and_are_written_once_when_it_returns()
    {
        await using var database = await LedgerTestDatabase.CreateAsync(busyTimeoutSeconds: 1);
        var (prices, ledger) = database.CreateLedger(new TestClock(Start));
        await using (ledger)
        {
            await prices.SetAsync("chat-model", 1m, 1m, null, null, default);

            // Another process holds the write lock: every write times out as SQLite's "database is locked".
            await using var blocker = new SqliteConnection(database.ConnectionString);
            await blocker.OpenAsync();
            await using (var begin = blocker.CreateCommand())
            {
                begin.CommandText = "BEGIN EXCLUSIVE";
                await begin.ExecuteNonQueryAsync();
            }

            var calls = Enumerable.Range(0, 20).Select(i => ledger.RecordAsync(Usage(TaskType.ChatCompletion, "chat-model", 100, i), default).AsTask()).ToArray();
            await WebConsole.Unit.Inference.Deployments.Wait.UntilAsync(() => ledger.Held == 20 && ledger.FailedWrites >= 1, "the twenty writes are held after a failed write");
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.All(calls, c => Assert.False(c.IsCompleted));
            Assert.Equal(20, ledger.Held);

            await using (var rollback = blocker.CreateCommand())
            {
                rollback.CommandText = "ROLLBACK";
                await rollback.ExecuteNonQueryAsync();
            }

            await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(0, ledger.Held);
        }

        var records = await RecordsAsync(database);
        Assert.Equal(20, records.Count);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i).Order(), records.Select(r => r.OutputTokens).Order());
    }

    [Fact]
    public async Task A_commit_whose_acknowledgement_is_lost_is_not_written_twice()
    {
        await using var database = await LedgerTestDatabase.CreateAsync();
        var (prices, ledger) = database.CreateLedger(new TestClock(Start));
        await using (ledger)
        {
            await prices.SetAsync("chat-model", 1m, 1m, null, null, default);
            database.LoseNextAcknowledgement();
            var costs = await Task.WhenAll(Enumerable.Range(0, 5)
                .Select(i => ledger.RecordAsync(Usage(TaskType.ChatCompletion, "chat-model", 1, 1, requestId: $"req-{i}"), default).AsTask()));
            Assert.All(costs, c => Assert.Equal(0.000002m, c));
            Assert.True(ledger.FailedWrites >= 1);

            // The same request recorded again (a retried call) is not a second record either.
            Assert.Equal(0.000002m, await ledger.RecordAsync(Usage(TaskType.ChatCompletion, "chat-model", 1, 1, requestId: "req-0"), default));
        }

        var records = await RecordsAsync(database);
        Assert.Equal(["req-0", "req-1", "req-2", "req-3", "req-4"], records.Select(r => r.RequestId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_full_buffer_refuses_new_records_with_a_503_and_accepts_again_once_written()
    {
        await using var database = await LedgerTestDatabase.CreateAsync();
        var (prices, ledger) = database.CreateLedger(new TestClock(Start), o => o.LedgerBufferCapacity = 3);
        await using (ledger)
        {
            await prices.SetAsync("chat-model", 1m, 1m, null, null, default);
            database.Down = true;
            var held = Enumerable.Range(0, 3).Select(i => ledger.RecordAsync(Usage(TaskType.ChatCompletion, "chat-model", 1, i), default).AsTask()).ToArray();

            var refused = await Assert.ThrowsAsync<UsageLedgerUnavailableException>(
                () => ledger.RecordAsync(Usage(TaskType.ChatCompletion, "chat-model", 1, 99), default).AsTask());
            Assert.Equal(503, InferenceApiException.From(refused)!.Status);
            Assert.Equal(3, ledger.Held);

            database.Down = false;
            await Task.WhenAll(held).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(0.000001m, await ledger.RecordAsync(Usage(TaskType.ChatCompletion, "chat-model", 1, 0), default));
        }

        var records = await RecordsAsync(database);
        Assert.Equal(4, records.Count);
        Assert.DoesNotContain(records, r => r.OutputTokens == 99);
    }

    [Fact]
    public async Task Stopping_writes_what_is_held_and_refuses_what_comes_after()
    {
        await using var database = await LedgerTestDatabase.CreateAsync();
        var (prices, ledger) = database.CreateLedger(new TestClock(Start));
        await prices.SetAsync("chat-model", 1m, 1m, null, null, default);
        database.Down = true;
        var held = Enumerable.Range(0, 10).Select(i => ledger.RecordAsync(Usage(TaskType.ChatCompletion, "chat-model", 1, i), default).AsTask()).ToArray();
        var waited = Stopwatch.StartNew();
        while (ledger.Held < 10 && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10);
        }

        Assert.Equal(10, ledger.Held);

        var stopping = ledger.StopAsync(CancellationToken.None);
        await Assert.ThrowsAsync<UsageLedgerUnavailableException>(() => ledger.RecordAsync(Usage(TaskType.ChatCompletion, "chat-model", 1, 1), default).AsTask());
        Assert.False(stopping.IsCompleted);

        database.Down = false;
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(10, (await Task.WhenAll(held).WaitAsync(TimeSpan.FromSeconds(1))).Length);
        await ledger.DisposeAsync();
        Assert.Equal(10, (await RecordsAsync(database)).Count);
    }

    [Fact]
    public async Task Stopping_past_its_deadline_fails_the_waiting_requests_instead_of_hanging()
    {
        await using var database = await LedgerTestDatabase.CreateAsync();
        var (prices, ledger) = database.CreateLedger(new TestClock(Start));
        await prices.SetAsync("chat-model", 1m, 1m, null, null, default);
        database.Down = true;
        var held = ledger.RecordAsync(Usage(TaskType.ChatCompletion, "chat-model", 1, 1), default).AsTask();

        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await ledger.StopAsync(deadline.Token);
        await Assert.ThrowsAsync<UsageLedgerUnavailableException>(() => held);
        await ledger.DisposeAsync();
    }

    [Fact]
    public async Task A_caller_without_a_team_is_billed_to_the_organizations_default_team()
    {
        await using var database = await LedgerTestDatabase.CreateAsync();
        var defaultTeam = Guid.CreateVersion7();
        await using (var context = database.CreateDbContext())
        {
            context.Organizations.Add(Organization.Create(OrganizationId, "Acme", "acme", Start));
            context.Teams.Add(Team.Create(Guid.CreateVersion7(), OrganizationId, "Research", Start.AddDays(-1)));
            context.Teams.Add(Team.Create(defaultTeam, OrganizationId, IdentitySeeder.DefaultTeamName, Start));
            await context.SaveChangesAsync();
        }

        var (_, ledger) = database.CreateLedger(new TestClock(Start));
        await using (ledger)
        {
            var teamless = Caller() with { TeamId = null };
            await ledger.RecordAsync(Usage(TaskType.TextEmbedding, "embed-model", 5, 0, teamless), default);
        }

        Assert.Equal(defaultTeam, Assert.Single(await RecordsAsync(database)).TeamId);
    }
}
