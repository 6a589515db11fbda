using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Radzen;
using WebConsole.Domain;
using WebConsole.Domain.Billing;
using WebConsole.Infrastructure.Billing;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Infrastructure.Usage;

namespace WebConsole.Web.Components.Pages;

/// <summary>
/// Usage and billing: tokens and cost over time (one bucket per hour or day, empty ones included) and by model, endpoint,
/// team, key or task type, with this month's budgets and a CSV export. The figures come from the same
/// <see cref="UsageQueryService"/> as <c>/api/usage</c> and the budgets from the <see cref="BudgetService"/> that admits
/// requests; the page re-reads them every few seconds while it is open, so new requests show without a reload.
/// </summary>
public sealed partial class Usage : IDisposable
{
    private static readonly IReadOnlyList<DimensionOption> DimensionOptions =
    [
        new("model", "Model", "model", UsageGrouping.Model),
        new("endpoint", "Endpoint", "endpoint", UsageGrouping.Endpoint),
        new("team", "Team", "team", UsageGrouping.Team),
        new("key", "API key", "API key", UsageGrouping.Key),
        new("task_type", "Task type", "task type", UsageGrouping.TaskType),
    ];

    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationToken _stopping;
    private readonly SemaphoreSlim _loading = new(1, 1);
    private CallerIdentity? _caller;
    private string? _error;
    private string _currency = string.Empty;
    private UsageRange _range = UsageRange.Last24Hours;
    private string _dimension = "model";
    private DateTimeOffset _from;
    private UsageTotals _totals = new(0, 0, 0, 0m);
    private IReadOnlyList<UsageBucket> _buckets = [];
    private IReadOnlyList<UsageBreakdownRow> _breakdown = [];
    private List<Budgets.BudgetRow> _budgets = [];
    private Dictionary<string, string> _teamNames = new(StringComparer.Ordinal);
    private Dictionary<string, string> _keyNames = new(StringComparer.Ordinal);
    private DateTimeOffset? _updatedAt;
    private int _refreshCount;

    public Usage() => _stopping = _stop.Token;

    /// <summary>How often the open page re-reads the ledger.</summary>
    internal static TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [Inject]
    private IDbContextFactory<WebConsoleDbContext> Db { get; set; } = default!;

    [Inject]
    private IOptions<BillingOptions> Billing { get; set; } = default!;

    [Inject]
    private BudgetService BudgetService { get; set; } = default!;

    [Inject]
    private TimeProvider Clock { get; set; } = default!;

    private static IReadOnlyList<DimensionOption> Dimensions => DimensionOptions;

    private DimensionOption Dimension => DimensionOptions.First(d => d.Id == _dimension);

    private string DimensionLabel => Dimension.Word;

    private string DimensionTitle => Dimension.Label;

    private string BucketWord => _range.Bucket == UsageGrouping.Hour ? "hour" : "day";

