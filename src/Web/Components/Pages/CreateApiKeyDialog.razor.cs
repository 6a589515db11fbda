using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using Radzen;
using WebConsole.Domain;
using WebConsole.Domain.ApiKeys;
using WebConsole.Infrastructure.Identity;

namespace WebConsole.Web.Components.Pages;

/// <summary>
/// The create-key dialog: a form, then the new key's secret exactly once. Closing returns true when a key was created, so
/// the page reloads its list; the secret lives only in this component's memory until the dialog closes.
/// </summary>
public sealed partial class CreateApiKeyDialog
{
    private readonly KeyForm _form = new();
    private CreatedApiKey? _created;
    private string? _error;
    private bool _busy;

    [Parameter, EditorRequired]
    public CallerIdentity Caller { get; set; } = default!;

    [Parameter, EditorRequired]
    public Guid TeamId { get; set; }

    [Inject]
    private DialogService Dialogs { get; set; } = default!;

    [Inject]
    private NotificationService Notifications { get; set; } = default!;

    [Inject]
    private IApiKeyService ApiKeys { get; set; } = default!;

    [Inject]
    private IJSRuntime Js { get; set; } = default!;

    [Inject]
    private TimeProvider Clock { get; set; } = default!;

    private async Task CreateAsync(KeyForm form)
    {
        _error = null;
        _busy = true;
        try
        {
            var endpoints = (form.AllowedEndpoints ?? string.Empty)
                .Split([',', ' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries);
            var expiresAt = form.ValidForDays is { } days ? Clock.GetUtcNow().AddDays(days) : (DateTimeOffset?)null;
            _created = await ApiKeys.CreateAsync(Caller, form.Name!.Trim(), form.Role, expiresAt, endpoints, TeamId);
        }
        catch (Exception ex) when (ex is DomainValidationException or ApiKeyAccessDeniedException)
        {
            _error = ex.Message;
        }
        finally
        {
            _busy = false;
        }
    }

    private async Task CopyAsync()
    {
        try
        {
            await Js.InvokeVoidAsync("navigator.clipboard.writeText", _created!.Encoded);
            Notifications.Notify(NotificationSeverity.Info, "Copied", "The encoded key is on the clipboard.");
        }
        catch (JSException)
        {
            // Browsers refuse the clipboard outside secure contexts or without permission; the text box stays selectable.
            Notifications.Notify(NotificationSeverity.Warning, "Copy it by hand", "The browser did not allow writing to the clipboard.");
        }
    }

    internal sealed class KeyForm
    {
        public string? Name { get; set; }

        public ApiKeyRole Role { get; set; } = ApiKeyRole.InferenceAdmin;

        public int? ValidForDays { get; set; }

        public string? AllowedEndpoints { get; set; }
    }
}
