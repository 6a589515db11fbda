using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Components;
using WebConsole.Infrastructure.Identity;
using WebConsole.Web.Security;

namespace WebConsole.Web.Components.Account;

/// <summary>
/// Replaces the signed-in user's password; required after a one-time password. On success the cookie is issued again
/// without the one-time flag.
/// </summary>
public sealed partial class ChangePassword
{
    private string? _error;
    private bool _mustChange;

    [CascadingParameter]
    private HttpContext HttpContext { get; set; } = default!;

    [SupplyParameterFromForm(FormName = "password")]
    private PasswordInput Input { get; set; } = default!;

    [SupplyParameterFromQuery]
    private string? ReturnUrl { get; set; }

    [Inject]
    private PortalAccounts Accounts { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    protected override void OnInitialized()
    {
        Input ??= new();
        _mustChange = HttpContext.User.HasClaim(c => c.Type == PortalAccounts.MustChangePasswordClaim);
    }

    private async Task ChangeAsync()
    {
        if (HttpContext.User.GetCaller()?.UserId is not { } userId)
        {
            _error = "Only a signed-in person can change a password; API keys have none.";
            return;
        }

        if (!await Accounts.ChangePasswordAsync(userId, Input.CurrentPassword!, Input.NewPassword!, HttpContext.RequestAborted))
        {
            _error = "The current password is not correct.";
            return;
        }

        // The same claims, less the one-time flag: no second sign-in needed.
        var identity = new ClaimsIdentity(
            HttpContext.User.Claims.Where(c => c.Type != PortalAccounts.MustChangePasswordClaim), AuthenticationSchemes.Cookie);
        await HttpContext.SignInAsync(AuthenticationSchemes.Cookie, new ClaimsPrincipal(identity));
        Navigation.NavigateTo(AccountPaths.LocalOrHome(ReturnUrl));
    }

    internal sealed class PasswordInput
    {
        [Required(ErrorMessage = "Enter your current password.")]
        public string? CurrentPassword { get; set; }

        [Required(ErrorMessage = "Enter a new password.")]
        [MinLength(PortalAccounts.MinimumPasswordLength, ErrorMessage = "The new password must have at least 12 characters.")]
        public string? NewPassword { get; set; }

        [Compare(nameof(NewPassword), ErrorMessage = "The two new passwords differ.")]
        public string? ConfirmPassword { get; set; }
    }
}
