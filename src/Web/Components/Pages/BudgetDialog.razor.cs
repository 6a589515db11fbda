using System.Globalization;
using Microsoft.AspNetCore.Components;
using Radzen;
using WebConsole.Domain;
using WebConsole.Domain.Billing;
using WebConsole.Infrastructure.Audit;
using WebConsole.Infrastructure.Billing;
using WebConsole.Infrastructure.Identity;

namespace WebConsole.Web.Components.Pages;

/// <summary>A team or API key a budget can be set for.</summary>
public sealed record BudgetTarget(string Id, string Name);

/// <summary>
/// The add/edit budget dialog. Closing returns true when a budget was saved, so the page reloads its figures; the change
/// applies at once (the service reloads its budgets) and is recorded in the audit trail.
/// </summary>
public sealed partial class BudgetDialog
{
    private readonly BudgetForm _form = new();
    private string? _error;
    private bool _busy;

    [Parameter, EditorRequired]
    public CallerIdentity Caller { get; set; } = default!;

    [Parameter, EditorRequired]
    public IReadOnlyList<BudgetTarget> Teams { get; set; } = [];

    [Parameter, EditorRequired]
    public IReadOnlyList<BudgetTarget> Keys { get; set; } = [];

    /// <summary>The budget to change; null to add one.</summary>
    [Parameter]
    public Budget? Existing { get; set; }

    [Inject]
    private DialogService Dialogs { get; set; } = default!;

    [Inject]
    private BudgetService Budgets { get; set; } = default!;

    [Inject]
    private IAuditLog Audit { get; set; } = default!;

    private bool IsEdit => Existing is not null;

    private string Currency => Existing?.Currency ?? Budgets.Currency;

    protected override void OnParametersSet()
    {
        if (Existing is { } budget)
        {
            _form.Scope = budget.Scope;
            _form.ScopeId = budget.ScopeId;
            _form.MonthlyLimit = budget.MonthlyLimit;
            _form.SoftLimit = budget.SoftLimit;
        }
    }

    private async Task SaveAsync(BudgetForm form)
    {
        _error = null;
        _busy = true;
        try
        {
            var (budget, created) = await Budgets.SetAsync(
                Caller.OrganizationId, form.Scope, form.ScopeId, form.MonthlyLimit ?? 0m, form.SoftLimit, null, CancellationToken.None);
            await Audit.RecordAsync(Caller, created ? "budget.created" : "budget.updated", "budget", budget.Id.ToString(), string.Create(
                CultureInfo.InvariantCulture,
                $"{(budget.Scope == BudgetScope.Team ? "team" : "api_key")} {budget.ScopeId}: {budget.MonthlyLimit} {budget.Currency} a month, soft limit {budget.SoftLimit?.ToString(CultureInfo.InvariantCulture) ?? "none"} (portal)"));
            Dialogs.Close(true);
        }
        catch (Exception ex) when (ex is DomainValidationException or BudgetScopeNotFoundException)
        {
            _error = ex.Message;
        }
        finally
        {
            _busy = false;
        }
    }

    internal sealed class BudgetForm
    {
        public BudgetScope Scope { get; set; } = BudgetScope.Team;

        public string? ScopeId { get; set; }

        public decimal? MonthlyLimit { get; set; }

        public decimal? SoftLimit { get; set; }
    }
}
