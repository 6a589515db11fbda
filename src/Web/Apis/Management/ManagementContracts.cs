using System.Text.Json.Serialization;
using WebConsole.Domain.Audit;
using WebConsole.Domain.Tenancy;
using WebConsole.Infrastructure.Identity;

namespace WebConsole.Web.Apis.Management;

// The management API's wire shapes. Names are snake_case like the Elasticsearch-shaped surfaces, fixed here so that a
// change of the global JSON options cannot change this contract.

/// <summary><c>GET /api/me</c>.</summary>
public sealed record MeResponse(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("organization_id")] Guid OrganizationId,
    [property: JsonPropertyName("team_id")] Guid? TeamId,
    [property: JsonPropertyName("user_id")] Guid? UserId,
    [property: JsonPropertyName("api_key_id")] string? ApiKeyId,
    [property: JsonPropertyName("privileges")] IReadOnlyList<string> Privileges,
    [property: JsonPropertyName("organization_admin")] bool OrganizationAdmin,
    [property: JsonPropertyName("platform_operator")] bool PlatformOperator,
    [property: JsonPropertyName("allowed_endpoints")] IReadOnlyList<string> AllowedEndpoints)
{
    public static MeResponse From(CallerIdentity caller) => new(
        caller.DisplayName,
        caller.OrganizationId,
        caller.TeamId,
        caller.UserId,
        caller.ApiKeyId,
        caller.Privileges.Select(PrivilegeNames.ToName).Order(StringComparer.Ordinal).ToArray(),
        caller.IsOrganizationAdmin,
        caller.IsPlatformOperator,
        caller.AllowedEndpoints);
}

/// <summary>An organization.</summary>
public sealed record OrganizationResponse(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("slug")] string Slug,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt)
{
    public static OrganizationResponse From(Organization organization) =>
        new(organization.Id, organization.Name, organization.Slug, organization.CreatedAt);
}

/// <summary><c>POST /api/organizations</c>: the organization, and optionally its first administrator.</summary>
public sealed record CreateOrganizationRequest(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("slug")] string? Slug,
    [property: JsonPropertyName("admin")] NewUserRequest? Admin);

/// <summary>The answer to <c>POST /api/organizations</c>.</summary>
public sealed record CreatedOrganizationResponse(
    [property: JsonPropertyName("organization")] OrganizationResponse Organization,
    [property: JsonPropertyName("default_team")] TeamResponse DefaultTeam,
    [property: JsonPropertyName("admin")] MemberResponse? Admin);

/// <summary>A user to find by e-mail, or to create when a password is given.</summary>
public sealed record NewUserRequest(
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("display_name")] string? DisplayName,
    [property: JsonPropertyName("password")] string? Password);

/// <summary>A team.</summary>
public sealed record TeamResponse(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("organization_id")] Guid OrganizationId,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt)
{
    public static TeamResponse From(Team team) => new(team.Id, team.OrganizationId, team.Name, team.CreatedAt);
}

/// <summary><c>POST /api/teams</c>.</summary>
public sealed record CreateTeamRequest([property: JsonPropertyName("name")] string? Name);

/// <summary>A member of a team.</summary>
public sealed record MemberResponse(
    [property: JsonPropertyName("user_id")] Guid UserId,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("display_name")] string DisplayName,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("organization_admin")] bool OrganizationAdmin,
    [property: JsonPropertyName("joined_at")] DateTimeOffset JoinedAt);

/// <summary>
/// <c>POST /api/teams/{id}/members</c>: adds an existing user by e-mail, or (organization admins only) creates a local
/// user with a one-time password they must change at the first sign-in.
/// </summary>
public sealed record AddMemberRequest(
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("role")] string? Role,
    [property: JsonPropertyName("display_name")] string? DisplayName,
    [property: JsonPropertyName("password")] string? Password);

/// <summary>One audit entry.</summary>
public sealed record AuditEntryResponse(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("organization_id")] Guid OrganizationId,
    [property: JsonPropertyName("occurred_at")] DateTimeOffset OccurredAt,
    [property: JsonPropertyName("actor")] string Actor,
    [property: JsonPropertyName("actor_user_id")] Guid? ActorUserId,
    [property: JsonPropertyName("actor_api_key_id")] string? ActorApiKeyId,
    [property: JsonPropertyName("action")] string Action,
    [property: JsonPropertyName("resource_type")] string ResourceType,
    [property: JsonPropertyName("resource_id")] string ResourceId,
    [property: JsonPropertyName("details")] string? Details,
    [property: JsonPropertyName("remote_address")] string? RemoteAddress,
    [property: JsonPropertyName("user_agent")] string? UserAgent)
{
    public static AuditEntryResponse From(AuditEntry entry) => new(
        entry.Id, entry.OrganizationId, entry.OccurredAt, entry.ActorName, entry.ActorUserId, entry.ActorApiKeyId,
        entry.Action, entry.ResourceType, entry.ResourceId, entry.Details, entry.RemoteAddress, entry.UserAgent);
}

/// <summary>A page of audit entries, newest first.</summary>
public sealed record AuditPageResponse(
    [property: JsonPropertyName("total")] int Total,
    [property: JsonPropertyName("page")] int Page,
    [property: JsonPropertyName("page_size")] int PageSize,
    [property: JsonPropertyName("entries")] IReadOnlyList<AuditEntryResponse> Entries);

/// <summary>Wire names of team roles.</summary>
public static class TeamRoleNames
{
    public const string Member = "member";

    public const string TeamAdmin = "team_admin";

    public static string ToName(TeamRole role) => role == TeamRole.TeamAdmin ? TeamAdmin : Member;

    public static TeamRole? Parse(string? name) => name switch
    {
        null or "" or Member => TeamRole.Member,
        TeamAdmin => TeamRole.TeamAdmin,
        _ => null,
    };
}
