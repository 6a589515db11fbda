using Microsoft.AspNetCore.Components;
using Radzen;
using WebConsole.Domain;
using WebConsole.Domain.Endpoints;
using WebConsole.Domain.RateLimiting;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.RateLimiting;
using WebConsole.Web.Apis.Management;

namespace WebConsole.Web.Components.Pages;

/// <summary>
/// The editor of one rate-limit policy. A new policy picks its scope among those the caller may change (the defaults for
/// platform operators; the organization, a team or a key for organization admins), its target and its models; an existing
/// one only its limits. Closing answers the saved <see cref="RateLimitPolicyView"/>, or null when cancelled.
/// </summary>
public sealed partial class RateLimitDialog
{
    private readonly PolicyForm _form = new();
    private readonly List<string> _errors = [];
    private readonly List<RateLimitScope> _scopes = [];
    private List<Target> _teams = [];
    private List<Target> _keys = [];
    private List<string> _families = [];
    private bool _busy;

    [Parameter, EditorRequired]
    public CallerIdentity Caller { get; set; } = default!;

    /// <summary>The policy to change; null for a new one.</summary>
    [Parameter]
    public RateLimitPolicyView? Existing { get; set; }

    [Inject]
    private DialogService Dialogs { get; set; } = default!;

    [Inject]
    private RateLimitManagement Management { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        _families = [.. TaskTypes.All.Select(t => t.ToWireName())];
        if (Existing is { } existing)
        {
            _form.Scope = existing.Scope;
            _form.ScopeId = existing.ScopeId;
            _form.SelectorKind = existing.Selector.Kind;
            _form.Family = existing.Selector.Kind == ModelSelectorKind.Family ? existing.Selector.Value : null;
            _form.ModelId = existing.Selector.Kind == ModelSelectorKind.Model ? existing.Selector.Value : null;
            _form.RequestsPerMinute = existing.RequestsPerMinute;
            _form.IngestTokensPerMinute = existing.IngestTokensPerMinute;
            _form.SearchTokensPerMinute = existing.SearchTokensPerMinute;
            return;
        }

        if (Caller.IsOrganizationAdmin || Caller.IsPlatformOperator)
        {
            _scopes.AddRange([RateLimitScope.Organization, RateLimitScope.Team, RateLimitScope.ApiKey]);
        }

        if (Caller.IsPlatformOperator)
        {
            _scopes.Add(RateLimitScope.Global);
        }

        _form.Scope = _scopes.FirstOrDefault();
        _form.Family = _families.FirstOrDefault();
        var (teams, keys) = await Management.TargetsAsync(Caller);
        _teams = [.. teams.Select(t => new Target(t.Id.ToString("D"), t.Name))];
        _keys = [.. keys.Select(k => new Target(k.Id, $"{k.Name} ({k.Id})"))];
    }

    private void ScopeChanged(RateLimitScope scope)
    {
        _form.Scope = scope;
        _form.ScopeId = null;
    }

    private async Task SaveAsync(PolicyForm form)
    {
        _errors.Clear();
        _busy = true;
        try
        {
            var selector = form.SelectorKind == ModelSelectorKind.Family ? $"family:{form.Family}" : $"model:{form.ModelId?.Trim()}";
            var saved = await Management.UpsertAsync(Caller, new RateLimitPolicyInput(
                form.Scope.ToWireName(), form.ScopeId, selector, form.RequestsPerMinute, form.IngestTokensPerMinute, form.SearchTokensPerMinute));
            Dialogs.Close(saved);
        }
        catch (DomainValidationException ex)
        {
            _errors.AddRange(ex.Errors);
        }
        catch (Exception ex) when (ex is ResourceNotFoundException or ManagementAccessDeniedException or ResourceConflictException)
        {
            _errors.Add(ex.Message);
        }
        finally
        {
            _busy = false;
        }
    }

    internal sealed record Target(string Id, string Name);

    internal sealed class PolicyForm
    {
        public RateLimitScope Scope { get; set; }

        public string? ScopeId { get; set; }

        public ModelSelectorKind SelectorKind { get; set; } = ModelSelectorKind.Family;

        public string? Family { get; set; }

        public string? ModelId { get; set; }

        public int? RequestsPerMinute { get; set; }

        public long? IngestTokensPerMinute { get; set; }

        public long? SearchTokensPerMinute { get; set; }
    }
}
