using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Radzen;
using WebConsole.Domain;
using WebConsole.Domain.Catalog;
using WebConsole.Domain.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Web.Apis.Management;
using WebConsole.Web.Components.Shared;

namespace WebConsole.Web.Components.Pages;

/// <summary>
/// The managed service's catalog: every model with its terms, regions, release status and end of life (counted down, amber
/// within 90 days, red once reached), and the backend that serves it. Platform operators assign an embedded model or an
/// upstream service and remove backends; everything goes through <see cref="CatalogManagement"/>, the service behind
/// <c>/api/catalog</c>, so the page and the API apply the same checks and audit rows.
/// </summary>
public sealed partial class Catalog
{
    private CallerIdentity? _caller;
    private bool _canOperate;
    private bool _loaded;
    private string? _error;
    private List<CatalogModelView> _rows = [];

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [Inject]
    private CatalogManagement Management { get; set; } = default!;

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

        _canOperate = _caller.IsPlatformOperator;
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        if (_caller is null)
        {
            return;
        }

        _rows = [.. await Management.ListAsync(_caller)];
        _loaded = true;
    }

    private async Task AssignAsync(CatalogModelView row)
    {
        if (_caller is null)
        {
            return;
        }

        var saved = await Dialogs.OpenAsync<CatalogBackendDialog>(
            $"Backend of {row.Model.Name}",
            new Dictionary<string, object?>
            {
                [nameof(CatalogBackendDialog.Caller)] = _caller,
                [nameof(CatalogBackendDialog.Model)] = row,
            },
            new DialogOptions { Width = "44rem", CloseDialogOnOverlayClick = false });
        if (saved is CatalogModelView view)
        {
            Notifications.Notify(NotificationSeverity.Success, "Backend assigned", $"{view.Model.Id}: {BackendText(view)}");
            await LoadAsync();
        }
    }

    private async Task RemoveAsync(CatalogModelView row)
    {
        if (_caller is null)
        {
            return;
        }

        var confirmed = await Dialogs.Confirm(
            $"Remove the backend of {row.Model.Name}? Its endpoints answer 503 and new ones are refused until another backend is assigned.",
            "Remove backend",
            new ConfirmOptions { OkButtonText = "Remove backend", CancelButtonText = "Keep it" });
        if (confirmed != true)
        {
            return;
        }

        try
        {
            await Management.RemoveBackendAsync(_caller, row.Model.Id);
            Notifications.Notify(NotificationSeverity.Success, "Backend removed", row.Model.Id);
        }
        catch (Exception ex) when (ex is ResourceNotFoundException or ManagementAccessDeniedException or DomainValidationException)
        {
            _error = ex.Message;
        }

        await LoadAsync();
    }

    private static void RenderRow(RowRenderEventArgs<CatalogModelView> row)
    {
        if (row.Data is { } view)
        {
            row.Attributes["data-testid"] = "catalog-row";
            row.Attributes["data-catalog-id"] = view.Model.Id;
            row.Attributes["data-eol-state"] = EolState(view);
        }
    }

    internal static string EolState(CatalogModelView view) => EolCountdown.State(view);

    private static BadgeStyle StatusStyle(CatalogModelView view) => view.Model.ReleaseStatus switch
    {
        ReleaseStatus.GenerallyAvailable => BadgeStyle.Success,
        ReleaseStatus.Preview => BadgeStyle.Info,
        _ => BadgeStyle.Warning,
    };

    private static string TaskTypeText(CatalogModelView view) => view.Model.TaskType.ToWireName();

    internal static string BackendText(CatalogModelView view) => view.Backend switch
    {
        null => "none: endpoints are refused",
        { Kind: "embedded", Assigned: false } b => $"embedded {b.EmbeddedModelId} (itself)",
        { Kind: "embedded" } b => $"embedded {b.EmbeddedModelId}",
        var b => $"upstream {b.Service}" + (b.ServiceSettings?["model_id"] is { } model ? $" ({model})" : string.Empty),
    };
}
