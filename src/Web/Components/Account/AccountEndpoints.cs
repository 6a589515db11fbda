using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using WebConsole.Web.Security;

namespace WebConsole.Web.Components.Account;

/// <summary>The portal's account services and the sign-out endpoint (sign-in is the page's own form handler).</summary>
public static class AccountEndpoints
{
    public static IServiceCollection AddPortalAccounts(this IServiceCollection services) =>
        services.AddScoped<PortalAccounts>();

    /// <summary>
    /// <c>POST /account/signout</c>: clears the cookie and returns to the sign-in page. Only a form post that carries the
    /// antiforgery token (the layout's user menu) is accepted, so another site cannot sign users out.
    /// </summary>
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(AccountPaths.SignOut, SignOutAsync)
            .RequireAuthorization()
            .ExcludeFromDescription();
        return endpoints;
    }

    // The form is read here rather than bound: a bound form parameter makes routing answer 415 to other content types
    // before authorization runs, and checking the token by hand also refuses a text/plain post, which a browser sends
    // cross-site without asking.
    private static async Task<Results<RedirectHttpResult, BadRequest>> SignOutAsync(HttpContext context, IAntiforgery antiforgery)
    {
        if (!context.Request.HasFormContentType || !await antiforgery.IsRequestValidAsync(context))
        {
            return TypedResults.BadRequest();
        }

        // returnUrl: the page the menu was on, so signing in again leads back there (local addresses only).
        var returnUrl = (await context.Request.ReadFormAsync(context.RequestAborted))["returnUrl"].ToString();
        await context.SignOutAsync(AuthenticationSchemes.Cookie);
        return TypedResults.LocalRedirect(AccountPaths.IsLocal(returnUrl) && returnUrl != "/"
            ? $"{AccountPaths.SignIn}?returnUrl={Uri.EscapeDataString(returnUrl)}"
            : AccountPaths.SignIn);
    }
}
