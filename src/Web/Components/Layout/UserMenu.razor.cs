using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Routing;
using Microsoft.EntityFrameworkCore;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Web.Components.Account;

namespace WebConsole.Web.Components.Layout;

/// <summary>Shows who is signed in and where; sends a user who still has a one-time password to choose their own.</summary>
public sealed partial class UserMenu : IDisposable
{
    private string? _organizationName;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [Inject]
    private IDbContextFactory<WebConsoleDbContext> Db { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    private string CurrentPath => "/" + Navigation.ToBaseRelativePath(Navigation.Uri);

    protected override async Task OnInitializedAsync()
    {
        Navigation.LocationChanged += OnLocationChanged;
        var user = (await AuthenticationState).User;
        if (user.HasClaim(c => c.Type == PortalAccounts.MustChangePasswordClaim))
        {
            Navigation.NavigateTo($"{AccountPaths.ChangePassword}?returnUrl={Uri.EscapeDataString(CurrentPath)}", forceLoad: true);
            return;
        }

        if (user.GetCaller() is { } caller)
        {
            await using var db = await Db.CreateDbContextAsync();
            _organizationName = await db.Organizations.Where(o => o.Id == caller.OrganizationId).Select(o => o.Name).SingleOrDefaultAsync();
        }
    }

    public void Dispose() => Navigation.LocationChanged -= OnLocationChanged;

    // The hidden returnUrl follows the page the user is on.
    private void OnLocationChanged(object? sender, LocationChangedEventArgs e) => InvokeAsync(StateHasChanged);
}
