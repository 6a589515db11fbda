using Microsoft.AspNetCore.Components;
using Radzen;
using WebConsole.Infrastructure.Endpoints;
using WebConsole.Infrastructure.Identity;
using WebConsole.Web.Components.Endpoints;

namespace WebConsole.Web.Components.Pages;

/// <summary>
/// The add-endpoint flyout. It creates through the same code as <c>PUT /_inference/{id}</c> (so the same validation and
/// messages), shows a rejection beside the field it names and stays open; on success it closes with the new id.
/// </summary>
public sealed partial class AddEndpointDialog
{
    private EndpointForm _form = default!;
    private bool _busy;

    /// <summary>The signed-in caller.</summary>
    [Parameter, EditorRequired]
    public CallerIdentity Caller { get; set; } = default!;

    /// <summary>The page's way to the endpoint services.</summary>
    [Parameter, EditorRequired]
    public EndpointsPortal Portal { get; set; } = default!;

    [Inject]
    private DialogService Dialogs { get; set; } = default!;

    protected override void OnInitialized() => _form = new EndpointForm(Portal.Services);

    private void OnService(ChangeEventArgs e) => _form.SelectService(e.Value as string);

    private void OnTaskType(ChangeEventArgs e) => _form.SelectTaskType(e.Value as string);

    private string? Invalid(string key) => _form.ErrorOf(key) is null ? null : "true";

    private static string InputType(EndpointFormField field) =>
        field.Schema.Sensitive ? "password" : field.Schema.Type == SettingFieldType.Number ? "number" : "text";

    private async Task SubmitAsync()
    {
        if (_busy)
        {
            return;
        }

        var body = _form.BuildBody();
        if (body is null)
        {
            return;
        }

        _busy = true;
        try
        {
            var id = _form.InferenceId.Trim();
            await Portal.CreateAsync(Caller, id, body, CancellationToken.None);
            Dialogs.CloseSide(id);
        }
        catch (Exception ex) when (InferenceApiException.From(ex) is { } error)
        {
            _form.ShowServerError(error.Reason);
        }
        finally
        {
            _busy = false;
        }
    }
}
