using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using WebConsole.Domain.Endpoints;
using WebConsole.Infrastructure.RateLimiting;
using WebConsole.Web.Security;

namespace WebConsole.Web.Apis.Management;

/// <summary>
/// <c>/api/rate-limits</c>: the inbound rate limits (requests and ingest/search tokens per minute, null = unlimited). Global
/// policies are the installation's defaults (platform operators change them; they cannot be deleted); organization, team
/// and API key policies override them for the caller's organization (organization admins). Changes apply without a restart.
/// </summary>
internal static class RateLimitsApi
{
    public static RouteGroupBuilder MapRateLimitsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/rate-limits", ListAsync).RequireAuthorization(Policies.MonitorInference);
        api.MapPut("/rate-limits", UpsertAsync).Accepts<SetRateLimitRequest>("application/json").RequireAuthorization(Policies.OrganizationAdmin);
        api.MapDelete("/rate-limits/{id:guid}", DeleteAsync).RequireAuthorization(Policies.OrganizationAdmin);
        api.MapGet("/rate-limits/_status", StatusAsync).RequireAuthorization(Policies.MonitorInference);
        return api;
    }

    private static async Task<Ok<RateLimitPolicyResponse[]>> ListAsync(HttpContext context, RateLimitManagement management) =>
        TypedResults.Ok((await management.ListAsync(ManagementApi.Caller(context), context.RequestAborted)).Select(RateLimitPolicyResponse.From).ToArray());

    private static async Task<Ok<RateLimitPolicyResponse>> UpsertAsync(HttpContext context, RateLimitManagement management)
    {
        var body = await ManagementApi.ReadBodyAsync<SetRateLimitRequest>(context);
        var policy = await management.UpsertAsync(ManagementApi.Caller(context), new RateLimitPolicyInput(
            body.Scope, body.ScopeId, body.ModelSelector, body.RequestsPerMinute, body.TokensPerMinuteIngest, body.TokensPerMinuteSearch),
            context.RequestAborted);
        return TypedResults.Ok(RateLimitPolicyResponse.From(policy));
    }

    private static async Task<NoContent> DeleteAsync(Guid id, HttpContext context, RateLimitManagement management)
    {
        await management.DeleteAsync(ManagementApi.Caller(context), id, context.RequestAborted);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<RateLimitStatusResponse>> StatusAsync(HttpContext context, RateLimitManagement management, string? inference_id) =>
        TypedResults.Ok(RateLimitStatusResponse.From(
            await management.StatusAsync(ManagementApi.Caller(context), inference_id, context.RequestAborted)));
}

/// <summary><c>PUT /api/rate-limits</c>: creates or changes the policy of (scope, scope_id, model_selector).</summary>
public sealed record SetRateLimitRequest(
    [property: JsonPropertyName("scope")] string? Scope,
    [property: JsonPropertyName("scope_id")] string? ScopeId,
    [property: JsonPropertyName("model_selector")] string? ModelSelector,
    [property: JsonPropertyName("requests_per_minute")] int? RequestsPerMinute,
    [property: JsonPropertyName("tokens_per_minute_ingest")] long? TokensPerMinuteIngest,
    [property: JsonPropertyName("tokens_per_minute_search")] long? TokensPerMinuteSearch);

/// <summary>One rate-limit policy.</summary>
public sealed record RateLimitPolicyResponse(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("scope")] string Scope,
    [property: JsonPropertyName("scope_id")] string? ScopeId,
    [property: JsonPropertyName("model_selector")] string ModelSelector,
    [property: JsonPropertyName("requests_per_minute")] int? RequestsPerMinute,
    [property: JsonPropertyName("tokens_per_minute_ingest")] long? TokensPerMinuteIngest,
    [property: JsonPropertyName("tokens_per_minute_search")] long? TokensPerMinuteSearch)
{
    public static RateLimitPolicyResponse From(RateLimitPolicyView policy) =>
        new(policy.Id, policy.Scope.ToWireName(), policy.ScopeId, policy.Selector.ToString(), policy.RequestsPerMinute,
            policy.IngestTokensPerMinute, policy.SearchTokensPerMinute);
}

/// <summary>One dimension of a window: its limit (null = unlimited), what it holds and what is left.</summary>
public sealed record RateLimitCountResponse(
    [property: JsonPropertyName("limit")] long? Limit,
    [property: JsonPropertyName("used")] long Used,
    [property: JsonPropertyName("remaining")] long? Remaining)
{
    public static RateLimitCountResponse Of(long? limit, long used) => new(limit, used, limit is { } l ? Math.Max(0, l - used) : null);
}

/// <summary><c>GET /api/rate-limits/_status</c>: the policy in force for the caller on an endpoint and its window now.</summary>
public sealed record RateLimitStatusResponse(
    [property: JsonPropertyName("inference_id")] string InferenceId,
    [property: JsonPropertyName("model_id")] string ModelId,
    [property: JsonPropertyName("task_type")] string TaskType,
    [property: JsonPropertyName("policy")] RateLimitPolicyResponse? Policy,
    [property: JsonPropertyName("window")] string? Window,
    [property: JsonPropertyName("requests")] RateLimitCountResponse Requests,
    [property: JsonPropertyName("tokens_ingest")] RateLimitCountResponse IngestTokens,
    [property: JsonPropertyName("tokens_search")] RateLimitCountResponse SearchTokens)
{
    public static RateLimitStatusResponse From(RateLimitStatusView status) =>
        new(status.InferenceId, status.ModelId, status.TaskType.ToWireName(),
            status.Policy is { } policy ? RateLimitPolicyResponse.From(policy) : null,
            status.Window?.ToWireName(),
            RateLimitCountResponse.Of(status.Usage.Limit.RequestsPerMinute, status.Usage.Requests),
            RateLimitCountResponse.Of(status.Usage.Limit.IngestTokensPerMinute, status.Usage.IngestTokens),
            RateLimitCountResponse.Of(status.Usage.Limit.SearchTokensPerMinute, status.Usage.SearchTokens));
}
