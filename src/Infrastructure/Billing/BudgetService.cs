using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WebConsole.Domain;
using WebConsole.Domain.Audit;
using WebConsole.Domain.Billing;
using WebConsole.Infrastructure.Admission;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Billing;

/// <summary>A budget with its current month's figures as this node knows them.</summary>
/// <param name="Budget">The budget (a detached copy).</param>
/// <param name="ScopeName">The team's or key's name (the id when it no longer exists).</param>
/// <param name="Month">The month (<c>yyyy-MM</c>, UTC) of the figures.</param>
/// <param name="Spent">Spent this month (settled requests).</param>
/// <param name="Reserved">Held by requests in progress (their estimated cost).</param>
public sealed record BudgetStatus(Budget Budget, string ScopeName, string Month, decimal Spent, decimal Reserved)
{
    /// <summary>What is left for new requests: the limit less spent and reserved, never below zero.</summary>
    public decimal Remaining => Math.Max(0m, Budget.MonthlyLimit - Spent - Reserved);

    /// <summary>Whether this month's spending reached the soft threshold.</summary>
    public bool SoftLimitReached => Budget.SoftLimit is { } soft && Spent >= soft;

    /// <summary>Whether this month's spending reached the hard limit (requests are refused).</summary>
    public bool Exhausted => Spent >= Budget.MonthlyLimit;
}

/// <summary>The team or API key a budget is set for does not exist in the caller's organization.</summary>
public sealed class BudgetScopeNotFoundException(string message) : Exception(message);

/// <summary>
/// Monthly budgets of teams and API keys. A request is admitted only if its estimated cost fits under every budget that
/// applies to it (its team's and its key's) together with what was spent this calendar month (UTC) and what requests in
/// progress hold: the check and the reservation happen under each budget's lock, so concurrent requests cannot overshoot.
/// Settling replaces the reservation by the real cost; a request that did no work gives it back. The month's spend is
/// read from the usage ledger on first use and again every <see cref="BudgetOptions.RefreshInterval"/> (which picks up
/// other nodes' spending), without losing or doubling what this node settled meanwhile. The first time spending crosses a
/// budget's soft threshold in a month, the budget is marked (once, across nodes) and an audit row written; from then on
/// answers carry a <c>Warning</c> header. Thread-safe; a singleton.
/// </summary>
public sealed partial class BudgetService : IDisposable
{
    /// <summary>The audit action of a soft threshold crossed.</summary>
    public const string SoftLimitReachedAction = "budget.soft_limit_reached";

    private readonly ISystemDbContextFactory _contexts;
    private readonly PriceBook _prices;
    private readonly TimeProvider _time;
    private readonly ILogger<BudgetService> _log;
    private readonly TimeSpan _refreshInterval;
    private readonly ConcurrentDictionary<BudgetKey, BudgetAccount> _accounts = new();
    private readonly ConcurrentDictionary<Task, byte> _background = new();
    private readonly SemaphoreSlim _load = new(1, 1);
    private volatile BudgetSnapshot? _snapshot;
    private long _accountOrder;

    /// <summary>Creates the service; nothing is read until the first request or listing.</summary>
    public BudgetService(ISystemDbContextFactory contexts, PriceBook prices, IOptions<BudgetOptions> options, TimeProvider time, ILogger<BudgetService> log)
    {
        ArgumentNullException.ThrowIfNull(options);
        _contexts = contexts;
        _prices = prices;
        _time = time;
        _log = log;
        _refreshInterval = options.Value.RefreshInterval;
    }

    /// <summary>The installation's currency, the one budgets are kept in.</summary>
    public string Currency => _prices.Currency;

    /// <summary>The month (<c>yyyy-MM</c>) of a UTC instant.</summary>
    public static string MonthOf(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    /// <summary>The first instant of the month of <paramref name="at"/> (UTC).</summary>
    public static DateTimeOffset MonthStart(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        return new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero);
    }

