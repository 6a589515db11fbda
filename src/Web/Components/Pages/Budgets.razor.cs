using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;
using Radzen;
using WebConsole.Domain.Billing;
using WebConsole.Infrastructure.Audit;
using WebConsole.Infrastructure.Billing;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Web.Components.Pages;

/// <summary>
/// Budgets: the organization's monthly budgets with this month's spend (progress bars, a chart of spend against limit),
/// alerts for budgets past their warning threshold or exhausted, and adding, changing and deleting budgets. Teams and keys
/// are read through the tenant-filtered context; the figures come from the same <see cref="BudgetService"/> that admits
/// requests, so the page shows what admission decides on.
/// </summary>
public sealed partial class Budgets
{
    private CallerIdentity? _caller;
    private string? _loadError;
    private List<BudgetRow> _rows = [];
    private List<BudgetTarget> _teams = [];
    private List<BudgetTarget> _keys = [];
    private string _currency = string.Empty;
    private string _month = string.Empty;
    private string _nextMonth = string.Empty;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [Inject]
    private IDbContextFactory<WebConsoleDbContext> Db { get; set; } = default!;

    [Inject]
    private BudgetService BudgetService { get; set; } = default!;

    [Inject]
    private IAuditLog Audit { get; set; } = default!;

    [Inject]
    private DialogService Dialogs { get; set; } = default!;

    [Inject]
    private NotificationService Notifications { get; set; } = default!;

    [Inject]
    private TimeProvider Clock { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        _caller = (await AuthenticationState).User.GetCaller();
        if (_caller is null)
        {
            _loadError = "Your session carries no organization; sign in again.";
            return;
        }

        _currency = BudgetService.Currency;
        await using (var db = await Db.CreateDbContextAsync())
        {
            _teams = await db.Teams.OrderBy(t => t.Name).Select(t => new BudgetTarget(t.Id.ToString(), t.Name)).ToListAsync();
            var keys = await db.ApiKeys.Where(k => k.InvalidatedAt == null).OrderBy(k => k.Name).Select(k => new { k.Id, k.Name }).ToListAsync();
            _keys = [.. keys.Select(k => new BudgetTarget(k.Id, $"{k.Name} ({k.Id})"))];
        }

        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        if (_caller is null)
        {
            return;
        }

        var now = Clock.GetUtcNow();
        _month = BudgetService.MonthOf(now);
        _nextMonth = BudgetService.MonthStart(now).AddMonths(1).UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        try
        {
            _rows = [.. (await BudgetService.ListAsync(_caller.OrganizationId, CancellationToken.None)).Select(BudgetRow.From)];
            _loadError = null;
        }
        catch (Exception ex) when (ex is DbUpdateException or InvalidOperationException or WebConsole.Infrastructure.Endpoints.InferenceApiException)
        {
            _loadError = $"The budgets could not be read: {ex.Message}";
        }
    }

    private Task AddAsync() => OpenDialogAsync("Add budget", null);

    private Task EditAsync(BudgetRow row) => OpenDialogAsync($"Budget of {row.Label}", row.Budget);

    private async Task OpenDialogAsync(string title, Budget? existing)
    {
        if (_caller is null)
        {
            return;
        }

        var saved = await Dialogs.OpenAsync<BudgetDialog>(
            title,
            new Dictionary<string, object?>
            {
                [nameof(BudgetDialog.Caller)] = _caller,
                [nameof(BudgetDialog.Teams)] = _teams,
                [nameof(BudgetDialog.Keys)] = _keys,
                [nameof(BudgetDialog.Existing)] = existing,
            },
            new DialogOptions { Width = "36rem", CloseDialogOnOverlayClick = false, ShowClose = false });
        if (saved is true)
        {
            Notifications.Notify(NotificationSeverity.Success, existing is null ? "Budget added" : "Budget changed", "It applies to new requests at once.");
            await LoadAsync();
        }
    }

    private async Task DeleteAsync(BudgetRow row)
    {
        if (_caller is null)
        {
            return;
        }

        var confirmed = await Dialogs.Confirm(
            $"Delete the budget of {row.Label}? Its requests are no longer capped.",
            "Delete budget",
            new ConfirmOptions { OkButtonText = "Delete budget", CancelButtonText = "Keep it" });
        if (confirmed != true)
        {
            return;
        }

        if (await BudgetService.DeleteAsync(_caller.OrganizationId, row.Id, CancellationToken.None) is { } deleted)
        {
            await Audit.RecordAsync(_caller, "budget.deleted", "budget", deleted.Id.ToString(),
                $"{(deleted.Scope == BudgetScope.Team ? "team" : "api_key")} {deleted.ScopeId} (portal)");
            Notifications.Notify(NotificationSeverity.Success, "Budget deleted", row.Label);
        }

        await LoadAsync();
    }

    private string Money(decimal amount) => $"{BudgetService.Amount(amount)} {_currency}";

    private static ProgressBarStyle Style(BudgetRow row) =>
        row.Exhausted ? ProgressBarStyle.Danger : row.SoftLimitReached ? ProgressBarStyle.Warning : ProgressBarStyle.Success;

    private static void RenderRow(RowRenderEventArgs<BudgetRow> args)
    {
        if (args.Data is { } row)
        {
            args.Attributes["data-testid"] = "budget-row";
            args.Attributes["data-budget-id"] = row.Id.ToString();
            args.Attributes["data-scope"] = row.Scope == BudgetScope.Team ? "team" : "api_key";
            args.Attributes["data-name"] = row.Name;
        }
    }

    internal sealed record BudgetRow(
        Budget Budget, string Name, decimal Spent, decimal Reserved, decimal Remaining, bool SoftLimitReached, bool Exhausted)
    {
        public Guid Id => Budget.Id;

        public BudgetScope Scope => Budget.Scope;

        public string ScopeText => Scope == BudgetScope.Team ? "Team" : "API key";

        public string Label => Scope == BudgetScope.Team ? $"team {Name}" : $"key {Name}";

        public decimal Limit => Budget.MonthlyLimit;

        public decimal? SoftLimit => Budget.SoftLimit;

        public double Percent => Limit <= 0 ? 0d : (double)(Spent / Limit * 100m);

        public double SpentValue => (double)Spent;

        public double LimitValue => (double)Limit;

        public static BudgetRow From(BudgetStatus status) =>
            new(status.Budget, status.ScopeName, status.Spent, status.Reserved, status.Remaining, status.SoftLimitReached, status.Exhausted);
    }
}
