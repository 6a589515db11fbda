using Microsoft.AspNetCore.Components.Authorization;
using WebConsole.Infrastructure.Identity;

namespace WebConsole.Web.Security;

/// <summary>
/// The tenant of the current request (its authenticated principal) or, inside a Blazor circuit where there is no
/// request, of the circuit's authentication state. Read on every query, so a context created before authentication
/// still filters by the caller once known; nobody signed in sees no organization's rows.
/// </summary>
internal sealed class HttpTenantContext(IHttpContextAccessor http, IServiceProvider services) : ITenantContext
{
    private CallerIdentity? _caller;

    public Guid? OrganizationId => Caller?.OrganizationId;

    public bool IsPlatformOperator => Caller?.IsPlatformOperator == true;

    public bool IsSystem => false;

    private CallerIdentity? Caller => _caller ??= Resolve();

    private CallerIdentity? Resolve()
    {
        if (http.HttpContext?.User is { Identity.IsAuthenticated: true } user)
        {
            return user.GetCaller();
        }

        // A circuit's state is known when the circuit starts; an unfinished task means nobody yet.
        var state = services.GetService<AuthenticationStateProvider>();
        try
        {
            var task = state?.GetAuthenticationStateAsync();
            return task is { IsCompletedSuccessfully: true } ? task.Result.User.GetCaller() : null;
        }
        catch (InvalidOperationException)
        {
            // Outside a circuit the server provider has no state yet.
            return null;
        }
    }
}
