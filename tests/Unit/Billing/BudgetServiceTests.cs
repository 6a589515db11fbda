using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WebConsole.Domain;
using WebConsole.Domain.ApiKeys;
using WebConsole.Domain.Billing;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.RateLimiting;
using WebConsole.Domain.Tenancy;
using WebConsole.Domain.Usage;
using WebConsole.Infrastructure.Admission;
using WebConsole.Infrastructure.Billing;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Usage;
using WebConsole.Unit.Usage;

namespace WebConsole.Unit.Billing;

/// <summary>
/// Budgets over a real SQLite ledger under a test clock: reservation arithmetic, atomicity under concurrency (also across
/// a team and a key budget), the ledger read and refreshed without doubling, month rollover and the soft threshold.
/// A price of 1000 per million input tokens makes one token cost 0.001.
/// </summary>
public sealed class BudgetServiceTests
{
    private const string Model = "budget-model";
    private const string KeyId = "key-search";
    private static readonly DateTimeOffset Start = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid OrganizationId = Guid.Parse("0196f000-0000-7000-8000-0000000000a1");
    private static readonly Guid OtherOrganizationId = Guid.Parse("0196f000-0000-7000-8000-0000000000a2");
    private static readonly Guid DefaultTeamId = Guid.Parse("0196f000-0000-7000-8000-0000000000b1");
    private static readonly Guid TeamId = Guid.Parse("0196f000-0000-7000-8000-0000000000b2");
    private static readonly Guid OtherTeamId = Guid.Parse("0196f000-0000-7000-8000-0000000000b3");

    private static readonly InferenceEndpoint Endpoint = InferenceEndpoint.Create(
        Guid.Parse("0196f000-0000-7000-8000-0000000000c1"), OrganizationId, InferenceId.Parse("budget-endpoint"), TaskType.TextEmbedding,
        "elasticsearch", $$"""{"model_id":"{{Model}}"}""", null, null, null, Start);

    [Fact]
    public async Task A_request_is_admitted_only_while_its_estimate_fits_and_settling_replaces_the_estimate_by_the_cost()
    {
        await using var setup = await Setup.CreateAsync(new TestClock(Start));
        await setup.Budgets.SetAsync(OrganizationId, BudgetScope.Team, TeamId.ToString(), 0.01m, null, null, default);

        var first = await setup.AdmitAsync(Caller(), 4, "r1");
        var second = await setup.AdmitAsync(Caller(), 4, "r2");
        Assert.Equal((0m, 0.008m, 0.002m), await setup.FiguresAsync(BudgetScope.Team));

        // 0.008 reserved + 0.004 > 0.01: refused with the budget, the figures and when requests are admitted again.
        var refused = await Assert.ThrowsAsync<InferenceApiException>(() => setup.AdmitAsync(Caller(), 4, "r3"));
        Assert.Equal(402, refused.Status);
        Assert.Equal(
            "Monthly budget of 0.01 USD for team [Search] cannot cover this request (spent 0 USD, 0.008 USD held by requests in progress, "
            + "this request needs about 0.004 USD); requests are refused until 2026-12-01T00:00:00Z or until the budget is raised",
            refused.Reason);
        Assert.DoesNotContain(refused.Headers, h => h.Key == "Retry-After");

        // A request that did no work gives its reservation back; one that ran costs what it really used (2 tokens).
        first.Release();
        await setup.RunAsync(Caller(), second, 2, "r2");
        Assert.Equal((0.002m, 0m, 0.008m), await setup.FiguresAsync(BudgetScope.Team));

        // 0.002 + 0.008 = 0.01 fits exactly; after it nothing does, not even a free request.
        var exact = await setup.AdmitAsync(Caller(), 8, "r4");
        await setup.RunAsync(Caller(), exact, 8, "r4");
        Assert.Equal((0.01m, 0m, 0m), await setup.FiguresAsync(BudgetScope.Team));
        var exhausted = await Assert.ThrowsAsync<InferenceApiException>(() => setup.AdmitAsync(Caller(), 0, "r5"));
        Assert.StartsWith("Monthly budget of 0.01 USD for team [Search] is exhausted (spent 0.01 USD, this request needs about 0 USD)", exhausted.Reason);

        // Raising the budget admits again at once; another team is not affected by this one's budget.
        await setup.Budgets.SetAsync(OrganizationId, BudgetScope.Team, TeamId.ToString(), 0.02m, null, "usd", default);
        (await setup.AdmitAsync(Caller(), 8, "r6")).Release();
        (await setup.AdmitAsync(Caller(DefaultTeamId, key: null), 100, "r7")).Release();
    }

