using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection.Extensions;
using WebConsole.Domain;
using WebConsole.Infrastructure.Audit;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Secrets;
using WebConsole.Web.Apis.Management;
using WebConsole.Web.Security;

namespace WebConsole.Web.Apis;

/// <summary>
/// The management API: what Elasticsearch has no route for (organizations, teams, members, the audit trail), as minimal
/// APIs under <c>/api</c> answering ProblemDetails. Every route names its policy; handlers then check the caller's rights
/// on the resource, and the data layer's tenant filter makes another organization's resource a 404.
/// </summary>
public static class ManagementApi
{
    /// <summary>The path every management route starts with.</summary>
    public const string Prefix = "/api";

    /// <summary>
    /// Registers the management services, the audit trail (with the request as its "from where"), secrets protection and
    /// the ProblemDetails mapping of <c>/api</c> exceptions.
    /// </summary>
    public static IServiceCollection AddManagementApi(this IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        services.AddProblemDetails();
        services.AddExceptionHandler<ManagementExceptionHandler>();
        services.AddWebConsoleAudit();
        services.Replace(ServiceDescriptor.Singleton<IAuditContextAccessor, HttpAuditContextAccessor>());
        services.AddWebConsoleSecrets();
        services.TryAddScoped<TenancyManagement>();
        services.TryAddScoped<ModelManagement>();
        services.TryAddScoped<WebConsole.Infrastructure.Usage.UsageQueryService>();
        services.TryAddScoped<RateLimitManagement>();
        services.TryAddScoped<CatalogManagement>();
        return services;
    }

    public static IEndpointRouteBuilder MapManagementApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup(Prefix).WithTags("Management");

        api.MapGet("/me", GetMe).RequireAuthorization(Policies.MonitorInference);

        api.MapGet("/organizations", ListOrganizations).RequireAuthorization(Policies.PlatformOperator);
        api.MapPost("/organizations", CreateOrganization).Accepts<CreateOrganizationRequest>("application/json")
            .RequireAuthorization(Policies.PlatformOperator);
        api.MapGet("/organizations/{id:guid}", GetOrganization).RequireAuthorization(Policies.OrganizationAdmin);
        api.MapGet("/organizations/{id:guid}/teams", ListOrganizationTeams).RequireAuthorization(Policies.OrganizationAdmin);

        api.MapGet("/teams", ListTeams).RequireAuthorization(Policies.MonitorInference);
        api.MapPost("/teams", CreateTeam).Accepts<CreateTeamRequest>("application/json").RequireAuthorization(Policies.OrganizationAdmin);
        api.MapGet("/teams/{id:guid}", GetTeam).RequireAuthorization(Policies.MonitorInference);
        api.MapGet("/teams/{id:guid}/members", ListMembers).RequireAuthorization(Policies.ManageInference);
        api.MapPost("/teams/{id:guid}/members", AddMember).Accepts<AddMemberRequest>("application/json")
            .RequireAuthorization(Policies.ManageInference);
        api.MapDelete("/teams/{id:guid}/members/{member}", RemoveMember).RequireAuthorization(Policies.ManageInference);

        api.MapGet("/audit", QueryAudit).RequireAuthorization(Policies.OrganizationAdmin);