    /// <summary>
    /// Checks <paramref name="request"/> against the budgets of its team and key and reserves its estimated cost (the
    /// price of its input tokens and expected output tokens; nothing when the model has no price) on all of them, or
    /// throws a 402 <see cref="InferenceApiException"/> naming the budget, what was spent and when requests are admitted
    /// again. A 503 when the month's spend cannot be read (a budget is never assumed to be unspent).
    /// </summary>
    public async ValueTask<AdmissionPass> ReserveAsync(AdmissionRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        BudgetSnapshot snapshot;
        try
        {
            snapshot = await BudgetsAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Only before the budgets were ever read (afterwards the list in memory stays in use).
            throw new InferenceApiException(503, InferenceApiException.StatusExceptionType,
                "The budgets cannot be read, so requests cannot be checked against them; try again later", ex);
        }

        var caller = request.Caller;
        if (!snapshot.Organizations.Contains(caller.OrganizationId))
        {
            return AdmissionPass.None;
        }

        var applicable = new List<BudgetEntry>(2);
        var team = caller.TeamId ?? snapshot.DefaultTeams.GetValueOrDefault(caller.OrganizationId);
        if (team != Guid.Empty
            && snapshot.Find(new BudgetKey(caller.OrganizationId, BudgetScope.Team, TeamScopeId(team))) is { } teamBudget)
        {
            applicable.Add(teamBudget);
        }

        if (caller.ApiKeyId is { } key && snapshot.Find(new BudgetKey(caller.OrganizationId, BudgetScope.ApiKey, key)) is { } keyBudget)
        {
            applicable.Add(keyBudget);
        }

        if (applicable.Count == 0)
        {
            return AdmissionPass.None;
        }

        var now = _time.GetUtcNow();
        var month = MonthOf(now);
        var estimate = (await _prices.QuoteAsync(
            request.ModelId, request.Endpoint.TaskType, request.InputTokens, request.EstimatedOutputTokens, now, cancellationToken)).Cost;

        var accounts = new BudgetAccount[applicable.Count];
        for (var i = 0; i < applicable.Count; i++)
        {
            accounts[i] = Account(applicable[i]);
            await EnsureLoadedAsync(applicable[i], accounts[i], month, cancellationToken);
        }

        InferenceApiException? refusal = null;
        var warnings = new List<string>();
        var locked = accounts.OrderBy(a => a.Order).ToArray();
        Enter(locked);
        try
        {
            for (var i = 0; i < accounts.Length && refusal is null; i++)
            {
                accounts[i].Roll(month);
                if (!accounts[i].Fits(applicable[i].Budget.MonthlyLimit, estimate))
                {
                    refusal = Refusal(applicable[i], accounts[i], estimate, now);
                }
            }

            if (refusal is null)
            {
                for (var i = 0; i < accounts.Length; i++)
                {
                    accounts[i].Reserve(request.RequestId, estimate);
                    if (applicable[i].Budget.SoftLimit is { } soft && accounts[i].Spent >= soft)
                    {
                        warnings.Add(Warning(applicable[i], accounts[i].Spent));
                    }
                }
            }
        }
        finally
        {
            Exit(locked);
        }

        if (refusal is not null)
        {
            throw refusal;
        }

        IReadOnlyList<KeyValuePair<string, string>> headers = warnings.Count == 0
            ? []
            : [KeyValuePair.Create("Warning", string.Join(", ", warnings))];
        return new BudgetPass(this, request, accounts, headers);
    }

