using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using WebConsole.Domain;
using WebConsole.Domain.ApiKeys;
using WebConsole.Infrastructure.Identity;
using WebConsole.Web.Security;

namespace WebConsole.Web.Apis;

/// <summary>
/// Elasticsearch's API key routes: <c>POST/GET/DELETE /_security/api_key</c> and <c>GET /_security/_authenticate</c>.
/// Keys act for a team of the caller's organization; another organization's key is not found.
/// <para>
/// Roles: Elasticsearch expresses rights as <c>role_descriptors</c>. WebConsole maps them onto its two roles: cluster
/// privileges that include <c>manage_inference</c>, <c>manage</c> or <c>all</c> give <c>inference_admin</c>, anything else
/// <c>inference_user</c>; no descriptors means the caller's own role. WebConsole's extension in <c>metadata</c> wins:
/// <c>{"role": "inference_user" | "inference_admin", "allowed_endpoints": ["my-e5", ...], "team_id": "&lt;guid&gt;"}</c>.
/// </para>
/// </summary>
internal static partial class SecurityApi
{
    private const string RealmName = "webconsole";

    public static IEndpointRouteBuilder MapSecurityApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/_security")
            .AddEndpointFilter(static async (context, next) =>
            {
                context.HttpContext.Response.Headers[SecurityErrors.ElasticProductHeader] = "Elasticsearch";
                return await next(context);
            })
            .ExcludeFromDescription();