        api.MapModelsApi();
        api.MapPricesApi();
        api.MapUsageApi();
        api.MapBudgetsApi();
        api.MapRateLimitsApi();
        api.MapCatalogApi();
        return app;
    }

    private static Ok<MeResponse> GetMe(HttpContext context) => TypedResults.Ok(MeResponse.From(Caller(context)));

    private static async Task<Ok<OrganizationResponse[]>> ListOrganizations(HttpContext context, TenancyManagement management) =>
        TypedResults.Ok((await management.ListOrganizationsAsync(Caller(context), context.RequestAborted))
            .Select(OrganizationResponse.From).ToArray());

    private static async Task<Created<CreatedOrganizationResponse>> CreateOrganization(HttpContext context, TenancyManagement management)
    {
        var body = await ReadBodyAsync<CreateOrganizationRequest>(context);
        var created = await management.CreateOrganizationAsync(Caller(context), body.Name, body.Slug, body.Admin, context.RequestAborted);
        return TypedResults.Created(
            $"{Prefix}/organizations/{created.Organization.Id}",
            new CreatedOrganizationResponse(
                OrganizationResponse.From(created.Organization), TeamResponse.From(created.DefaultTeam), created.Admin));
    }

    private static async Task<Ok<OrganizationResponse>> GetOrganization(Guid id, HttpContext context, TenancyManagement management) =>
        TypedResults.Ok(OrganizationResponse.From(await management.GetOrganizationAsync(Caller(context), id, context.RequestAborted)));

    private static async Task<Ok<TeamResponse[]>> ListOrganizationTeams(Guid id, HttpContext context, TenancyManagement management) =>
        TypedResults.Ok((await management.ListTeamsAsync(Caller(context), id, context.RequestAborted)).Select(TeamResponse.From).ToArray());

    private static async Task<Ok<TeamResponse[]>> ListTeams(HttpContext context, TenancyManagement management) =>
        TypedResults.Ok((await management.ListTeamsAsync(Caller(context), null, context.RequestAborted)).Select(TeamResponse.From).ToArray());

    private static async Task<Created<TeamResponse>> CreateTeam(HttpContext context, TenancyManagement management)
    {
        var request = await ReadBodyAsync<CreateTeamRequest>(context);
        var team = await management.CreateTeamAsync(Caller(context), request.Name, context.RequestAborted);
        return TypedResults.Created($"{Prefix}/teams/{team.Id}", TeamResponse.From(team));
    }

    private static async Task<Ok<TeamResponse>> GetTeam(Guid id, HttpContext context, TenancyManagement management) =>
        TypedResults.Ok(TeamResponse.From(await management.GetTeamAsync(Caller(context), id, context.RequestAborted)));

    private static async Task<Ok<IReadOnlyList<MemberResponse>>> ListMembers(Guid id, HttpContext context, TenancyManagement management) =>
        TypedResults.Ok(await management.ListMembersAsync(Caller(context), id, context.RequestAborted));

    private static async Task<Ok<MemberResponse>> AddMember(Guid id, HttpContext context, TenancyManagement management) =>
        TypedResults.Ok(await management.AddMemberAsync(
            Caller(context), id, await ReadBodyAsync<AddMemberRequest>(context), context.RequestAborted));

    private static async Task<NoContent> RemoveMember(Guid id, string member, HttpContext context, TenancyManagement management)
    {
        await management.RemoveMemberAsync(Caller(context), id, member, context.RequestAborted);
        return TypedResults.NoContent();
    }

    // Filters arrive as text and are parsed here, so a malformed one is a 400 ProblemDetails naming the parameter rather
    // than a binding failure with an empty body.
    private static async Task<Ok<AuditPageResponse>> QueryAudit(
        HttpContext context,
        AuditQueryService audit,
        string? from,
        string? to,
        string? action,
        string? actor,
        string? resource_type,
        string? resource_id,
        string? organization_id,
        string? page,
        string? page_size)
    {
        var errors = new List<string>();
        var query = new AuditQuery(
            From: ParseTime(from, "from", errors),
            To: ParseTime(to, "to", errors),
            Action: action,
            Actor: actor,
            ResourceType: resource_type,
            ResourceId: resource_id,
            OrganizationId: ParseGuid(organization_id, "organization_id", errors),
            Page: ParseInt(page, "page", 1, errors),
            PageSize: ParseInt(page_size, "page_size", AuditQueryService.DefaultPageSize, errors));
        if (errors.Count > 0)
        {
            throw DomainValidationException.FromErrors(errors);
        }

        var result = await audit.QueryAsync(Caller(context), query, context.RequestAborted);
        return TypedResults.Ok(new AuditPageResponse(result.Total, result.Page, result.PageSize,
            result.Entries.Select(AuditEntryResponse.From).ToArray()));
    }

    // Every route requires an authenticated caller, so a missing identity is a defect, not a client error.
    internal static CallerIdentity Caller(HttpContext context) =>
        context.User.GetCaller() ?? throw new InvalidOperationException("The management API was reached without a caller identity.");

    // Bodies are read here rather than bound by the framework, whose failures answer an empty 400: a malformed or missing
    // body becomes a ProblemDetails 400 like every other validation error.
    internal static async Task<T> ReadBodyAsync<T>(HttpContext context)
        where T : class
    {
        if (!context.Request.HasJsonContentType())
        {
            throw new DomainValidationException("[body] must be a JSON object sent as application/json");
        }

        try
        {
            return await context.Request.ReadFromJsonAsync<T>(context.RequestAborted)
                ?? throw new DomainValidationException("[body] must be a JSON object");
        }
        catch (JsonException ex)
        {
            throw new DomainValidationException($"[body] is not valid JSON: {ex.Message}", ex);
        }
    }

    private static DateTimeOffset? ParseTime(string? value, string name, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out var time))
        {
            return time;
        }

        errors.Add($"[{name}] must be an ISO 8601 time, got [{value}]");
        return null;
    }

    private static Guid? ParseGuid(string? value, string name, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (Guid.TryParse(value, out var id))
        {
            return id;
        }

        errors.Add($"[{name}] must be a UUID, got [{value}]");
        return null;
    }

    private static int ParseInt(string? value, string name, int fallback, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return fallback;
        }

        if (int.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        errors.Add($"[{name}] must be an integer, got [{value}]");
        return fallback;
    }
}
