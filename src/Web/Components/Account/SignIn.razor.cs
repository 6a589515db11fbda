using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Components;
using WebConsole.Web.Security;

namespace WebConsole.Web.Components.Account;

/// <summary>
/// The sign-in form, rendered and posted as static server-side HTML (antiforgery-checked by the framework), so the
/// handler can write the cookie on a plain HTTP response.
/// </summary>
public sealed partial class SignIn
{
    private bool _failed;

    [CascadingParameter]
    private HttpContext HttpContext { get; set; } = default!;

    [SupplyParameterFromForm(FormName = "signin")]
    private SignInInput Input { get; set; } = default!;

    [SupplyParameterFromQuery]
    private string? ReturnUrl { get; set; }

    [Inject]
    private PortalAccounts Accounts { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    // Null on a plain GET; the form post fills it.
    protected override void OnInitialized() => Input ??= new();

    private async Task SignInAsync()
    {
        var result = await Accounts.SignInAsync(Input.Email, Input.Password, HttpContext.RequestAborted);
        if (!result.Succeeded)
        {
            _failed = true;
            Input.Password = null;
            return;
        }

        await HttpContext.SignInAsync(AuthenticationSchemes.Cookie, result.Principal!);
        var target = AccountPaths.LocalOrHome(ReturnUrl);
        Navigation.NavigateTo(
            result.MustChangePassword ? $"{AccountPaths.ChangePassword}?returnUrl={Uri.EscapeDataString(target)}" : target);
    }

    internal sealed class SignInInput
    {
        [Required(ErrorMessage = "Enter your e-mail address.")]
        public string? Email { get; set; }

        [Required(ErrorMessage = "Enter your password.")]
        public string? Password { get; set; }
    }
}