    /// <summary>
    /// The budgets of an organization with this month's figures (each read from the ledger if stale). The list itself is
    /// read from the database, so a budget set on another node shows at once.
    /// </summary>
    public async Task<IReadOnlyList<BudgetStatus>> ListAsync(Guid organizationId, CancellationToken cancellationToken)
    {
        await ReloadAsync(cancellationToken);
        var snapshot = await BudgetsAsync(cancellationToken);
        var now = _time.GetUtcNow();
        var month = MonthOf(now);
        var statuses = new List<BudgetStatus>();
        foreach (var entry in snapshot.Entries.Values.Where(e => e.Budget.OrganizationId == organizationId))
        {
            var account = Account(entry);
            await EnsureLoadedAsync(entry, account, month, cancellationToken);
            lock (account.Gate)
            {
                account.Roll(month);
                statuses.Add(new BudgetStatus(entry.Budget, entry.Name, month, account.Spent, account.Reserved));
            }
        }

        return [.. statuses.OrderBy(s => s.Budget.Scope).ThenBy(s => s.ScopeName, StringComparer.OrdinalIgnoreCase).ThenBy(s => s.Budget.Id)];
    }

    /// <summary>
    /// Sets the budget of a team or key of <paramref name="organizationId"/> (creates it or changes its limits); applies
    /// at once on this node. Answers the budget and whether it was created.
    /// </summary>
    /// <exception cref="DomainValidationException">A field is invalid or the currency is not the installation's.</exception>
    /// <exception cref="BudgetScopeNotFoundException">The team or key is not one of the organization's.</exception>
    public async Task<(Budget Budget, bool Created)> SetAsync(
        Guid organizationId, BudgetScope scope, string? scopeId, decimal monthlyLimit, decimal? softLimit, string? currency, CancellationToken cancellationToken)
    {
        var installation = Currency;
        var code = string.IsNullOrWhiteSpace(currency) ? installation : currency.Trim().ToUpperInvariant();
        if (!string.Equals(code, installation, StringComparison.Ordinal))
        {
            throw new DomainValidationException($"[currency] must be the installation's currency [{installation}], got [{currency}]");
        }

        if (string.IsNullOrWhiteSpace(scopeId))
        {
            throw new DomainValidationException("[scope_id] must not be empty");
        }

        var now = _time.GetUtcNow();
        Budget budget;
        bool created;
        await using (var context = _contexts.CreateDbContext())
        {
            var id = await ResolveScopeAsync(context, organizationId, scope, scopeId.Trim(), cancellationToken);
            var existing = await context.Budgets.SingleOrDefaultAsync(
                b => b.OrganizationId == organizationId && b.Scope == scope && b.ScopeId == id, cancellationToken);
            if (existing is null)
            {
                budget = Budget.Create(Guid.CreateVersion7(now), organizationId, scope, id, monthlyLimit, softLimit, code, now);
                context.Budgets.Add(budget);
                created = true;
            }
            else
            {
                existing.ChangeLimits(monthlyLimit, softLimit, now);
                budget = existing;
                created = false;
            }

            await context.SaveChangesAsync(cancellationToken);
        }

        await ReloadAsync(cancellationToken);
        return (budget, created);
    }

    /// <summary>Deletes a budget of <paramref name="organizationId"/>; answers it, or null when it has none with that id.</summary>
    public async Task<Budget?> DeleteAsync(Guid organizationId, Guid id, CancellationToken cancellationToken)
    {
        Budget? budget;
        await using (var context = _contexts.CreateDbContext())
        {
            budget = await context.Budgets.SingleOrDefaultAsync(b => b.Id == id && b.OrganizationId == organizationId, cancellationToken);
            if (budget is null)
            {
                return null;
            }

            context.Budgets.Remove(budget);
            await context.SaveChangesAsync(cancellationToken);
        }

        await ReloadAsync(cancellationToken);
        return budget;
    }

