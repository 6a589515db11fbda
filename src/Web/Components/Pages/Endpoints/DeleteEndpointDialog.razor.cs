using Microsoft.AspNetCore.Components;
using Radzen;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Web.Components.Endpoints;

namespace WebConsole.Web.Components.Pages;

/// <summary>
/// The delete dialog: runs the dry run on opening, lists the references, and enables the confirm button only once the
/// warning is acknowledged; it then deletes with force and closes with <c>true</c>.
/// </summary>
public sealed partial class DeleteEndpointDialog
{
    private DeleteScan? _scan;
    private string? _error;
    private bool _ignoreWarning;
    private bool _busy;

    /// <summary>The signed-in caller.</summary>
    [Parameter, EditorRequired]
    public CallerIdentity Caller { get; set; } = default!;

    /// <summary>The page's way to the endpoint services.</summary>
    [Parameter, EditorRequired]
    public EndpointsPortal Portal { get; set; } = default!;

    /// <summary>The endpoint to delete.</summary>
    [Parameter, EditorRequired]
    public string InferenceId { get; set; } = string.Empty;

    [Inject]
    private DialogService Dialogs { get; set; } = default!;

    private bool CanConfirm => _scan is not null && _ignoreWarning && !_busy;

    protected override async Task OnInitializedAsync()
    {
        try
        {
            _scan = await Portal.ScanAsync(Caller, InferenceId, CancellationToken.None);
        }
        catch (Exception ex) when (InferenceApiException.From(ex) is { } error)
        {
            _error = error.Reason;
        }
    }

    private async Task DeleteAsync()
    {
        if (!CanConfirm)
        {
            return;
        }

        _busy = true;
        try
        {
            await Portal.DeleteAsync(Caller, InferenceId, force: true, CancellationToken.None);
            Dialogs.Close(true);
        }
        catch (Exception ex) when (InferenceApiException.From(ex) is { } error)
        {
            _error = error.Reason;
        }
        finally
        {
            _busy = false;
        }
    }
}
