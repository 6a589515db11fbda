using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.JSInterop;
using Radzen;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Web.Components.Endpoints;

namespace WebConsole.Web.Components.Pages;

/// <summary>
/// The inference endpoints page, after Kibana's: the organization's endpoints with badges, search, filters, sorting,
/// paging and grouping, a stats bar, and add (a side flyout built from <c>_services</c>), copy ID and delete (dry run
/// first). Deployment and download state refresh every second from memory; the list itself is re-read every few seconds,
/// so endpoints created elsewhere appear without a reload.
/// </summary>
public sealed partial class Endpoints : IDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    private const int ReloadEveryTicks = 5;

    private readonly CancellationTokenSource _closing = new();
    private readonly EndpointListQuery _query = new();
    private EndpointsPortal _portal = default!;
    private CallerIdentity? _caller;
    private bool _canManage;
    private bool _loaded;
    private string? _error;
    private IReadOnlyList<EndpointRow> _rows = [];
    private EndpointPage _page = new([], 0, 0, 1);
    private EndpointStats _stats = new(0, 0, 0, 0);
    private IReadOnlyList<string> _serviceOptions = [];
    private IReadOnlyList<string> _taskTypeOptions = [];

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [Inject]
    private IServiceProvider Services { get; set; } = default!;

    [Inject]
    private DialogService Dialogs { get; set; } = default!;

    [Inject]
    private NotificationService Notifications { get; set; } = default!;

    [Inject]
    private IJSRuntime Js { get; set; } = default!;

    [Inject]
    private TimeProvider Clock { get; set; } = default!;

    [Inject]
    private ILogger<Endpoints> Log { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        _caller = (await AuthenticationState).User.GetCaller();
        _canManage = EndpointsPortal.CanManage(_caller);
        _portal = ActivatorUtilities.CreateInstance<EndpointsPortal>(Services);
        if (!RendererInfo.IsInteractive || _caller is null)
        {
            return;
        }

        await LoadAsync();
        _loaded = true;
        _ = RefreshLoopAsync(_closing.Token);
    }

    public void Dispose()
    {
        _closing.Cancel();
        _closing.Dispose();
    }

    private async Task LoadAsync()
    {
        try
        {
            _rows = await _portal.ListAsync(_caller!, _closing.Token);
            _error = null;
        }
        catch (Exception ex) when (ex is InferenceApiException or Domain.DomainValidationException)
        {
            _error = $"The endpoints could not be listed: {ex.Message}";
        }

        Recompute();
    }

    // Live state every tick (memory only); the list from the database every few ticks.
    private async Task RefreshLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Tick, Clock);
        var ticks = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await InvokeAsync(async () =>
                {
                    if (++ticks % ReloadEveryTicks == 0)
                    {
                        await LoadAsync();
                    }
                    else
                    {
                        _rows = _portal.Refresh(_caller!, _rows);
                        Recompute();
                    }

                    StateHasChanged();
                });
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // The page was left.
        }
        catch (Exception ex)
        {
            Log.LogWarning(ex, "Refreshing the endpoints page failed; it stops refreshing");
        }
    }

    private void Recompute()
    {
        _stats = EndpointStats.Of([.. _rows]);
        _serviceOptions = EndpointListQuery.ServiceOptions(_rows);
        _taskTypeOptions = EndpointListQuery.TaskTypeOptions(_rows);
        _page = _query.Apply(_rows);
    }

    private void OnSearch(ChangeEventArgs e)
    {
        _query.Search = e.Value as string ?? string.Empty;
        _query.PageIndex = 0;
        Recompute();
    }

    private void OnServicesChanged(IReadOnlyCollection<string> selected)
    {
        _query.Services = selected;
        _query.PageIndex = 0;
        Recompute();
    }

    private void OnTaskTypesChanged(IReadOnlyCollection<string> selected)
    {
        _query.TaskTypes = selected;
        _query.PageIndex = 0;
        Recompute();
    }

    private void OnGroupChanged(ChangeEventArgs e)
    {
        _query.GroupByModel = e.Value is true;
        Recompute();
    }

    private void OnSort(EndpointSortColumn column)
    {
        _query.ToggleSort(column);
        Recompute();
    }

    private void OnPageSize(ChangeEventArgs e)
    {
        if (int.TryParse(e.Value as string, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var size))
        {
            _query.PageSize = size;
            _query.PageIndex = 0;
            Recompute();
        }
    }

    private void GoToPage(int index)
    {
        _query.PageIndex = index;
        Recompute();
    }

    private async Task AddAsync()
    {
        var created = await Dialogs.OpenSideAsync<AddEndpointDialog>(
            "Add inference endpoint",
            new Dictionary<string, object?>
            {
                [nameof(AddEndpointDialog.Caller)] = _caller,
                [nameof(AddEndpointDialog.Portal)] = _portal,
            },
            new SideDialogOptions
            {
                Position = DialogPosition.Right,
                Width = "min(34rem, 100vw)",
                ShowMask = true,
                CloseDialogOnOverlayClick = false,
                AutoFocusFirstElement = true,
            });
        if (created is string id)
        {
            Notifications.Notify(NotificationSeverity.Success, "Endpoint added", id);
            await LoadAsync();
        }
    }

    private async Task CopyAsync(EndpointRow row)
    {
        try
        {
            await Js.InvokeVoidAsync("navigator.clipboard.writeText", row.InferenceId);
            Notifications.Notify(new NotificationMessage
            {
                Severity = NotificationSeverity.Success,
                Summary = "ID copied",
                Detail = row.InferenceId,
                Duration = 4000,
            });
        }
        catch (JSException ex)
        {
            Log.LogDebug(ex, "The clipboard refused the endpoint id");
            Notifications.Notify(NotificationSeverity.Warning, "The browser did not allow copying", row.InferenceId);
        }
    }

    private async Task DeleteAsync(EndpointRow row)
    {
        var deleted = await Dialogs.OpenAsync<DeleteEndpointDialog>(
            $"Delete {row.InferenceId}",
            new Dictionary<string, object?>
            {
                [nameof(DeleteEndpointDialog.Caller)] = _caller,
                [nameof(DeleteEndpointDialog.Portal)] = _portal,
                [nameof(DeleteEndpointDialog.InferenceId)] = row.InferenceId,
            },
            new DialogOptions { Width = "min(36rem, 96vw)", CloseDialogOnOverlayClick = false });
        if (deleted is true)
        {
            Notifications.Notify(NotificationSeverity.Success, "Endpoint deleted", row.InferenceId);
            await LoadAsync();
        }
    }
}
