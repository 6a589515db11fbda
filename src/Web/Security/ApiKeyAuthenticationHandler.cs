using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using WebConsole.Infrastructure.Identity;

namespace WebConsole.Web.Security;

/// <summary>
/// <c>Authorization: ApiKey base64(id:secret)</c> and <c>Authorization: Bearer base64(id:secret)</c>. A malformed,
/// unknown, wrong, expired or invalidated key fails (401 where the route needs a caller); challenges and refusals are
/// written in the addressed surface's error shape, never as a redirect.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IApiKeyService keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string UnableToAuthenticate =
        "unable to authenticate with provided credentials and anonymous access is not allowed for this request";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var status = ApiKeySecrets.TryParseAuthorization(AuthorizationOf(Request), out var id, out var secret);
        switch (status)
        {
            case ApiKeyHeaderStatus.Absent:
                return AuthenticateResult.NoResult();
            case ApiKeyHeaderStatus.Malformed:
                return AuthenticateResult.Fail("invalid API key credentials: the Authorization header must be [ApiKey <base64(id:api_key)>] or [Bearer <base64(id:api_key)>]");
        }

        var caller = await keys.AuthenticateAsync(id, secret, Context.RequestAborted);
        if (caller is null)
        {
            return AuthenticateResult.Fail(UnableToAuthenticate);
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(caller.ToClaims(), Scheme.Name, ClaimTypes.Name, null));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }

    /// <summary>
    /// The request's credentials: its Authorization header or, on the hubs only, the <c>access_token</c> query parameter
    /// that browsers' SignalR clients send on WebSockets (which cannot carry headers), read as a Bearer credential. It is
    /// a secret: nothing here logs it (the request line is logged only from Microsoft.AspNetCore at Information, off by default).
    /// </summary>
    public static string? AuthorizationOf(HttpRequest request)
    {
        string? header = request.Headers.Authorization;
        if (string.IsNullOrEmpty(header) && request.Path.StartsWithSegments("/hubs")
            && request.Query.TryGetValue("access_token", out var token) && !string.IsNullOrEmpty(token))
        {
            return $"{ApiKeySecrets.BearerScheme} {token}";
        }

        return header;
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        var reason = result.Failure?.Message
            ?? $"missing authentication credentials for REST request [{Request.Method} {Request.Path}]";
        await SecurityErrors.WriteUnauthorizedAsync(Context, reason);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        SecurityErrors.WriteForbiddenAsync(Context, ForbiddenReason(Context));

    /// <summary>Elasticsearch's wording: which action, for which key, and which privilege would grant it.</summary>
    public static string ForbiddenReason(HttpContext context)
    {
        var caller = context.User.GetCaller();
        var who = caller?.ApiKeyId is { } key ? $"API key id [{key}]" : $"user [{context.User.Identity?.Name ?? "unknown"}]";
        var policies = context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>()
            .Select(a => a.Policy).OfType<string>().Distinct(StringComparer.Ordinal).ToArray() ?? [];
        var granted = policies.Length == 0 ? string.Empty : $", this action is granted by the privileges [{string.Join(",", policies)}]";
        return $"action [{context.Request.Method} {context.Request.Path}] is unauthorized for {who}{granted}";
    }
}
