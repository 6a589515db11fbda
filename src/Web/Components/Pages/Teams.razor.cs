using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;
using Radzen;
using WebConsole.Domain;
using WebConsole.Domain.Billing;
using WebConsole.Domain.RateLimiting;
using WebConsole.Domain.Tenancy;
using WebConsole.Infrastructure.Billing;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Web.Apis.Management;

namespace WebConsole.Web.Components.Pages;

/// <summary>
/// Teams &amp; keys: the caller's organization, its teams and members, and each team's API keys (create, list, invalidate).
/// Everything reads through the tenant-filtered context and <see cref="IApiKeyService"/>, so the page cannot reach
/// another organization's rows even by a wrong id.
/// </summary>
public sealed partial class Teams
{
    private CallerIdentity? _caller;
    private string? _organizationName;
    private string? _loadError;
    private List<TeamRow> _teams = [];
    private IList<TeamRow> _selectedTeams = [];
    private List<MemberRow> _members = [];
    private List<ApiKeyRow> _keys = [];
    private Dictionary<Guid, TeamRole> _myTeamRoles = [];
    private bool _canManage;

    internal enum ApiKeyState
    {
        Active,
        Expired,
        Invalidated,
    }

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [Inject]
    private IDbContextFactory<WebConsoleDbContext> Db { get; set; } = default!;

    [Inject]
    private IApiKeyService ApiKeys { get; set; } = default!;

    [Inject]
    private RateLimitManagement RateLimits { get; set; } = default!;

    [Inject]
    private BudgetService BudgetService { get; set; } = default!;

    [Inject]
    private DialogService Dialogs { get; set; } = default!;

    [Inject]
    private NotificationService Notifications { get; set; } = default!;

    [Inject]
    private TimeProvider Clock { get; set; } = default!;

    private TeamRow? SelectedTeam => _selectedTeams.FirstOrDefault();

    protected override async Task OnInitializedAsync()
    {
        _caller = (await AuthenticationState).User.GetCaller();
        if (_caller is null)
        {
            _loadError = "Your session carries no organization; sign in again.";
            return;
        }

        await using var db = await Db.CreateDbContextAsync();
        _organizationName = await db.Organizations.Select(o => o.Name).SingleOrDefaultAsync();
        _teams = await db.Teams
            .OrderBy(t => t.Name)
            .Select(t => new TeamRow(t.Id, t.Name, db.TeamMemberships.Count(m => m.TeamId == t.Id)))
            .ToListAsync();
        if (_caller.UserId is { } userId)
        {
            _myTeamRoles = await db.TeamMemberships.Where(m => m.UserId == userId).ToDictionaryAsync(m => m.TeamId, m => m.Role);
        }

        var initial = _teams.FirstOrDefault(t => t.Id == _caller.TeamId) ?? _teams.FirstOrDefault();
        if (initial is not null)
        {
            await SelectTeamAsync(initial);
        }
    }

    private async Task SelectTeamAsync(TeamRow team)
    {
        _selectedTeams = [team];
        _canManage = _caller is { } caller
            && (caller.IsOrganizationAdmin || (_myTeamRoles.TryGetValue(team.Id, out var role) && role == TeamRole.TeamAdmin));
        await using var db = await Db.CreateDbContextAsync();
        _members = await (
            from membership in db.TeamMemberships
            join user in db.Users on membership.UserId equals user.Id
            where membership.TeamId == team.Id
            orderby user.DisplayName
            select new MemberRow(user.DisplayName, user.Email, membership.Role == TeamRole.TeamAdmin ? "team admin" : "member"))
            .ToListAsync();
        await LoadKeysAsync();
    }

