using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Radzen;
using WebConsole.Domain;
using WebConsole.Domain.RateLimiting;
using WebConsole.Infrastructure.Identity;
using WebConsole.Web.Apis.Management;

namespace WebConsole.Web.Components.Pages;

/// <summary>
/// Rate limits: the installation's default policies and the overrides of the caller's organization, teams and keys, with
/// an editor and a chart of the request limits per selector. Everything goes through <see cref="RateLimitManagement"/>,
/// the service behind <c>/api/rate-limits</c>, so the page and the API apply the same rules and audit rows.
/// </summary>
public sealed partial class RateLimits
{
    private CallerIdentity? _caller;
    private bool _canEditOrganization;
    private bool _canEditGlobal;
    private string? _error;
    private List<RateLimitPolicyView> _policies = [];
    private List<ChartSeries> _series = [];

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [Inject]
    private RateLimitManagement Management { get; set; } = default!;

    [Inject]
    private DialogService Dialogs { get; set; } = default!;

    [Inject]
    private NotificationService Notifications { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        _caller = (await AuthenticationState).User.GetCaller();
        if (_caller is null)
        {
            _error = "Your session carries no organization; sign in again.";
            return;
        }

        _canEditGlobal = _caller.IsPlatformOperator;
        _canEditOrganization = _caller.IsOrganizationAdmin || _caller.IsPlatformOperator;
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        if (_caller is null)
        {
            return;
        }

        _policies = [.. await Management.ListAsync(_caller)];

        // One series per target (the defaults, the organization, each team or key with policies), a bar per selector.
        _series = [.. _policies
            .Where(p => p.RequestsPerMinute is not null)
            .GroupBy(p => (p.Scope, p.ScopeId))
            .OrderBy(g => g.Key.Scope)
            .Select(g => new ChartSeries(
                $"{ScopeName(g.Key.Scope)}: {g.First().TargetName}",
                [.. g.Select(p => new ChartBar(p.Selector.ToString(), p.RequestsPerMinute!.Value))]))];
    }

    private bool CanEdit(RateLimitPolicyView policy) => policy.Scope == RateLimitScope.Global ? _canEditGlobal : _canEditOrganization;

    private Task AddAsync() => OpenEditorAsync(null);

    private Task EditAsync(RateLimitPolicyView policy) => OpenEditorAsync(policy);

    private async Task OpenEditorAsync(RateLimitPolicyView? policy)
    {
        if (_caller is null)
        {
            return;
        }

        var saved = await Dialogs.OpenAsync<RateLimitDialog>(
            policy is null ? "New rate-limit policy" : "Change rate limits",
            new Dictionary<string, object?>
            {
                [nameof(RateLimitDialog.Caller)] = _caller,
                [nameof(RateLimitDialog.Existing)] = policy,
            },
            new DialogOptions { Width = "40rem", CloseDialogOnOverlayClick = false });
        if (saved is RateLimitPolicyView view)
        {
            Notifications.Notify(NotificationSeverity.Success, "Rate limits saved", $"{ScopeName(view.Scope)} {view.TargetName}: {view.Selector}");
            await LoadAsync();
        }
    }

    private async Task DeleteAsync(RateLimitPolicyView policy)
    {
        if (_caller is null)
        {
            return;
        }

        var confirmed = await Dialogs.Confirm(
            $"Delete the {ScopeName(policy.Scope).ToLowerInvariant()} policy of {policy.TargetName} for {policy.Selector}? Its requests then follow the next more general policy.",
            "Delete rate-limit policy",
            new ConfirmOptions { OkButtonText = "Delete policy", CancelButtonText = "Keep it" });
        if (confirmed != true)
        {
            return;
        }

        try
        {
            await Management.DeleteAsync(_caller, policy.Id);
            Notifications.Notify(NotificationSeverity.Success, "Policy deleted", policy.Selector.ToString());
        }
        catch (Exception ex) when (ex is ResourceNotFoundException or ResourceConflictException or ManagementAccessDeniedException or DomainValidationException)
        {
            _error = ex.Message;
        }

        await LoadAsync();
    }

    private static void RenderRow(RowRenderEventArgs<RateLimitPolicyView> row)
    {
        if (row.Data is { } policy)
        {
            row.Attributes["data-testid"] = "rate-limit-row";
            row.Attributes["data-policy-id"] = policy.Id.ToString();
            row.Attributes["data-scope"] = WebConsole.Infrastructure.RateLimiting.RateLimitScopes.ToWireName(policy.Scope);
            row.Attributes["data-selector"] = policy.Selector.ToString();
        }
    }

    internal static string ScopeName(RateLimitScope scope) => scope switch
    {
        RateLimitScope.Global => "Default",
        RateLimitScope.Organization => "Organization",
        RateLimitScope.Team => "Team",
        _ => "API key",
    };

    private static string Limit(long? value) => value is { } limit ? limit.ToString("N0", CultureInfo.InvariantCulture) : "unlimited";

    internal sealed record ChartSeries(string Title, List<ChartBar> Bars);

    internal sealed record ChartBar(string Selector, double RequestsPerMinute);
}
