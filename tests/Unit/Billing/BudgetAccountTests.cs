using WebConsole.Domain.Billing;
using WebConsole.Infrastructure.Billing;

namespace WebConsole.Unit.Billing;

/// <summary>The arithmetic of one budget account, including a ledger read that races with settlements and the month.</summary>
public sealed class BudgetAccountTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    private static BudgetAccount NewAccount()
    {
        var account = new BudgetAccount(new BudgetKey(Guid.NewGuid(), BudgetScope.Team, Guid.NewGuid().ToString("D")), 1);
        account.Roll("2026-11");
        return account;
    }

    [Fact]
    public void Reserved_and_spent_together_must_leave_room_for_the_estimate()
    {
        var account = NewAccount();
        account.Reserve("a", 0.6m);
        Assert.True(account.Fits(1m, 0.4m));
        Assert.False(account.Fits(1m, 0.41m));

        // Settling at less than the estimate frees the difference; releasing frees it all; unknown ids change nothing.
        account.Settle("a", 0.5m);
        account.Release("a");
        account.Release("never-reserved");
        Assert.Equal((0.5m, 0m), (account.Spent, account.Reserved));
        Assert.True(account.Fits(1m, 0.5m));

        // A spent budget admits nothing, a free request included.
        account.Settle("b", 0.5m);
        Assert.False(account.Fits(1m, 0m));
    }

    [Fact]
    public void A_ledger_read_leaves_out_running_requests_and_adds_what_was_settled_while_it_ran()
    {
        var account = NewAccount();
        account.Reserve("running", 0.004m);
        account.Settle("earlier", 0.001m);
        var start = account.BeginRefresh(At);
        Assert.Equal(["running"], start.InFlight);

        // While the ledger is read: the running request ends, another one is admitted and ends.
        account.Settle("running", 0.003m);
        account.Reserve("later", 0.002m);
        account.Settle("later", 0.002m);

        // The read (up to its start, the running request left out) holds "earlier" and another node's 0.006.
        Assert.True(account.CompleteRefresh(start, 0.007m));
        Assert.Equal((0.012m, 0m, At), (account.Spent, account.Reserved, account.LoadedAt!.Value));
    }

    [Fact]
    public void A_ledger_read_that_straddles_midnight_is_discarded_and_reservations_survive_the_new_month()
    {
        var account = NewAccount();
        account.Settle("november", 0.5m);
        account.Reserve("over-midnight", 0.25m);
        var start = account.BeginRefresh(At);
        account.Roll("2026-12");
        Assert.False(account.CompleteRefresh(start, 0.5m));
        Assert.Equal((0m, 0.25m, null), (account.Spent, account.Reserved, account.LoadedAt));
    }
}
