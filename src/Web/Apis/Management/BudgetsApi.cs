using System.Globalization;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using WebConsole.Domain;
using WebConsole.Domain.Billing;
using WebConsole.Infrastructure.Audit;
using WebConsole.Infrastructure.Billing;
using WebConsole.Web.Security;

namespace WebConsole.Web.Apis.Management;

/// <summary>
/// <c>/api/budgets</c>: monthly budgets of the caller organization's teams and API keys, with this month's spend. Org
/// admins set and delete them; changes apply at once, without a restart.
/// </summary>
internal static class BudgetsApi
{
    public static RouteGroupBuilder MapBudgetsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/budgets", ListAsync).RequireAuthorization(Policies.OrganizationAdmin);
        api.MapPut("/budgets", SetAsync).Accepts<SetBudgetRequest>("application/json").RequireAuthorization(Policies.OrganizationAdmin);
        api.MapDelete("/budgets/{id:guid}", DeleteAsync).RequireAuthorization(Policies.OrganizationAdmin);
        return api;
    }

    private static async Task<Ok<BudgetResponse[]>> ListAsync(HttpContext context, BudgetService budgets)
    {
        var caller = ManagementApi.Caller(context);
        return TypedResults.Ok((await budgets.ListAsync(caller.OrganizationId, context.RequestAborted)).Select(BudgetResponse.From).ToArray());
    }

    private static async Task<Results<Created<BudgetResponse>, Ok<BudgetResponse>>> SetAsync(HttpContext context, BudgetService budgets, IAuditLog audit)
    {
        var request = await ManagementApi.ReadBodyAsync<SetBudgetRequest>(context);
        var scope = BudgetScopes.Parse(request.Scope);
        if (request.MonthlyLimit is null)
        {
            throw new DomainValidationException("[monthly_limit] is required");
        }

        var caller = ManagementApi.Caller(context);
        Budget budget;
        bool created;
        try
        {
            (budget, created) = await budgets.SetAsync(
                caller.OrganizationId, scope, request.ScopeId, request.MonthlyLimit.Value, request.SoftLimit, request.Currency, context.RequestAborted);
        }
        catch (BudgetScopeNotFoundException ex)
        {
            throw new ResourceNotFoundException(ex.Message);
        }

        await audit.RecordAsync(caller, created ? "budget.created" : "budget.updated", "budget", budget.Id.ToString(), Describe(budget), context.RequestAborted);
        var status = (await budgets.ListAsync(caller.OrganizationId, context.RequestAborted)).FirstOrDefault(s => s.Budget.Id == budget.Id);
        var response = status is null ? BudgetResponse.From(budget) : BudgetResponse.From(status);
        return created
            ? TypedResults.Created($"{ManagementApi.Prefix}/budgets/{budget.Id}", response)
            : TypedResults.Ok(response);
    }

    private static async Task<NoContent> DeleteAsync(Guid id, HttpContext context, BudgetService budgets, IAuditLog audit)
    {
        var caller = ManagementApi.Caller(context);
        var budget = await budgets.DeleteAsync(caller.OrganizationId, id, context.RequestAborted)
            ?? throw new ResourceNotFoundException($"Budget [{id}] not found");
        await audit.RecordAsync(caller, "budget.deleted", "budget", budget.Id.ToString(), Describe(budget), context.RequestAborted);
        return TypedResults.NoContent();
    }

    private static string Describe(Budget budget) => string.Create(CultureInfo.InvariantCulture,
        $"{BudgetScopes.ToName(budget.Scope)} {budget.ScopeId}: {budget.MonthlyLimit} {budget.Currency} a month, soft limit {budget.SoftLimit?.ToString(CultureInfo.InvariantCulture) ?? "none"}");
}

/// <summary>The wire names of <see cref="BudgetScope"/>.</summary>
public static class BudgetScopes
{
    public const string Team = "team";
    public const string ApiKey = "api_key";

    public static string ToName(BudgetScope scope) => scope == BudgetScope.Team ? Team : ApiKey;

    /// <summary>Parses <c>team</c> or <c>api_key</c>; anything else is a 400 naming the field.</summary>
    public static BudgetScope Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        Team => BudgetScope.Team,
        ApiKey => BudgetScope.ApiKey,
        _ => throw new DomainValidationException($"[scope] must be one of [team, api_key], got [{value}]"),
    };
}

/// <summary><c>PUT /api/budgets</c>: the monthly budget of a team or key (created, or its limits changed).</summary>
public sealed record SetBudgetRequest(
    [property: JsonPropertyName("scope")] string? Scope,
    [property: JsonPropertyName("scope_id")] string? ScopeId,
    [property: JsonPropertyName("monthly_limit")] decimal? MonthlyLimit,
    [property: JsonPropertyName("soft_limit")] decimal? SoftLimit,
    [property: JsonPropertyName("currency")] string? Currency);

/// <summary>A budget with this month's spend.</summary>
public sealed record BudgetResponse(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("scope")] string Scope,
    [property: JsonPropertyName("scope_id")] string ScopeId,
    [property: JsonPropertyName("scope_name")] string ScopeName,
    [property: JsonPropertyName("monthly_limit")] decimal MonthlyLimit,
    [property: JsonPropertyName("soft_limit")] decimal? SoftLimit,
    [property: JsonPropertyName("currency")] string Currency,
    [property: JsonPropertyName("month")] string? Month,
    [property: JsonPropertyName("spent")] decimal Spent,
    [property: JsonPropertyName("reserved")] decimal Reserved,
    [property: JsonPropertyName("remaining")] decimal Remaining,
    [property: JsonPropertyName("soft_limit_reached")] bool SoftLimitReached,
    [property: JsonPropertyName("exhausted")] bool Exhausted,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("updated_at")] DateTimeOffset UpdatedAt)
{
    public static BudgetResponse From(BudgetStatus status) => new(
        status.Budget.Id, BudgetScopes.ToName(status.Budget.Scope), status.Budget.ScopeId, status.ScopeName, status.Budget.MonthlyLimit,
        status.Budget.SoftLimit, status.Budget.Currency, status.Month, status.Spent, status.Reserved, status.Remaining,
        status.SoftLimitReached, status.Exhausted, status.Budget.CreatedAt, status.Budget.UpdatedAt);

    public static BudgetResponse From(Budget budget) => new(
        budget.Id, BudgetScopes.ToName(budget.Scope), budget.ScopeId, budget.ScopeId, budget.MonthlyLimit, budget.SoftLimit, budget.Currency,
        null, 0m, 0m, budget.MonthlyLimit, false, false, budget.CreatedAt, budget.UpdatedAt);
}