    [Fact]
    public async Task Concurrent_requests_cannot_overshoot_and_a_request_reserves_on_its_team_and_key_budgets_or_on_neither()
    {
        await using var setup = await Setup.CreateAsync(new TestClock(Start));
        await setup.Budgets.SetAsync(OrganizationId, BudgetScope.Team, TeamId.ToString(), 0.05m, null, null, default);
        await setup.Budgets.SetAsync(OrganizationId, BudgetScope.ApiKey, KeyId, 0.03m, null, null, default);

        // 200 requests of one token each against a key budget of 30 tokens and a team budget of 50.
        var attempts = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            try
            {
                return await setup.AdmitAsync(Caller(), 1, $"k{i}");
            }
            catch (InferenceApiException ex) when (ex.Status == 402)
            {
                return null;
            }
        })));
        Assert.Equal(30, attempts.Count(p => p is not null));
        Assert.Equal((0m, 0.03m, 0m), await setup.FiguresAsync(BudgetScope.ApiKey));

        // The key refused the other 170, and the team holds only what the key admitted.
        Assert.Equal((0m, 0.03m, 0.02m), await setup.FiguresAsync(BudgetScope.Team));

        // Another key of the team (no key budget) uses the rest of the team's budget, concurrently too.
        var teamOnly = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => Task.Run(async () =>
        {
            try
            {
                return await setup.AdmitAsync(Caller(key: "key-other"), 1, $"t{i}");
            }
            catch (InferenceApiException ex) when (ex.Status == 402)
            {
                return null;
            }
        })));
        Assert.Equal(20, teamOnly.Count(p => p is not null));

        // Settled at their real cost in parallel: the ledger's total is the budget, exactly.
        var admitted = attempts.Select((p, i) => (p, id: $"k{i}")).Concat(teamOnly.Select((p, i) => (p, id: $"t{i}"))).Where(a => a.p is not null).ToList();
        await Task.WhenAll(admitted.Select(a => Task.Run(() => setup.RunAsync(a.id.StartsWith('k') ? Caller() : Caller(key: "key-other"), a.p!, 1, a.id))));
        Assert.Equal((0.05m, 0m, 0m), await setup.FiguresAsync(BudgetScope.Team));
        Assert.Equal(0.05m, await setup.LedgerTotalAsync());
    }

    [Fact]
    public async Task The_spend_is_read_from_the_ledger_and_refreshed_without_doubling_what_this_node_settled()
    {
        var clock = new TestClock(Start.AddDays(-30));
        await using var setup = await Setup.CreateAsync(clock);

        // Spending of last month (which does not count), and of this month before the budget existed (which does).
        await setup.RecordAsync(Caller(), 50, "last-month");
        clock.Advance(TimeSpan.FromDays(30));
        await setup.RecordAsync(Caller(), 3, "before");
        await setup.Budgets.SetAsync(OrganizationId, BudgetScope.Team, TeamId.ToString(), 0.02m, 0.015m, null, default);
        Assert.Equal((0.003m, 0m, 0.017m), await setup.FiguresAsync(BudgetScope.Team));

        // Settled here: counted at once.
        var local = await setup.AdmitAsync(Caller(), 2, "local");
        await setup.RunAsync(Caller(), local, 2, "local");

        // Running while the ledger is read again: its record is already committed (a stream's first write), yet it
        // counts once, through its reservation and then its settlement.
        var running = await setup.AdmitAsync(Caller(), 4, "running");
        await setup.RecordAsync(Caller(), 1, "running");

        // Another node's spending is seen at the next refresh.
        await setup.RecordAsync(Caller(), 5, "other-node");
        Assert.Equal((0.005m, 0.004m, 0.011m), await setup.FiguresAsync(BudgetScope.Team));
        clock.Advance(TimeSpan.FromSeconds(6));
        await setup.RefreshAsync();
        Assert.Equal((0.01m, 0.004m, 0.006m), await setup.FiguresAsync(BudgetScope.Team));

        running.Settle(4, 0, 0.004m);
        Assert.Equal((0.014m, 0m, 0.006m), await setup.FiguresAsync(BudgetScope.Team));
        clock.Advance(TimeSpan.FromSeconds(6));
        await setup.RefreshAsync();

        // The ledger holds 3 + 2 + 1 + 5 tokens (the running request's record says 1 token, its settlement 4: the ledger
        // wins once the request is over).
        Assert.Equal((0.011m, 0m, 0.009m), await setup.FiguresAsync(BudgetScope.Team));
        Assert.Equal(0.011m, await setup.LedgerTotalAsync(from: Start.AddDays(-1)));
    }

    [Fact]
    public async Task A_new_month_starts_from_zero_and_admits_again()
    {
        var clock = new TestClock(new DateTimeOffset(2026, 11, 30, 23, 59, 0, TimeSpan.Zero));
        await using var setup = await Setup.CreateAsync(clock);
        await setup.Budgets.SetAsync(OrganizationId, BudgetScope.ApiKey, KeyId, 0.005m, null, null, default);
        var pass = await setup.AdmitAsync(Caller(), 5, "november");
        await setup.RunAsync(Caller(), pass, 5, "november");
        var refused = await Assert.ThrowsAsync<InferenceApiException>(() => setup.AdmitAsync(Caller(), 1, "refused"));
        Assert.Contains("API key [search-key] is exhausted", refused.Reason, StringComparison.Ordinal);
        Assert.Contains("refused until 2026-12-01T00:00:00Z", refused.Reason, StringComparison.Ordinal);

        // A request still running at midnight keeps its reservation into the new month.
        await setup.Budgets.SetAsync(OrganizationId, BudgetScope.ApiKey, KeyId, 0.006m, null, null, default);
        var overMidnight = await setup.AdmitAsync(Caller(), 1, "over-midnight");
        clock.Advance(TimeSpan.FromMinutes(2));
        var statuses = await setup.Budgets.ListAsync(OrganizationId, default);
        var december = Assert.Single(statuses);
        Assert.Equal(("2026-12", 0m, 0.001m), (december.Month, december.Spent, december.Reserved));

        var again = await setup.AdmitAsync(Caller(), 5, "december");
        await setup.RunAsync(Caller(), again, 5, "december");
        overMidnight.Release();
        Assert.Equal((0.005m, 0m, 0.001m), await setup.FiguresAsync(BudgetScope.ApiKey));

        // Read from the ledger again, December holds only December's record.
        clock.Advance(TimeSpan.FromSeconds(6));
        await setup.RefreshAsync();
        Assert.Equal((0.005m, 0m, 0.001m), await setup.FiguresAsync(BudgetScope.ApiKey));
    }

    [Fact]
    public async Task The_soft_threshold_is_reported_once_a_month_with_one_audit_row_and_then_warns_on_every_answer()
    {
        var clock = new TestClock(Start);
        await using var setup = await Setup.CreateAsync(clock);
        var (budget, created) = await setup.Budgets.SetAsync(OrganizationId, BudgetScope.Team, TeamId.ToString(), 0.01m, 0.005m, null, default);
        Assert.True(created);

        var pass = await setup.AdmitAsync(Caller(), 3, "a");
        await setup.RunAsync(Caller(), pass, 3, "a");
        pass = await setup.AdmitAsync(Caller(), 3, "b");
        Assert.Empty(pass.Headers);

        // This settlement crosses 0.005: reported once, however many requests follow.
        await setup.RunAsync(Caller(), pass, 3, "b");
        for (var i = 0; i < 3; i++)
        {
            pass = await setup.AdmitAsync(Caller(), 1, $"c{i}");
            Assert.Equal(
                KeyValuePair.Create("Warning", FormattableString.Invariant($"299 WebConsole \"Team [Search] has spent {0.006m + (i * 0.001m)} of its monthly budget 0.01 USD\"")),
                Assert.Single(pass.Headers));
            await setup.RunAsync(Caller(), pass, 1, $"c{i}");
        }

        await setup.Budgets.WhenIdleAsync();
        Assert.Equal("2026-11", (await setup.StoredBudgetAsync(budget.Id)).SoftWarnedMonth);
        var audit = Assert.Single(await setup.AuditAsync());
        Assert.Equal(("budget", budget.Id.ToString(), OrganizationId, "system"), (audit.ResourceType, audit.ResourceId, audit.OrganizationId, audit.ActorName));
        Assert.StartsWith("team [Search] has spent 0.006 USD of its monthly budget 0.01 USD in 2026-11, past its soft limit of 0.005 USD", audit.Details, StringComparison.Ordinal);

        // Another node (or this one restarted) reading the same spend does not report it again.
        using (var restarted = setup.NewService())
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            var after = await restarted.ReserveAsync(Setup.Request(Caller(), 1, "restarted"), default);
            Assert.Single(after.Headers);
            after.Release();
            await restarted.WhenIdleAsync();
        }

        Assert.Single(await setup.AuditAsync());

        // The next month starts unwarned, and crossing again is reported again, once.
        clock.Advance(TimeSpan.FromDays(11));
        pass = await setup.AdmitAsync(Caller(), 6, "december");
        Assert.Empty(pass.Headers);
        await setup.RunAsync(Caller(), pass, 6, "december");
        await setup.Budgets.WhenIdleAsync();
        Assert.Equal(2, (await setup.AuditAsync()).Count);
        Assert.Equal("2026-12", (await setup.StoredBudgetAsync(budget.Id)).SoftWarnedMonth);
    }

    [Fact]
    public async Task A_budget_names_a_team_or_key_of_the_organization_in_the_installation_currency()
    {
        await using var setup = await Setup.CreateAsync(new TestClock(Start));
        await Assert.ThrowsAsync<BudgetScopeNotFoundException>(() =>
            setup.Budgets.SetAsync(OrganizationId, BudgetScope.Team, OtherTeamId.ToString(), 1m, null, null, default));
        await Assert.ThrowsAsync<BudgetScopeNotFoundException>(() =>
            setup.Budgets.SetAsync(OtherOrganizationId, BudgetScope.ApiKey, KeyId, 1m, null, null, default));
        await Assert.ThrowsAsync<BudgetScopeNotFoundException>(() =>
            setup.Budgets.SetAsync(OrganizationId, BudgetScope.ApiKey, "no-such-key", 1m, null, null, default));
        var currency = await Assert.ThrowsAsync<DomainValidationException>(() =>
            setup.Budgets.SetAsync(OrganizationId, BudgetScope.Team, TeamId.ToString(), 1m, null, "EUR", default));
        Assert.Equal("[currency] must be the installation's currency [USD], got [EUR]", currency.Message);
        await Assert.ThrowsAsync<DomainValidationException>(() =>
            setup.Budgets.SetAsync(OrganizationId, BudgetScope.Team, TeamId.ToString(), 1m, 2m, null, default));
        await Assert.ThrowsAsync<DomainValidationException>(() =>
            setup.Budgets.SetAsync(OrganizationId, BudgetScope.Team, "not-a-uuid", 1m, null, null, default));

        // Setting twice changes the one budget; another organization sees none of it and cannot delete it.
        var (first, created) = await setup.Budgets.SetAsync(OrganizationId, BudgetScope.Team, TeamId.ToString().ToUpperInvariant(), 1m, null, null, default);
        var (second, createdAgain) = await setup.Budgets.SetAsync(OrganizationId, BudgetScope.Team, TeamId.ToString(), 2m, 1m, null, default);
        Assert.Equal((true, false, first.Id, 2m, 1m), (created, createdAgain, second.Id, second.MonthlyLimit, second.SoftLimit));
        Assert.Empty(await setup.Budgets.ListAsync(OtherOrganizationId, default));
        Assert.Null(await setup.Budgets.DeleteAsync(OtherOrganizationId, first.Id, default));

        // Deleted, the budget no longer applies.
        Assert.NotNull(await setup.Budgets.DeleteAsync(OrganizationId, first.Id, default));
        Assert.Same(AdmissionPass.None, await setup.Budgets.ReserveAsync(Setup.Request(Caller(), 1_000_000, "free"), default));
    }

    [Fact]
    public async Task Users_without_a_team_spend_from_the_default_team_budget()
    {
        await using var setup = await Setup.CreateAsync(new TestClock(Start));
        await setup.Budgets.SetAsync(OrganizationId, BudgetScope.Team, DefaultTeamId.ToString(), 0.002m, null, null, default);
        var user = new CallerIdentity(OrganizationId, null, Guid.NewGuid(), null, new HashSet<Privilege> { Privilege.MonitorInference }, false, false, []);
        var pass = await setup.AdmitAsync(user, 2, "u1");
        await setup.RunAsync(user, pass, 2, "u1");
        var refused = await Assert.ThrowsAsync<InferenceApiException>(() => setup.AdmitAsync(user, 1, "u2"));
        Assert.Contains("team [Default] is exhausted", refused.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreadable_spend_refuses_with_503_until_read_once_and_a_later_outage_keeps_the_figures_in_memory()
    {
        var clock = new TestClock(Start);
        await using var setup = await Setup.CreateAsync(clock);
        await setup.Budgets.SetAsync(OrganizationId, BudgetScope.Team, TeamId.ToString(), 0.01m, null, null, default);
        await setup.RecordAsync(Caller(), 4, "spent");

        // A node that never read the month's spend does not guess it.
        using var fresh = setup.NewService();
        await fresh.ReloadAsync(default);
        setup.Database.Down = true;
        var unavailable = await Assert.ThrowsAsync<InferenceApiException>(() => fresh.ReserveAsync(Setup.Request(Caller(), 1, "x"), default).AsTask());
        Assert.Equal(503, unavailable.Status);
        Assert.Contains("monthly spend of team [Search] cannot be read", unavailable.Reason, StringComparison.Ordinal);

        setup.Database.Down = false;
        var pass = await fresh.ReserveAsync(Setup.Request(Caller(), 6, "fits"), default);
        await Assert.ThrowsAsync<InferenceApiException>(() => fresh.ReserveAsync(Setup.Request(Caller(), 1, "over"), default).AsTask());

        // Once read, an outage at refresh time keeps the figures (and the reservations) in use.
        setup.Database.Down = true;
        clock.Advance(TimeSpan.FromSeconds(6));
        pass.Release();
        var again = await fresh.ReserveAsync(Setup.Request(Caller(), 6, "during-outage"), default);
        await fresh.WhenIdleAsync();
        await Assert.ThrowsAsync<InferenceApiException>(() => fresh.ReserveAsync(Setup.Request(Caller(), 1, "still-over"), default).AsTask());
        again.Release();
        setup.Database.Down = false;
    }

    private static CallerIdentity Caller(Guid? team = null, string? key = KeyId) =>
        new(OrganizationId, team ?? TeamId, null, key, new HashSet<Privilege> { Privilege.MonitorInference }, false, false, []);

    /// <summary>A migrated database with two organizations, their teams and a key, a price, the ledger and the budgets.</summary>
    private sealed class Setup : IAsyncDisposable
    {
        private readonly LedgerTestDatabase _database;
        private readonly PriceBook _prices;
        private readonly UsageLedger _ledger;
        private readonly TestClock _clock;

        private Setup(LedgerTestDatabase database, TestClock clock)
        {
            _database = database;
            _clock = clock;
            (_prices, _ledger) = database.CreateLedger(clock);
            Budgets = NewService();
        }

        public BudgetService Budgets { get; }

        public LedgerTestDatabase Database => _database;

        public static async Task<Setup> CreateAsync(TestClock clock)
        {
            var database = await LedgerTestDatabase.CreateAsync();
            await using (var context = database.CreateDbContext())
            {
                var at = clock.Now.AddDays(-60);
                context.Organizations.Add(Organization.Create(OrganizationId, "Budgets", "budgets", at));
                context.Organizations.Add(Organization.Create(OtherOrganizationId, "Other", "other", at));
                context.Teams.Add(Team.Create(DefaultTeamId, OrganizationId, "Default", at));
                context.Teams.Add(Team.Create(TeamId, OrganizationId, "Search", at));
                context.Teams.Add(Team.Create(OtherTeamId, OtherOrganizationId, "Default", at));
                context.ApiKeys.Add(ApiKey.Create(KeyId, "search-key", OrganizationId, TeamId, null, "hash", ApiKeyRole.InferenceUser, null, null, at));
                await context.SaveChangesAsync();
            }

            var setup = new Setup(database, clock);
            await setup._prices.SetAsync(Model, 1000m, 0m, null, clock.Now.AddSeconds(-30), default);
            return setup;
        }

        public BudgetService NewService() => new(
            _database, _prices, Options.Create(new BudgetOptions { RefreshInterval = TimeSpan.FromSeconds(5) }), _clock, NullLogger<BudgetService>.Instance);

        public static AdmissionRequest Request(CallerIdentity caller, long inputTokens, string requestId) =>
            new(caller, Endpoint, Model, inputTokens, 0, TokenBudget.Search, requestId);

        public async Task<AdmissionPass> AdmitAsync(CallerIdentity caller, long inputTokens, string requestId) =>
            await Budgets.ReserveAsync(Request(caller, inputTokens, requestId), default);

        /// <summary>What a request's end does: its record is committed, then its admission settled at the recorded cost.</summary>
        public async Task RunAsync(CallerIdentity caller, AdmissionPass pass, int inputTokens, string requestId)
        {
            var cost = await RecordAsync(caller, inputTokens, requestId);
            pass.Settle(inputTokens, 0, cost);
        }

        public async Task<decimal> RecordAsync(CallerIdentity caller, int inputTokens, string requestId) =>
            await _ledger.RecordAsync(
                new InferenceUsage(caller, "budget-endpoint", "elasticsearch", TaskType.TextEmbedding, Model, inputTokens, 0, false, true, Surface.Inference, requestId),
                default);

        /// <summary>Spent, reserved and remaining of the organization's budget of that scope.</summary>
        public async Task<(decimal Spent, decimal Reserved, decimal Remaining)> FiguresAsync(BudgetScope scope)
        {
            var status = Assert.Single(await Budgets.ListAsync(OrganizationId, default), s => s.Budget.Scope == scope);
            return (status.Spent, status.Reserved, status.Remaining);
        }

        /// <summary>Lets the stale figures be read from the ledger again and waits for it.</summary>
        public async Task RefreshAsync()
        {
            await Budgets.ListAsync(OrganizationId, default);
            await Budgets.WhenIdleAsync();
        }

        public async Task<decimal> LedgerTotalAsync(DateTimeOffset? from = null)
        {
            var since = from ?? DateTimeOffset.MinValue;
            await using var context = _database.CreateDbContext();
            var costs = await context.UsageRecords.AsNoTracking().Where(u => u.OccurredAt >= since).Select(u => u.Cost).ToListAsync();
            return costs.Sum();
        }

        public async Task DumpAsync()
        {
            await using var context = _database.CreateDbContext();
            foreach (var r in await context.UsageRecords.AsNoTracking().ToListAsync())
            {
                Console.WriteLine($"DUMP {r.RequestId} {r.Cost} {r.OccurredAt:O} {r.TeamId} {r.Currency} {r.Outcome}");
            }
        }

        public async Task<Budget> StoredBudgetAsync(Guid id)
        {
            await using var context = _database.CreateDbContext();
            return await context.Budgets.AsNoTracking().SingleAsync(b => b.Id == id);
        }

        public async Task<List<WebConsole.Domain.Audit.AuditEntry>> AuditAsync()
        {
            await using var context = _database.CreateDbContext();
            return await context.AuditEntries.AsNoTracking().Where(a => a.Action == BudgetService.SoftLimitReachedAction).ToListAsync();
        }

        public async ValueTask DisposeAsync()
        {
            await Budgets.WhenIdleAsync();
            Budgets.Dispose();
            await _ledger.DisposeAsync();
            _prices.Dispose();
            await _database.DisposeAsync();
        }
    }
}