    // The export covers the range from its first bucket to the moment of the click (no "to": the server's now).
    private string ExportHref => "api/usage/records.csv?from=" + Uri.EscapeDataString(_from.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));

    protected override async Task OnInitializedAsync()
    {
        _caller = (await AuthenticationState).User.GetCaller();
        _currency = BudgetService.Currency;
        if (_caller is null)
        {
            _error = "Your session carries no organization; sign in again.";
            return;
        }

        await LoadAsync();
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender && _caller is not null)
        {
            _ = RefreshLoopAsync(_stopping);
        }
    }

    private async Task RefreshLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(RefreshInterval, Clock);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                await LoadAsync();
                await InvokeAsync(StateHasChanged);
            }
        }
        catch (OperationCanceledException)
        {
            // The page was left.
        }
        catch (ObjectDisposedException)
        {
            // The circuit went away between two ticks.
        }
    }

    private async Task RefreshAsync() => await LoadAsync();

    private async Task ChangeRangeAsync(string id)
    {
        _range = UsageRange.All.FirstOrDefault(r => r.Id == id) ?? UsageRange.Last24Hours;
        await LoadAsync();
    }

    private async Task ChangeDimensionAsync(string id)
    {
        _dimension = DimensionOptions.Any(d => d.Id == id) ? id : "model";
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        if (_caller is null || _stopping.IsCancellationRequested)
        {
            return;
        }

        try
        {
            await _loading.WaitAsync(_stopping);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        try
        {
            var (from, to) = _range.Window(Clock.GetUtcNow());
            var query = new UsageQuery(From: from, To: to);
            await using var db = await Db.CreateDbContextAsync(_stopping);
            var usage = new UsageQueryService(db, Billing, Clock);
            var overTime = await usage.SummarizeAsync(_caller, query, _range.Bucket, _stopping);
            var byDimension = await usage.SummarizeAsync(_caller, query, Dimension.Grouping, _stopping);

            if (Dimension.Grouping is UsageGrouping.Team or UsageGrouping.Key)
            {
                await LoadNamesAsync(db);
            }

            _from = from;
            _currency = overTime.Currency;
            _totals = overTime.Totals;
            _buckets = UsageChartData.TimeSeries(overTime.Groups, from, to, _range.Bucket);
            _breakdown = UsageChartData.Breakdown(byDimension.Groups, NameOf, Dimension.Grouping == UsageGrouping.Key ? "(signed-in users)" : "(none)");
            _budgets = [.. (await BudgetService.ListAsync(_caller.OrganizationId, _stopping)).Where(Covers).Select(Budgets.BudgetRow.From)];
            _updatedAt = Clock.GetUtcNow();
            _refreshCount++;
            _error = null;
        }
        catch (DomainValidationException ex)
        {
            _error = ex.Message;
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // The page was left while loading.
        }
        finally
        {
            _loading.Release();
        }
    }

    private async Task LoadNamesAsync(WebConsoleDbContext db)
    {
        if (Dimension.Grouping == UsageGrouping.Team)
        {
            var teams = await db.Teams.Select(t => new { t.Id, t.Name }).ToListAsync(_stopping);
            _teamNames = teams.ToDictionary(t => t.Id.ToString(), t => t.Name, StringComparer.Ordinal);
        }
        else
        {
            var keys = await db.ApiKeys.Select(k => new { k.Id, k.Name }).ToListAsync(_stopping);
            _keyNames = keys.ToDictionary(k => k.Id, k => $"{k.Name} ({k.Id})", StringComparer.Ordinal);
        }
    }

    private string NameOf(string key) => Dimension.Grouping switch
    {
        UsageGrouping.Team => _teamNames.GetValueOrDefault(key, key),
        UsageGrouping.Key => _keyNames.GetValueOrDefault(key, key),
        _ => key,
    };

    // Organization admins see every budget of the organization; others see their own team's and key's.
    private bool Covers(BudgetStatus status) => _caller is { } caller && (caller.IsOrganizationAdmin || caller.IsPlatformOperator
        || (status.Budget.Scope == BudgetScope.Team && caller.TeamId is { } team && status.Budget.ScopeId == team.ToString())
        || (status.Budget.Scope == BudgetScope.ApiKey && caller.ApiKeyId is { } key && status.Budget.ScopeId == key));

    private static ProgressBarStyle BudgetStyle(Budgets.BudgetRow row) =>
        row.Exhausted ? ProgressBarStyle.Danger : row.SoftLimitReached ? ProgressBarStyle.Warning : ProgressBarStyle.Success;

    private static void RenderBreakdownRow(RowRenderEventArgs<UsageBreakdownRow> row)
    {
        if (row.Data is { } data)
        {
            row.Attributes["data-testid"] = "usage-group";
            row.Attributes["data-key"] = data.Key ?? string.Empty;
            row.Attributes["data-tokens"] = data.Tokens.ToString(CultureInfo.InvariantCulture);
        }
    }

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private string Money(decimal value) => string.Create(CultureInfo.InvariantCulture, $"{value:0.######} {_currency}");

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    internal sealed record DimensionOption(string Id, string Label, string Word, UsageGrouping Grouping);
}