        group.MapPost("/api_key", CreateAsync).RequireAuthorization(Policies.ManageInference);
        group.MapPut("/api_key", CreateAsync).RequireAuthorization(Policies.ManageInference);
        group.MapGet("/api_key", ListAsync).RequireAuthorization(Policies.MonitorInference);
        group.MapDelete("/api_key", InvalidateAsync).RequireAuthorization(Policies.ManageInference);
        group.MapGet("/_authenticate", Authenticate).RequireAuthorization(Policies.MonitorInference);
        return endpoints;
    }

    private static async Task<IResult> CreateAsync(HttpContext http, IApiKeyService keys, TimeProvider time, CancellationToken ct)
    {
        var caller = http.User.GetCaller();
        if (caller is null)
        {
            return Unauthenticated();
        }

        var body = await ReadBodyAsync(http, ct);
        if (body.Error is { } parseError)
        {
            return parseError;
        }

        var root = body.Root;
        var name = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        if (string.IsNullOrWhiteSpace(name))
        {
            return Bad("action_request_validation_exception", "Validation Failed: 1: api key name is required;");
        }

        DateTimeOffset? expiresAt = null;
        if (root.TryGetProperty("expiration", out var e) && e.ValueKind != JsonValueKind.Null)
        {
            if (e.ValueKind != JsonValueKind.String || ParseTimeValue(e.GetString()!) is not { } lifetime || lifetime <= TimeSpan.Zero)
            {
                return Bad("illegal_argument_exception", $"failed to parse setting [expiration] with value [{e}] as a time value: unit is missing or unrecognized");
            }

            expiresAt = time.GetUtcNow() + lifetime;
        }

        ApiKeyRole role;
        IReadOnlyList<string> allowed;
        Guid? teamId;
        try
        {
            (role, allowed, teamId) = ReadRole(root, caller);
        }
        catch (FormatException ex)
        {
            return Bad("illegal_argument_exception", ex.Message);
        }

        try
        {
            var created = await keys.CreateAsync(caller, name, role, expiresAt, allowed, teamId, ct);
            return TypedResults.Json(new CreateResponse(created.Id, created.Name, created.Secret, created.Encoded, ToMillis(created.ExpiresAt)), JsonOptions);
        }
        catch (ApiKeyAccessDeniedException ex)
        {
            return SecurityErrors.Elastic(StatusCodes.Status403Forbidden, "security_exception", ex.Message);
        }
        catch (DomainValidationException ex)
        {
            return Bad("illegal_argument_exception", ex.Message);
        }
    }

    private static async Task<IResult> ListAsync(HttpContext http, IApiKeyService keys, string? id, string? name, CancellationToken ct)
    {
        var caller = http.User.GetCaller();
        if (caller is null)
        {
            return Unauthenticated();
        }

        var list = await keys.ListAsync(caller, string.IsNullOrEmpty(id) ? null : id, string.IsNullOrEmpty(name) || name == "*" ? null : name, ct);
        if (list.Count == 0 && (!string.IsNullOrEmpty(id) || (!string.IsNullOrEmpty(name) && name != "*")))
        {
            // A key of another organization answers exactly like one that does not exist.
            return NotFound(id, name);
        }

        return TypedResults.Json(new { api_keys = list.Select(Describe).ToArray() }, JsonOptions);
    }

    private static async Task<IResult> InvalidateAsync(HttpContext http, IApiKeyService keys, CancellationToken ct)
    {
        var caller = http.User.GetCaller();
        if (caller is null)
        {
            return Unauthenticated();
        }

        var body = await ReadBodyAsync(http, ct);
        if (body.Error is { } parseError)
        {
            return parseError;
        }

        var ids = new List<string>();
        if (body.Root.TryGetProperty("ids", out var idArray) && idArray.ValueKind == JsonValueKind.Array)
        {
            ids.AddRange(idArray.EnumerateArray().Where(i => i.ValueKind == JsonValueKind.String).Select(i => i.GetString()!));
        }

        if (body.Root.TryGetProperty("id", out var single) && single.ValueKind == JsonValueKind.String)
        {
            ids.Add(single.GetString()!);
        }

        var name = body.Root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        if (ids.Count == 0 && string.IsNullOrEmpty(name))
        {
            return Bad("action_request_validation_exception", "Validation Failed: 1: One of [api key id(s), api key name, username, realm name] must be specified;");
        }

        try
        {
            var result = await keys.InvalidateAsync(caller, ids, name, ct);
            if (result.Invalidated.Count == 0 && result.PreviouslyInvalidated.Count == 0)
            {
                return NotFound(ids.Count > 0 ? string.Join(",", ids) : null, name);
            }

            return TypedResults.Json(new
            {
                invalidated_api_keys = result.Invalidated,
                previously_invalidated_api_keys = result.PreviouslyInvalidated,
                error_count = 0,
            }, JsonOptions);
        }
        catch (ApiKeyAccessDeniedException ex)
        {
            return SecurityErrors.Elastic(StatusCodes.Status403Forbidden, "security_exception", ex.Message);
        }
    }

    private static IResult Authenticate(HttpContext http)
    {
        var caller = http.User.GetCaller();
        if (caller is null)
        {
            return Unauthenticated();
        }

        var role = caller.Has(Privilege.ManageInference) ? RoleNames.InferenceAdmin : RoleNames.InferenceUser;
        return TypedResults.Json(new
        {
            username = http.User.Identity?.Name,
            roles = new[] { role },
            full_name = (string?)null,
            email = (string?)null,
            metadata = new
            {
                organization_id = caller.OrganizationId,
                team_id = caller.TeamId,
                organization_admin = caller.IsOrganizationAdmin,
                platform_operator = caller.IsPlatformOperator,
                allowed_endpoints = caller.AllowedEndpoints,
            },
            enabled = true,
            authentication_realm = new { name = RealmName, type = RealmName },
            lookup_realm = new { name = RealmName, type = RealmName },
            authentication_type = caller.ApiKeyId is null ? "realm" : "api_key",
            api_key = caller.ApiKeyId is { } key ? new { id = key } : null,
        }, JsonOptions);
    }

    private static (ApiKeyRole Role, IReadOnlyList<string> Allowed, Guid? TeamId) ReadRole(JsonElement root, CallerIdentity caller)
    {
        var callerRole = caller.Has(Privilege.ManageInference) || caller.IsOrganizationAdmin ? ApiKeyRole.InferenceAdmin : ApiKeyRole.InferenceUser;
        ApiKeyRole? role = null;
        if (root.TryGetProperty("role_descriptors", out var descriptors) && descriptors.ValueKind == JsonValueKind.Object)
        {
            var cluster = descriptors.EnumerateObject()
                .Where(d => d.Value.ValueKind == JsonValueKind.Object && d.Value.TryGetProperty("cluster", out _))
                .SelectMany(d => d.Value.GetProperty("cluster").ValueKind == JsonValueKind.Array ? d.Value.GetProperty("cluster").EnumerateArray() : [])
                .Where(p => p.ValueKind == JsonValueKind.String)
                .Select(p => p.GetString()!)
                .ToList();
            if (descriptors.EnumerateObject().Any())
            {
                role = cluster.Any(p => p is "manage_inference" or "manage" or "all") ? ApiKeyRole.InferenceAdmin : ApiKeyRole.InferenceUser;
            }
        }

        var allowed = new List<string>();
        Guid? team = null;
        if (root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object)
        {
            if (metadata.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String)
            {
                role = RoleNames.Parse(r.GetString()) ?? throw new FormatException(
                    $"Unknown role [{r.GetString()}] in [metadata.role]; use [{RoleNames.InferenceAdmin}] or [{RoleNames.InferenceUser}]");
            }

            if (metadata.TryGetProperty("allowed_endpoints", out var a) && a.ValueKind == JsonValueKind.Array)
            {
                allowed.AddRange(a.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!));
            }

            if (metadata.TryGetProperty("team_id", out var t) && t.ValueKind == JsonValueKind.String)
            {
                team = Guid.TryParse(t.GetString(), out var parsed) ? parsed : throw new FormatException($"[metadata.team_id] is not a team id: [{t.GetString()}]");
            }
        }

        return (role ?? callerRole, allowed, team);
    }

    /// <summary>Elasticsearch time units: <c>nanos, micros, ms, s, m, h, d</c>.</summary>
    internal static TimeSpan? ParseTimeValue(string value)
    {
        var match = TimeValuePattern().Match(value.Trim());
        if (!match.Success || !long.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            return null;
        }

        try
        {
            return match.Groups[2].Value switch
            {
                "nanos" => TimeSpan.FromTicks(amount / 100),
                "micros" => TimeSpan.FromMicroseconds(amount),
                "ms" => TimeSpan.FromMilliseconds(amount),
                "s" => TimeSpan.FromSeconds(amount),
                "m" => TimeSpan.FromMinutes(amount),
                "h" => TimeSpan.FromHours(amount),
                "d" => TimeSpan.FromDays(amount),
                _ => null,
            };
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    private static object Describe(ApiKey key) => new
    {
        id = key.Id,
        name = key.Name,
        type = "rest",
        creation = key.CreatedAt.ToUnixTimeMilliseconds(),
        expiration = ToMillis(key.ExpiresAt),
        invalidated = key.InvalidatedAt is not null,
        invalidation = ToMillis(key.InvalidatedAt),
        username = key.UserId?.ToString() ?? $"team:{key.TeamId}",
        realm = RealmName,
        metadata = new { role = RoleNames.ToName(key.Role), team_id = key.TeamId, allowed_endpoints = key.AllowedEndpoints },
        role_descriptors = new Dictionary<string, object>
        {
            [RoleNames.ToName(key.Role)] = new
            {
                cluster = key.Role == ApiKeyRole.InferenceAdmin
                    ? new[] { "manage_inference", "monitor_inference" }
                    : new[] { "monitor_inference" },
            },
        },
    };

    private static long? ToMillis(DateTimeOffset? value) => value?.ToUnixTimeMilliseconds();

    private static async Task<(JsonElement Root, IResult? Error)> ReadBodyAsync(HttpContext http, CancellationToken ct)
    {
        try
        {
            using var document = JsonDocument.Parse(await JsonBodies.ReadUtf8Async(http.Request.Body, ct));
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (default, Bad("parse_exception", "request body must be a JSON object"));
            }

            return (document.RootElement.Clone(), null);
        }
        catch (JsonException ex)
        {
            return (default, Bad("x_content_parse_exception", $"Failed to parse request body: {ex.Message}"));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (default, SecurityErrors.Elastic(StatusCodes.Status413PayloadTooLarge, "status_exception", "Request body is too large"));
        }
    }

    private static JsonHttpResult<object> Bad(string type, string reason) => SecurityErrors.Elastic(StatusCodes.Status400BadRequest, type, reason);

    private static JsonHttpResult<object> NotFound(string? id, string? name) => SecurityErrors.Elastic(StatusCodes.Status404NotFound, "resource_not_found_exception",
        $"no API key found matching {(id is null ? string.Empty : $"id [{id}]")}{(id is not null && name is not null ? " and " : string.Empty)}{(name is null ? string.Empty : $"name [{name}]")}");

    private static JsonHttpResult<object> Unauthenticated() =>
        SecurityErrors.Elastic(StatusCodes.Status401Unauthorized, "security_exception", ApiKeyAuthenticationHandler.UnableToAuthenticate);

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = null,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private sealed record CreateResponse(
        [property: System.Text.Json.Serialization.JsonPropertyName("id")] string Id,
        [property: System.Text.Json.Serialization.JsonPropertyName("name")] string Name,
        [property: System.Text.Json.Serialization.JsonPropertyName("api_key")] string ApiKey,
        [property: System.Text.Json.Serialization.JsonPropertyName("encoded")] string Encoded,
        [property: System.Text.Json.Serialization.JsonPropertyName("expiration")] long? Expiration);

    [GeneratedRegex("^([0-9]+)(nanos|micros|ms|s|m|h|d)$", RegexOptions.CultureInvariant)]
    private static partial Regex TimeValuePattern();
}
