using Microsoft.AspNetCore.Components;
using Radzen;
using WebConsole.Domain;
using WebConsole.Infrastructure.Identity;
using WebConsole.Web.Apis.Management;

namespace WebConsole.Web.Components.Pages;

/// <summary>
/// The import dialog of the models page. It starts the import without waiting (the page follows its progress) and closes
/// with the new model's id; a rejected request (validation, an id already taken) stays open with the reason.
/// </summary>
public sealed partial class ImportModelDialog
{
    private readonly ImportForm _form = new();
    private IReadOnlyList<string> _errors = [];
    private bool _busy;

    internal enum ImportSource
    {
        Hub,
        Folder,
    }

    [Parameter, EditorRequired]
    public CallerIdentity Caller { get; set; } = default!;

    [Inject]
    private DialogService Dialogs { get; set; } = default!;

    [Inject]
    private ModelManagement Management { get; set; } = default!;

    private async Task ImportAsync(ImportForm form)
    {
        _errors = [];
        _busy = true;
        try
        {
            var fromHub = form.Source == ImportSource.Hub;
            var request = new ImportModelRequest(
                form.ModelId?.Trim(),
                fromHub ? form.HubRepository?.Trim() : null,
                fromHub && !string.IsNullOrWhiteSpace(form.Revision) ? form.Revision.Trim() : null,
                OnnxFile: null,
                fromHub ? null : form.LocalPath?.Trim());
            var model = await Management.ImportAsync(Caller, request, waitForCompletion: false, CancellationToken.None);
            Dialogs.Close(model.ModelId);
        }
        catch (DomainValidationException ex)
        {
            _errors = ex.Errors;
        }
        catch (ResourceConflictException ex)
        {
            _errors = [ex.Message];
        }
        finally
        {
            _busy = false;
        }
    }

    internal sealed class ImportForm
    {
        public string? ModelId { get; set; }

        public ImportSource Source { get; set; } = ImportSource.Hub;

        public string? HubRepository { get; set; }

        public string? Revision { get; set; }

        public string? LocalPath { get; set; }
    }
}