    private async Task LoadKeysAsync()
    {
        if (_caller is null || SelectedTeam is not { } team)
        {
            _keys = [];
            return;
        }

        var now = Clock.GetUtcNow();

        // Per-key limits and budgets come from the same services the Rate limits and Budgets pages edit.
        var limits = (await RateLimits.ListAsync(_caller))
            .Where(p => p.Scope == RateLimitScope.ApiKey && p.ScopeId is not null)
            .GroupBy(p => p.ScopeId!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var budgets = (await BudgetService.ListAsync(_caller.OrganizationId, CancellationToken.None))
            .Where(b => b.Budget.Scope == BudgetScope.ApiKey)
            .ToDictionary(b => b.Budget.ScopeId, b => BudgetText(b), StringComparer.Ordinal);
        _keys = (await ApiKeys.ListAsync(_caller))
            .Where(k => k.TeamId == team.Id)
            .OrderByDescending(k => k.CreatedAt)
            .Select(k => new ApiKeyRow(
                k.Id,
                k.Name,
                RoleNames.ToName(k.Role),
                k.CreatedAt,
                k.ExpiresAt,
                k.InvalidatedAt is not null ? ApiKeyState.Invalidated : k.IsActive(now) ? ApiKeyState.Active : ApiKeyState.Expired,
                k.AllowedEndpoints.Count == 0 ? "all endpoints" : string.Join(", ", k.AllowedEndpoints),
                limits.GetValueOrDefault(k.Id),
                budgets.GetValueOrDefault(k.Id)))
            .ToList();
    }

    private async Task CreateKeyAsync()
    {
        if (_caller is null || SelectedTeam is not { } team)
        {
            return;
        }

        var created = await Dialogs.OpenAsync<CreateApiKeyDialog>(
            $"New API key for {team.Name}",
            new Dictionary<string, object?>
            {
                [nameof(CreateApiKeyDialog.Caller)] = _caller,
                [nameof(CreateApiKeyDialog.TeamId)] = team.Id,
            },
            new DialogOptions { Width = "40rem", CloseDialogOnOverlayClick = false, ShowClose = false });
        if (created is true)
        {
            await LoadKeysAsync();
        }
    }

    private async Task InvalidateAsync(ApiKeyRow key)
    {
        if (_caller is null)
        {
            return;
        }

        var confirmed = await Dialogs.Confirm(
            $"Invalidate the key \"{key.Name}\" ({key.Id})? Every client that uses it is refused from now on; this cannot be undone.",
            "Invalidate API key",
            new ConfirmOptions { OkButtonText = "Invalidate key", CancelButtonText = "Keep it" });
        if (confirmed != true)
        {
            return;
        }

        try
        {
            await ApiKeys.InvalidateAsync(_caller, [key.Id]);
            Notifications.Notify(NotificationSeverity.Success, "API key invalidated", key.Id);
        }
        catch (Exception ex) when (ex is ApiKeyAccessDeniedException or DomainValidationException)
        {
            Notifications.Notify(NotificationSeverity.Error, "The key was not invalidated", ex.Message);
        }

        await LoadKeysAsync();
    }

    private static void RenderTeamRow(RowRenderEventArgs<TeamRow> row)
    {
        if (row.Data is { } team)
        {
            row.Attributes["data-testid"] = $"team-{team.Name}";
        }
    }

    private static void RenderKeyRow(RowRenderEventArgs<ApiKeyRow> row)
    {
        if (row.Data is { } key)
        {
            row.Attributes["data-testid"] = "key-row";
            row.Attributes["data-key-id"] = key.Id;
            row.Attributes["data-state"] = key.State.ToString().ToLowerInvariant();
        }
    }

    private static string BudgetText(BudgetStatus status) => string.Create(CultureInfo.InvariantCulture,
        $"{BudgetService.Amount(status.Spent)} of {BudgetService.Amount(status.Budget.MonthlyLimit)} {status.Budget.Currency}");

    private static string LimitsText(ApiKeyRow key) => key.RateLimitCount switch
    {
        0 => "team defaults",
        1 => "1 override",
        var n => string.Create(CultureInfo.InvariantCulture, $"{n} overrides"),
    };

    private static string Format(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    internal sealed record TeamRow(Guid Id, string Name, int MemberCount);

    internal sealed record MemberRow(string DisplayName, string Email, string Role);

    internal sealed record ApiKeyRow(
        string Id, string Name, string Role, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, ApiKeyState State, string AllowedEndpoints,
        int RateLimitCount, string? Budget);
}
