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

    /// <summary>
    /// Fixes the scope's caller, for work that runs in a scope of its own on behalf of a known caller (a chat stream of
    /// the hub or the playground): there the request or circuit that authenticated it is not this scope's.
    /// </summary>
    public void Pin(CallerIdentity caller) => _caller = caller;

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

/// <summary>Scopes that act for one caller.</summary>
internal static class CallerScopes
{
    /// <summary>A new scope whose tenant (every <c>WebConsoleDbContext</c> of it) is <paramref name="caller"/>'s.</summary>
    public static AsyncServiceScope CreateCallerScope(this IServiceScopeFactory scopes, CallerIdentity caller)
    {
        var scope = scopes.CreateAsyncScope();
        if (scope.ServiceProvider.GetRequiredService<ITenantContext>() is HttpTenantContext tenant)
        {
            tenant.Pin(caller);
        }

        return scope;
    }
}
