using WebConsole.Domain.Billing;

namespace WebConsole.Infrastructure.Billing;

/// <summary>Whose spending an account tracks: a team (its id as text) or an API key of an organization.</summary>
internal readonly record struct BudgetKey(Guid OrganizationId, BudgetScope Scope, string ScopeId);

/// <summary>
/// The current month's spending of one team or key as this node knows it: <see cref="Spent"/> (the usage ledger's sum,
/// read again now and then, plus what this node settled since) and <see cref="Reserved"/> (the estimated cost of requests
/// admitted and still running). Every member must be used holding <see cref="Gate"/>; several accounts are locked in
/// <see cref="Order"/> so that a request checked against a team and a key budget reserves on both or on neither.
/// </summary>
internal sealed class BudgetAccount(BudgetKey key, long order)
{
    private readonly Dictionary<string, decimal> _reservations = new(StringComparer.Ordinal);

    // Costs settled while a refresh reads the ledger: they are added to what it read, so no settled cost is lost or doubled.
    private Dictionary<string, decimal>? _settledDuringRefresh;

    public BudgetKey Key { get; } = key;

    /// <summary>Lock order among accounts.</summary>
    public long Order { get; } = order;

    public Lock Gate { get; } = new();

    /// <summary>The month (<c>yyyy-MM</c>, UTC) the figures belong to.</summary>
    public string Month { get; private set; } = string.Empty;

    /// <summary>Settled spending of <see cref="Month"/>.</summary>
    public decimal Spent { get; private set; }

    /// <summary>Estimated cost of the requests admitted and not yet settled or released.</summary>
    public decimal Reserved { get; private set; }

    /// <summary>When the ledger was last read for <see cref="Month"/>; null until it was.</summary>
    public DateTimeOffset? LoadedAt { get; private set; }

    /// <summary>When the ledger was last asked (successfully or not), so a failing database is not asked on every request.</summary>
    public DateTimeOffset? AttemptedAt { get; private set; }

    /// <summary>The refresh under way, if any.</summary>
    public Task? Refreshing { get; set; }

    /// <summary>The month whose soft threshold this node has reported (or found reported).</summary>
    public string? WarnedMonth { get; set; }

    /// <summary>Starts <paramref name="month"/> afresh when the calendar moved on; running requests keep their reservations.</summary>
    public void Roll(string month)
    {
        if (!string.Equals(Month, month, StringComparison.Ordinal))
        {
            Month = month;
            Spent = 0m;
            LoadedAt = null;
            AttemptedAt = null;
            _settledDuringRefresh = null;
        }
    }

    /// <summary>
    /// Whether a request estimated at <paramref name="amount"/> fits under <paramref name="limit"/> with everything settled
    /// and reserved; a spent budget admits nothing, not even a free request.
    /// </summary>
    public bool Fits(decimal limit, decimal amount) => Spent < limit && Spent + Reserved + amount <= limit;

    public void Reserve(string requestId, decimal amount)
    {
        Release(requestId);
        _reservations[requestId] = amount;
        Reserved += amount;
    }

    /// <summary>Replaces the request's reservation by its real cost.</summary>
    public void Settle(string requestId, decimal cost)
    {
        Release(requestId);
        Spent += cost;
        if (_settledDuringRefresh is not null)
        {
            _settledDuringRefresh[requestId] = _settledDuringRefresh.GetValueOrDefault(requestId) + cost;
        }
    }

    /// <summary>Gives the request's reservation back (no-op when it holds none).</summary>
    public void Release(string requestId)
    {
        if (_reservations.Remove(requestId, out var amount))
        {
            Reserved -= amount;
        }
    }

    /// <summary>
    /// Starts reading the ledger at <paramref name="at"/>: answers the requests running now, whose records the read must
    /// leave out (their reservations cover them, and their settlement adds their real cost).
    /// </summary>
    public RefreshStart BeginRefresh(DateTimeOffset at)
    {
        AttemptedAt = at;
        _settledDuringRefresh = new Dictionary<string, decimal>(StringComparer.Ordinal);
        return new RefreshStart(Month, at, [.. _reservations.Keys]);
    }

    /// <summary>
    /// Takes what the ledger holds for the month up to the refresh's start (running requests left out) and adds what was
    /// settled here since; answers false when the month rolled over meanwhile (the read is then of no use).
    /// </summary>
    public bool CompleteRefresh(RefreshStart start, decimal stored)
    {
        if (!string.Equals(Month, start.Month, StringComparison.Ordinal) || _settledDuringRefresh is not { } settled)
        {
            return false;
        }

        Spent = stored + settled.Values.Sum();
        LoadedAt = start.At;
        _settledDuringRefresh = null;
        return true;
    }

    public void AbandonRefresh() => _settledDuringRefresh = null;
}

/// <summary>What a refresh of an account started with.</summary>
/// <param name="Month">The month read.</param>
/// <param name="At">The instant the read covers up to (records of requests settled before it are committed).</param>
/// <param name="InFlight">Request ids admitted and running at <paramref name="At"/>.</param>
internal sealed record RefreshStart(string Month, DateTimeOffset At, IReadOnlyList<string> InFlight);