    /// <summary>Reads the budgets again now (after a change; other nodes see it within the refresh interval).</summary>
    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        await _load.WaitAsync(cancellationToken);
        try
        {
            _snapshot = await LoadBudgetsAsync(cancellationToken);
        }
        finally
        {
            _load.Release();
        }
    }

    /// <summary>Waits for the background work started so far (ledger reads, soft-threshold reports); for tests and shutdown.</summary>
    public async Task WhenIdleAsync()
    {
        while (!_background.IsEmpty)
        {
            await Task.WhenAll(_background.Keys).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await Task.Yield();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _load.Dispose();

    internal static string TeamScopeId(Guid team) => team.ToString("D");

    internal void Settle(AdmissionRequest request, BudgetAccount[] accounts, decimal cost)
    {
        var month = MonthOf(_time.GetUtcNow());
        var snapshot = _snapshot;
        foreach (var account in accounts)
        {
            BudgetEntry? crossed = null;
            decimal spent;
            lock (account.Gate)
            {
                account.Roll(month);
                account.Settle(request.RequestId, cost);
                spent = account.Spent;
                if (snapshot?.Find(account.Key) is { } entry && SoftCrossed(entry, account, month))
                {
                    crossed = entry;
                }
            }

            if (crossed is not null)
            {
                Track(ReportSoftLimitAsync(crossed, month, spent, request.RequestId));
            }
        }
    }

    internal static void Release(AdmissionRequest request, BudgetAccount[] accounts)
    {
        foreach (var account in accounts)
        {
            lock (account.Gate)
            {
                account.Release(request.RequestId);
            }
        }
    }

    // Marks the account warned (under its lock) the first time this month's spending is at or past the soft threshold.
    private static bool SoftCrossed(BudgetEntry entry, BudgetAccount account, string month)
    {
        if (entry.Budget.SoftLimit is not { } soft || account.Spent < soft
            || string.Equals(account.WarnedMonth, month, StringComparison.Ordinal)
            || string.Equals(entry.Budget.SoftWarnedMonth, month, StringComparison.Ordinal))
        {
            return false;
        }

        account.WarnedMonth = month;
        return true;
    }

    private BudgetAccount Account(BudgetEntry entry) =>
        _accounts.GetOrAdd(entry.Key, static (key, self) => new BudgetAccount(key, Interlocked.Increment(ref self._accountOrder)), this);

    // Reads the month's spend on first use (waiting for it) and starts a background read when the figures are stale.
    private async Task EnsureLoadedAsync(BudgetEntry entry, BudgetAccount account, string month, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        Task? first = null;
        lock (account.Gate)
        {
            account.Roll(month);
            if (account.LoadedAt is null)
            {
                first = account.Refreshing ??= StartRefresh(account);
            }
            else if (account.Refreshing is null && now - (account.AttemptedAt ?? account.LoadedAt.Value) >= _refreshInterval)
            {
                account.Refreshing = StartRefresh(account);
            }
        }

        if (first is null)
        {
            return;
        }

        try
        {
            await first.WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new InferenceApiException(503, InferenceApiException.StatusExceptionType,
                $"The monthly spend of {Describe(entry)} cannot be read, so its budget cannot be checked; try again later", ex);
        }
    }

    private Task StartRefresh(BudgetAccount account)
    {
        var task = Task.Run(() => RefreshAsync(account));
        Track(task);
        return task;
    }

    private async Task RefreshAsync(BudgetAccount account)
    {
        RefreshStart start;
        lock (account.Gate)
        {
            start = account.BeginRefresh(_time.GetUtcNow());
        }

        try
        {
            var stored = await StoredSpendAsync(account.Key, start, CancellationToken.None);
            lock (account.Gate)
            {
                account.CompleteRefresh(start, stored);
                account.Refreshing = null;
            }
        }
        catch (Exception ex)
        {
            lock (account.Gate)
            {
                account.AbandonRefresh();
                account.Refreshing = null;
            }

            LogRefreshFailed(_log, account.Key.Scope, account.Key.ScopeId, ex);
            throw;
        }

        // Spending of other nodes (or before a restart) may have crossed the soft threshold: reported once, as here.
        var snapshot = _snapshot;
        if (snapshot?.Find(account.Key) is { } entry)
        {
            decimal spent;
            bool crossed;
            lock (account.Gate)
            {
                crossed = SoftCrossed(entry, account, start.Month);
                spent = account.Spent;
            }

            if (crossed)
            {
                Track(ReportSoftLimitAsync(entry, start.Month, spent, requestId: null));
            }
        }
    }

    // The ledger's cost of the month up to the refresh's start, leaving out the requests still running here (their records
    // may hold a partial cost; their reservation covers them and their settlement adds the real cost). Records of requests
    // admitted after the start carry a later time, so they are not read here but counted when settled.
    private async Task<decimal> StoredSpendAsync(BudgetKey key, RefreshStart start, CancellationToken cancellationToken)
    {
        var from = MonthStart(start.At);
        var to = start.At;
        var currency = Currency;
        await using var context = _contexts.CreateDbContext();
        var records = context.UsageRecords.AsNoTracking()
            .Where(u => u.OrganizationId == key.OrganizationId && u.Currency == currency && u.OccurredAt >= from && u.OccurredAt <= to);
        if (key.Scope == BudgetScope.Team)
        {
            var team = Guid.Parse(key.ScopeId);
            records = records.Where(u => u.TeamId == team);
        }
        else
        {
            records = records.Where(u => u.ApiKeyId == key.ScopeId);
        }

        if (start.InFlight.Count > 0)
        {
            var running = start.InFlight;
            records = records.Where(u => !running.Contains(u.RequestId));
        }

        return await records.SumAsync(u => u.Cost, cancellationToken);
    }

    private async Task ReportSoftLimitAsync(BudgetEntry entry, string month, decimal spent, string? requestId)
    {
        try
        {
            await using var context = _contexts.CreateDbContext();
            var stored = await context.Budgets.AsNoTracking().SingleOrDefaultAsync(b => b.Id == entry.Budget.Id);
            if (stored is null || !stored.MarkSoftWarned(month))
            {
                return;
            }

            // Conditional, so that of several nodes crossing at once exactly one reports it.
            var strategy = context.Database.CreateExecutionStrategy();
            await strategy.ExecuteAsync(async () =>
            {
                await using var transaction = await context.Database.BeginTransactionAsync();
                var marked = await context.Budgets
                    .Where(b => b.Id == stored.Id && (b.SoftWarnedMonth == null || b.SoftWarnedMonth != month))
                    .ExecuteUpdateAsync(s => s.SetProperty(b => b.SoftWarnedMonth, month));
                if (marked == 1)
                {
                    var now = _time.GetUtcNow();
                    var details = $"{Describe(entry)} has spent {Amount(spent)} {stored.Currency} of its monthly budget {Amount(stored.MonthlyLimit)} "
                        + $"{stored.Currency} in {month}, past its soft limit of {Amount(stored.SoftLimit ?? 0m)} {stored.Currency}"
                        + (requestId is null ? string.Empty : $" (request {requestId})");
                    context.AuditEntries.Add(AuditEntry.Create(
                        Guid.CreateVersion7(now), stored.OrganizationId, null, null, "system", SoftLimitReachedAction, "budget",
                        stored.Id.ToString(), details, null, null, now));
                    await context.SaveChangesAsync();
                }

                await transaction.CommitAsync();
            });
        }
        catch (Exception ex)
        {
            // Not reported now; the next refresh of the account (or another node) tries again.
            LogSoftReportFailed(_log, entry.Budget.Id, ex);
            if (_accounts.TryGetValue(entry.Key, out var account))
            {
                lock (account.Gate)
                {
                    if (string.Equals(account.WarnedMonth, month, StringComparison.Ordinal))
                    {
                        account.WarnedMonth = null;
                    }
                }
            }
        }
    }

    private void Track(Task task)
    {
        _background.TryAdd(task, 0);

        // Failures are logged where they happen; reading Exception marks them observed.
        _ = task.ContinueWith(
            static (done, state) =>
            {
                _ = done.Exception;
                ((ConcurrentDictionary<Task, byte>)state!).TryRemove(done, out _);
            },
            _background, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async ValueTask<BudgetSnapshot> BudgetsAsync(CancellationToken cancellationToken)
    {
        var snapshot = _snapshot;
        if (snapshot is null)
        {
            await _load.WaitAsync(cancellationToken);
            try
            {
                return _snapshot ??= await LoadBudgetsAsync(cancellationToken);
            }
            finally
            {
                _load.Release();
            }
        }

        // Stale: one caller reads again while the others go on with the list they have; a failed read keeps it.
        if (_time.GetUtcNow() - snapshot.LoadedAt >= _refreshInterval && _load.Wait(0, CancellationToken.None))
        {
            try
            {
                _snapshot = await LoadBudgetsAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogBudgetsUnavailable(_log, ex);
                _snapshot = snapshot with { LoadedAt = _time.GetUtcNow() };
            }
            finally
            {
                _load.Release();
            }
        }

        return _snapshot ?? snapshot;
    }

    private async Task<BudgetSnapshot> LoadBudgetsAsync(CancellationToken cancellationToken)
    {
        var loadedAt = _time.GetUtcNow();
        await using var context = _contexts.CreateDbContext();
        var budgets = await context.Budgets.AsNoTracking().ToListAsync(cancellationToken);
        if (budgets.Count == 0)
        {
            return new BudgetSnapshot(new Dictionary<BudgetKey, BudgetEntry>(), new HashSet<Guid>(), new Dictionary<Guid, Guid>(), loadedAt);
        }

        var organizations = budgets.Select(b => b.OrganizationId).Distinct().ToList();
        var teams = await context.Teams.AsNoTracking().Where(t => organizations.Contains(t.OrganizationId))
            .Select(t => new { t.Id, t.OrganizationId, t.Name, t.CreatedAt }).ToListAsync(cancellationToken);
        var keyIds = budgets.Where(b => b.Scope == BudgetScope.ApiKey).Select(b => b.ScopeId).Distinct().ToList();
        var keys = keyIds.Count == 0
            ? []
            : await context.ApiKeys.AsNoTracking().Where(k => keyIds.Contains(k.Id)).Select(k => new { k.Id, k.OrganizationId, k.Name }).ToListAsync(cancellationToken);

        var entries = new Dictionary<BudgetKey, BudgetEntry>();
        foreach (var budget in budgets)
        {
            var name = budget.Scope == BudgetScope.Team
                ? teams.FirstOrDefault(t => t.OrganizationId == budget.OrganizationId && TeamScopeId(t.Id) == budget.ScopeId)?.Name
                : keys.FirstOrDefault(k => k.OrganizationId == budget.OrganizationId && k.Id == budget.ScopeId)?.Name;
            var key = new BudgetKey(budget.OrganizationId, budget.Scope, budget.ScopeId);
            entries[key] = new BudgetEntry(key, budget, name ?? budget.ScopeId);
        }

        // Requests of users without a team are billed to the organization's default team (as the usage ledger does).
        var defaults = teams.GroupBy(t => t.OrganizationId).ToDictionary(
            g => g.Key,
            g => g.OrderByDescending(t => t.Name == IdentitySeeder.DefaultTeamName).ThenBy(t => t.CreatedAt).First().Id);
        return new BudgetSnapshot(entries, organizations.ToHashSet(), defaults, loadedAt);
    }

    private static async Task<string> ResolveScopeAsync(
        WebConsoleDbContext context, Guid organizationId, BudgetScope scope, string scopeId, CancellationToken cancellationToken)
    {
        if (scope == BudgetScope.Team)
        {
            if (!Guid.TryParse(scopeId, out var team))
            {
                throw new DomainValidationException($"[scope_id] must be a team id (a UUID), got [{scopeId}]");
            }

            return await context.Teams.AnyAsync(t => t.Id == team && t.OrganizationId == organizationId, cancellationToken)
                ? TeamScopeId(team)
                : throw new BudgetScopeNotFoundException($"Team [{scopeId}] not found");
        }

        return await context.ApiKeys.AnyAsync(k => k.Id == scopeId && k.OrganizationId == organizationId, cancellationToken)
            ? scopeId
            : throw new BudgetScopeNotFoundException($"API key [{scopeId}] not found");
    }

    private static InferenceApiException Refusal(BudgetEntry entry, BudgetAccount account, decimal estimate, DateTimeOffset now)
    {
        var budget = entry.Budget;
        var currency = budget.Currency;
        var state = account.Spent + account.Reserved >= budget.MonthlyLimit ? "is exhausted" : "cannot cover this request";
        var held = account.Reserved > 0 ? $", {Amount(account.Reserved)} {currency} held by requests in progress" : string.Empty;
        var next = MonthStart(now).AddMonths(1);
        return new InferenceApiException(402, InferenceApiException.StatusExceptionType,
            $"Monthly budget of {Amount(budget.MonthlyLimit)} {currency} for {Describe(entry)} {state} "
            + $"(spent {Amount(account.Spent)} {currency}{held}, this request needs about {Amount(estimate)} {currency}); "
            + $"requests are refused until {next.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)} or until the budget is raised");
    }

    // RFC 7234 warn-code 299 ("miscellaneous persistent warning"); header values must be visible ASCII.
    private static string Warning(BudgetEntry entry, decimal spent)
    {
        var text = $"{Capitalized(Describe(entry))} has spent {Amount(spent)} of its monthly budget {Amount(entry.Budget.MonthlyLimit)} {entry.Budget.Currency}";
        var quoted = new StringBuilder("299 WebConsole \"");
        foreach (var c in text)
        {
            quoted.Append(c switch
            {
                '"' or '\\' => "\\" + c,
                < ' ' or > '~' => "?",
                _ => c.ToString(),
            });
        }

        return quoted.Append('"').ToString();
    }

    private static string Describe(BudgetEntry entry) =>
        entry.Budget.Scope == BudgetScope.Team ? $"team [{entry.Name}]" : $"API key [{entry.Name}]";

    private static string Capitalized(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    /// <summary>An amount as budgets' messages write it: invariant, without trailing zeros.</summary>
    public static string Amount(decimal value) => value.ToString("0.#########", CultureInfo.InvariantCulture);

    private static void Enter(BudgetAccount[] ordered)
    {
        foreach (var account in ordered)
        {
            account.Gate.Enter();
        }
    }

    private static void Exit(BudgetAccount[] ordered)
    {
        for (var i = ordered.Length - 1; i >= 0; i--)
        {
            ordered[i].Gate.Exit();
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Reading the monthly spend of {Scope} [{ScopeId}] failed; the figures in memory stay in use")]
    private static partial void LogRefreshFailed(ILogger logger, BudgetScope scope, string scopeId, Exception exception);

    [LoggerMessage(2, LogLevel.Warning, "Reporting the soft limit of budget {BudgetId} failed; it is tried again on the next refresh")]
    private static partial void LogSoftReportFailed(ILogger logger, Guid budgetId, Exception exception);

    [LoggerMessage(3, LogLevel.Warning, "Reading the budgets failed; the list in memory stays in use")]
    private static partial void LogBudgetsUnavailable(ILogger logger, Exception exception);

    private sealed record BudgetSnapshot(
        IReadOnlyDictionary<BudgetKey, BudgetEntry> Entries,
        IReadOnlySet<Guid> Organizations,
        IReadOnlyDictionary<Guid, Guid> DefaultTeams,
        DateTimeOffset LoadedAt)
    {
        public BudgetEntry? Find(BudgetKey key) => Entries.GetValueOrDefault(key);
    }
}

/// <summary>A budget as cached: its key, a detached copy and the team's or key's name.</summary>
internal sealed record BudgetEntry(BudgetKey Key, Budget Budget, string Name);

/// <summary>A request's reservations on the budgets that apply to it.</summary>
internal sealed class BudgetPass(BudgetService service, AdmissionRequest request, BudgetAccount[] accounts, IReadOnlyList<KeyValuePair<string, string>> headers)
    : AdmissionPass
{
    public override IReadOnlyList<KeyValuePair<string, string>> Headers => headers;

    public override void Settle(long inputTokens, long outputTokens, decimal cost) => service.Settle(request, accounts, cost);

    public override void Release() => BudgetService.Release(request, accounts);
}
