using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WebConsole.Infrastructure.Identity;

namespace WebConsole.Web.Security;

/// <summary>Authentication (API keys and the portal cookie), the four policies and the request's tenant.</summary>
internal static class SecurityServiceCollectionExtensions
{
    /// <summary>Where the cookie scheme sends anonymous portal visitors.</summary>
    public const string SignInPath = "/account/signin";

    /// <summary>Where the cookie scheme sends signed-in visitors who lack a right.</summary>
    public const string AccessDeniedPath = "/account/denied";

    public static IServiceCollection AddWebConsoleSecurity(this IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        services.AddWebConsoleIdentity();

        // The request's (or circuit's) caller decides what every WebConsoleDbContext of the scope can see.
        services.RemoveAll<ITenantContext>();
        services.AddScoped<ITenantContext, HttpTenantContext>();

        services.AddAuthentication(AuthenticationSchemes.ApiKeyOrCookie)
            .AddPolicyScheme(AuthenticationSchemes.ApiKeyOrCookie, "API key or portal cookie", policy =>
                // A request that names ApiKey or Bearer credentials is judged by them alone, never by a cookie that
                // happens to ride along; without such a header the portal cookie decides.
                policy.ForwardDefaultSelector = context =>
                    ApiKeySecrets.TryParseAuthorization(ApiKeyAuthenticationHandler.AuthorizationOf(context.Request), out _, out _) != ApiKeyHeaderStatus.Absent
                        ? AuthenticationSchemes.ApiKey
                        : AuthenticationSchemes.Cookie)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(AuthenticationSchemes.ApiKey, null)
            .AddCookie(AuthenticationSchemes.Cookie, cookie =>
            {
                cookie.Cookie.Name = CookieName;
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Lax;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.LoginPath = SignInPath;
                cookie.AccessDeniedPath = AccessDeniedPath;
                cookie.ExpireTimeSpan = TimeSpan.FromHours(8);
                cookie.SlidingExpiration = true;
                cookie.Events = new CookieAuthenticationEvents
                {
                    // Machine APIs answer 401/403 in their own shape; only portal pages redirect to sign-in.
                    OnRedirectToLogin = context => SecurityErrors.IsApi(context.Request.Path)
                        ? SecurityErrors.WriteUnauthorizedAsync(context.HttpContext, $"missing authentication credentials for REST request [{context.Request.Method} {context.Request.Path}]")
                        : Redirect(context),
                    OnRedirectToAccessDenied = context => SecurityErrors.IsApi(context.Request.Path)
                        ? SecurityErrors.WriteForbiddenAsync(context.HttpContext, ApiKeyAuthenticationHandler.ForbiddenReason(context.HttpContext))
                        : Redirect(context),
                };
            });

        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.ManageInference, p => p.RequireAuthenticatedUser()
                .RequireClaim(CallerClaimTypes.Privilege, PrivilegeNames.ManageInference))
            .AddPolicy(Policies.MonitorInference, p => p.RequireAuthenticatedUser()
                .RequireClaim(CallerClaimTypes.Privilege, PrivilegeNames.MonitorInference, PrivilegeNames.ManageInference))
            .AddPolicy(Policies.OrganizationAdmin, p => p.RequireAuthenticatedUser()
                .RequireClaim(CallerClaimTypes.OrganizationAdmin))
            .AddPolicy(Policies.PlatformOperator, p => p.RequireAuthenticatedUser()
                .RequireClaim(CallerClaimTypes.PlatformOperator));
        services.AddCascadingAuthenticationState();
        return services;
    }

    /// <summary>The portal's cookie name.</summary>
    public const string CookieName = ".WebConsole.Session";

    private static Task Redirect(RedirectContext<CookieAuthenticationOptions> context)
    {
        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }
}
