using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using WebConsole.Domain;
using WebConsole.Domain.ApiKeys;
using WebConsole.Domain.Tenancy;
using WebConsole.Infrastructure.Audit;
using WebConsole.Infrastructure.Identity;
using WebConsole.Infrastructure.Persistence;
using WebConsole.Web.Components.Account;

namespace WebConsole.Web.Apis.Management;

/// <summary>An organization just created, with its default team and first administrator.</summary>
public sealed record CreatedOrganization(Organization Organization, Team DefaultTeam, MemberResponse? Admin);

/// <summary>
/// Organizations, teams and members: the operations behind <c>/api</c> and the portal. Every call names its caller and
/// runs on a context filtered to the caller's organization, so another organization's team is simply not found;
/// only platform operators' organization-wide operations use an unfiltered context, on purpose. Each change is
/// committed together with its audit entry.
/// </summary>
public sealed class TenancyManagement(
    ISystemDbContextFactory contexts,
    IAuditLog audit,
    IPasswordHasher<User> passwords,
    TimeProvider time)
{
    /// <summary>Organizations the caller may see: every one for an operator, else the caller's own.</summary>
    public async Task<IReadOnlyList<Organization>> ListOrganizationsAsync(CallerIdentity caller, CancellationToken ct = default)
    {
        await using var db = caller.IsPlatformOperator ? contexts.CreateDbContext() : ForCaller(caller);
        return await db.Organizations.AsNoTracking().OrderBy(o => o.CreatedAt).ThenBy(o => o.Slug).ToListAsync(ct);
    }

    /// <summary>One organization; 404 for one the caller may not see.</summary>
    public async Task<Organization> GetOrganizationAsync(CallerIdentity caller, Guid id, CancellationToken ct = default)
    {
        await using var db = caller.IsPlatformOperator ? contexts.CreateDbContext() : ForCaller(caller);
        return await db.Organizations.AsNoTracking().SingleOrDefaultAsync(o => o.Id == id, ct)
            ?? throw OrganizationNotFound(id);
    }

    /// <summary>
    /// Creates an organization with its default team (operators only) and, when <paramref name="admin"/> is given, makes
    /// that user (found by e-mail, or created with the password) its administrator and the default team's admin.
    /// </summary>
    public async Task<CreatedOrganization> CreateOrganizationAsync(
        CallerIdentity caller, string? name, string? slug, NewUserRequest? admin, CancellationToken ct = default)
    {
        if (!caller.IsPlatformOperator)
        {
            throw new ManagementAccessDeniedException("Only platform operators create organizations.");
        }

        var now = time.GetUtcNow();
        var organization = Organization.Create(Guid.CreateVersion7(now), name ?? string.Empty, slug ?? string.Empty, now);
        var team = Team.Create(Guid.CreateVersion7(now), organization.Id, IdentitySeeder.DefaultTeamName, now);

        // Crossing organizations is the point here: the slug is unique installation-wide.
        await using var db = contexts.CreateDbContext();
        if (await db.Organizations.AnyAsync(o => o.Slug == organization.Slug, ct))
        {
            throw new ResourceConflictException($"An organization with slug [{organization.Slug}] already exists.");
        }

        db.Organizations.Add(organization);
        db.Teams.Add(team);
        audit.Append(db, organization.Id, caller, "organization.create", "organization", organization.Id.ToString(),
            AuditDetails.ToJson(new { organization.Name, organization.Slug }));
        audit.Append(db, organization.Id, caller, "team.create", "team", team.Id.ToString(), AuditDetails.ToJson(new { team.Name }));

        MemberResponse? member = null;
        if (admin is not null)
        {
            var user = await FindOrCreateUserAsync(db, caller, organization.Id, admin, now, ct);
            db.OrganizationMemberships.Add(OrganizationMembership.Create(organization.Id, user.Id, OrganizationRole.OrganizationAdmin, now));
            db.TeamMemberships.Add(TeamMembership.Create(team.Id, user.Id, TeamRole.TeamAdmin, now));
            audit.Append(db, organization.Id, caller, "organization_member.add", "organization", organization.Id.ToString(),
                AuditDetails.ToJson(new { UserId = user.Id, user.Email, Role = "organization_admin" }));
            audit.Append(db, organization.Id, caller, "team_member.add", "team", team.Id.ToString(),
                AuditDetails.ToJson(new { UserId = user.Id, user.Email, Role = TeamRoleNames.TeamAdmin }));
            member = new MemberResponse(user.Id, user.Email, user.DisplayName, TeamRoleNames.TeamAdmin, OrganizationAdmin: true, now);
        }

        await db.SaveChangesAsync(ct);
        return new CreatedOrganization(organization, team, member);
    }

    /// <summary>Teams of the caller's organization, or (operators) of <paramref name="organizationId"/>.</summary>
    public async Task<IReadOnlyList<Team>> ListTeamsAsync(CallerIdentity caller, Guid? organizationId = null, CancellationToken ct = default)
    {
        var organization = organizationId ?? caller.OrganizationId;
        await using var db = caller.IsPlatformOperator ? contexts.CreateDbContext() : ForCaller(caller);
        if (!await db.Organizations.AnyAsync(o => o.Id == organization, ct))
        {
            throw OrganizationNotFound(organization);
        }

        return await db.Teams.AsNoTracking().Where(t => t.OrganizationId == organization)
            .OrderBy(t => t.CreatedAt).ThenBy(t => t.Name).ToListAsync(ct);
    }

    /// <summary>One team of the caller's organization; 404 for another organization's.</summary>
    public async Task<Team> GetTeamAsync(CallerIdentity caller, Guid teamId, CancellationToken ct = default)
    {
        await using var db = ForCaller(caller);
        return await FindTeamAsync(db, caller, teamId, ct);
    }

    /// <summary>Creates a team in the caller's organization (organization admins).</summary>
    public async Task<Team> CreateTeamAsync(CallerIdentity caller, string? name, CancellationToken ct = default)
    {
        if (!caller.IsOrganizationAdmin)
        {
            throw new ManagementAccessDeniedException("Only organization admins create teams.");
        }

        var now = time.GetUtcNow();
        var team = Team.Create(Guid.CreateVersion7(now), caller.OrganizationId, name ?? string.Empty, now);
        await using var db = ForCaller(caller);
        if (await db.Teams.AnyAsync(t => t.OrganizationId == caller.OrganizationId && t.Name == team.Name, ct))
        {
            throw new ResourceConflictException($"A team named [{team.Name}] already exists in this organization.");
        }

        db.Teams.Add(team);
        audit.Append(db, caller.OrganizationId, caller, "team.create", "team", team.Id.ToString(), AuditDetails.ToJson(new { team.Name }));
        await db.SaveChangesAsync(ct);
        return team;
    }

    /// <summary>Members of a team of the caller's organization.</summary>
    public async Task<IReadOnlyList<MemberResponse>> ListMembersAsync(CallerIdentity caller, Guid teamId, CancellationToken ct = default)
    {
        await using var db = ForCaller(caller);
        var team = await FindTeamAsync(db, caller, teamId, ct);
        var members = await (
            from membership in db.TeamMemberships.AsNoTracking()
            join user in db.Users.AsNoTracking() on membership.UserId equals user.Id
            where membership.TeamId == team.Id
            select new { user.Id, user.Email, user.DisplayName, membership.Role, membership.CreatedAt }).ToListAsync(ct);
        var admins = await db.OrganizationMemberships.AsNoTracking()
            .Where(m => m.OrganizationId == team.OrganizationId && m.Role == OrganizationRole.OrganizationAdmin)
            .Select(m => m.UserId).ToListAsync(ct);
        return members
            .OrderBy(m => m.CreatedAt).ThenBy(m => m.Email, StringComparer.Ordinal)
            .Select(m => new MemberResponse(m.Id, m.Email, m.DisplayName, TeamRoleNames.ToName(m.Role), admins.Contains(m.Id), m.CreatedAt))
            .ToList();
    }

    /// <summary>
    /// Adds a user (by e-mail) to a team with a role, or changes the role of a member. Team admins and organization admins
    /// may; only organization admins may create a new local user (with a one-time password).
    /// </summary>
    public async Task<MemberResponse> AddMemberAsync(CallerIdentity caller, Guid teamId, AddMemberRequest request, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var role = TeamRoleNames.Parse(request.Role)
            ?? throw new DomainValidationException($"[role] must be [{TeamRoleNames.Member}] or [{TeamRoleNames.TeamAdmin}], got [{request.Role}]");
        var email = User.NormalizeEmail(request.Email);

        await using var db = ForCaller(caller);
        var team = await FindTeamAsync(db, caller, teamId, ct);
        await EnsureMayAdministerAsync(db, caller, team, ct);

        var now = time.GetUtcNow();
        var user = await FindOrCreateUserAsync(db, caller, team.OrganizationId, new NewUserRequest(email, request.DisplayName, request.Password), now, ct);
        var membership = await db.TeamMemberships.SingleOrDefaultAsync(m => m.TeamId == team.Id && m.UserId == user.Id, ct);
        var action = "team_member.add";
        if (membership is null)
        {
            membership = TeamMembership.Create(team.Id, user.Id, role, now);
            db.TeamMemberships.Add(membership);
        }
        else if (membership.Role != role)
        {
            membership.ChangeRole(role);
            action = "team_member.change_role";
        }
        else
        {
            throw new ResourceConflictException($"[{email}] is already a {TeamRoleNames.ToName(role)} of team [{team.Name}].");
        }

        // Team membership implies membership of the organization (where the portal finds the user's tenant).
        var organizationMembership = await db.OrganizationMemberships
            .SingleOrDefaultAsync(m => m.OrganizationId == team.OrganizationId && m.UserId == user.Id, ct);
        if (organizationMembership is null)
        {
            db.OrganizationMemberships.Add(OrganizationMembership.Create(team.OrganizationId, user.Id, OrganizationRole.Member, now));
        }

        audit.Append(db, team.OrganizationId, caller, action, "team", team.Id.ToString(),
            AuditDetails.ToJson(new { UserId = user.Id, user.Email, Role = TeamRoleNames.ToName(role) }));
        await db.SaveChangesAsync(ct);
        return new MemberResponse(user.Id, user.Email, user.DisplayName, TeamRoleNames.ToName(role),
            organizationMembership?.IsAdmin == true, membership.CreatedAt);
    }

    /// <summary>Removes a member (by user id or e-mail) from a team; the user stays in the organization.</summary>
    public async Task RemoveMemberAsync(CallerIdentity caller, Guid teamId, string userIdOrEmail, CancellationToken ct = default)
    {
        await using var db = ForCaller(caller);
        var team = await FindTeamAsync(db, caller, teamId, ct);
        await EnsureMayAdministerAsync(db, caller, team, ct);

        var user = Guid.TryParse(userIdOrEmail, out var userId)
            ? await db.Users.SingleOrDefaultAsync(u => u.Id == userId, ct)
            : await db.Users.SingleOrDefaultAsync(u => u.Email == User.NormalizeEmail(userIdOrEmail), ct);
        var membership = user is null
            ? null
            : await db.TeamMemberships.SingleOrDefaultAsync(m => m.TeamId == team.Id && m.UserId == user.Id, ct);
        if (user is null || membership is null)
        {
            throw new ResourceNotFoundException($"[{userIdOrEmail}] is not a member of team [{team.Id}].");
        }

        db.TeamMemberships.Remove(membership);
        audit.Append(db, team.OrganizationId, caller, "team_member.remove", "team", team.Id.ToString(),
            AuditDetails.ToJson(new { UserId = user.Id, user.Email }));
        await db.SaveChangesAsync(ct);
    }

    // A context that sees only the caller's organization, whatever scope this service was resolved in.
    private WebConsoleDbContext ForCaller(CallerIdentity caller) =>
        contexts.CreateDbContext(FixedTenantContext.For(caller.OrganizationId));

    private static async Task<Team> FindTeamAsync(WebConsoleDbContext db, CallerIdentity caller, Guid teamId, CancellationToken ct) =>
        await db.Teams.SingleOrDefaultAsync(t => t.Id == teamId && t.OrganizationId == caller.OrganizationId, ct)
            ?? throw new ResourceNotFoundException($"Team [{teamId}] not found.");

    // Organization admins administer every team of their organization; a team admin (or that user's admin key) their team.
    private static async Task EnsureMayAdministerAsync(WebConsoleDbContext db, CallerIdentity caller, Team team, CancellationToken ct)
    {
        if (caller.IsOrganizationAdmin)
        {
            return;
        }

        var userActs = caller.UserId is { } && (caller.ApiKeyId is null || caller.Has(Privilege.ManageInference));
        if (userActs && await db.TeamMemberships.AnyAsync(
                m => m.TeamId == team.Id && m.UserId == caller.UserId && m.Role == TeamRole.TeamAdmin, ct))
        {
            return;
        }

        throw new ManagementAccessDeniedException($"Managing the members of team [{team.Id}] needs its team admin or an organization admin.");
    }

    // An existing user is only ever added, never changed (its password belongs to its owner, who may be in another
    // organization); a new one needs a password, and only organization admins create users.
    private async Task<User> FindOrCreateUserAsync(
        WebConsoleDbContext db, CallerIdentity caller, Guid organizationId, NewUserRequest request, DateTimeOffset now, CancellationToken ct)
    {
        var email = User.NormalizeEmail(request.Email);
        var user = await db.Users.SingleOrDefaultAsync(u => u.Email == email, ct);
        if (user is not null)
        {
            if (!string.IsNullOrEmpty(request.Password))
            {
                throw new ResourceConflictException($"A user [{email}] exists already; add it without a password.");
            }

            return user;
        }

        if (string.IsNullOrEmpty(request.Password))
        {
            throw new DomainValidationException($"[password] is required to create the new user [{email}]");
        }

        if (!caller.IsOrganizationAdmin && !caller.IsPlatformOperator)
        {
            throw new ManagementAccessDeniedException("Only organization admins create users.");
        }

        if (request.Password.Length < PortalAccounts.MinimumPasswordLength)
        {
            throw new DomainValidationException($"[password] must be at least {PortalAccounts.MinimumPasswordLength} characters");
        }

        user = User.Create(Guid.CreateVersion7(now), email, string.IsNullOrWhiteSpace(request.DisplayName) ? email : request.DisplayName, null, false, now);

        // Someone else chose this password: the user replaces it at the first sign-in.
        user.SetPasswordHash(passwords.HashPassword(user, request.Password), mustChange: true);
        db.Users.Add(user);
        audit.Append(db, organizationId, caller, "user.create", "user", user.Id.ToString(), AuditDetails.ToJson(new { user.Email }));
        return user;
    }

    private static ResourceNotFoundException OrganizationNotFound(Guid id) => new($"Organization [{id}] not found.");
}
